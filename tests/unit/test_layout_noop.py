"""Zuul's built-in `noop` job: every tenant has it, unless it defines its own."""

from __future__ import annotations

from lockgate.core.config.frozen import NO_NODES, JobGraph
from lockgate.core.config.objects import ParsedConfig
from tests.unit.layout_defs import CONFIG, at, change, job, layout_of, project, standard_config
from tests.unit.layout_defs import tenant as make_tenant


def test_a_tenant_that_defines_no_noop_gets_the_built_in_one() -> None:
    t = make_tenant("app")
    config = standard_config(
        projects=[project(CONFIG, at(CONFIG, 60), check=["noop"], gate=["noop"])]
    )
    layout = layout_of(t, (CONFIG, config))

    assert layout.errors == []
    assert [v.description for v in layout.jobs["noop"]] == ["A job that always succeeds"]
    for pipeline in ("check", "gate"):
        graph = layout.job_graph(pipeline, change(CONFIG))
        assert isinstance(graph, JobGraph), graph
        (noop,) = graph.jobs
        # no parent (not even the tenant's default), no nodes, nothing to run
        assert noop.name == "noop" and noop.ancestry == ()
        assert noop.description == "A job that always succeeds"
        assert noop.nodeset == NO_NODES
        assert (noop.pre_run, noop.run, noop.post_run, noop.cleanup_run) == ((), (), (), ())


def test_a_tenant_s_own_noop_replaces_the_built_in_one_and_a_change_can_remove_it() -> None:
    t = make_tenant("app")
    config = standard_config(jobs=[job("noop", at(CONFIG, 40), run="noop.yaml")])
    app = ParsedConfig(projects=[project("", at("app", 10), check=["noop"])])
    layout = layout_of(t, (CONFIG, config), ("app", app))

    assert [v.where for v in layout.jobs["noop"]] == [at(CONFIG, 40)]
    graph = layout.job_graph("check", change("app"))
    assert isinstance(graph, JobGraph)
    assert [p.path for p in graph.jobs[0].run] == ["noop.yaml"]
    # inherited from the tenant's base job, as any job without a parent
    assert graph.jobs[0].ancestry == ("base",)

    # a change that removes the tenant's noop leaves the built-in one
    without = layout.with_config({(CONFIG, "master"): standard_config()}, generation="2")
    assert without.errors == []
    graph = without.job_graph("check", change("app"))
    assert isinstance(graph, JobGraph)
    assert graph.jobs[0].run == () and graph.jobs[0].ancestry == ()
    # and one that defines it again replaces the built-in one again
    again = without.with_config({(CONFIG, "master"): config}, generation="3")
    assert [v.where for v in again.jobs["noop"]] == [at(CONFIG, 40)]


def test_a_layout_answers_for_its_secrets_by_name() -> None:
    from lockgate.core.config.layout import LoadedConfig, build_layout
    from lockgate.core.config.objects import ParsedConfig, SecretDef
    from lockgate.core.config.tenants import TenantDef, TenantProject

    project = TenantProject("org/config", "gerrit", trusted=True)
    parsed = ParsedConfig(secrets=[SecretDef("site-key", {"token": "x"})])
    layout = build_layout(
        TenantDef("t", config_projects=(project,)), [LoadedConfig(project, "master", parsed)]
    )
    found = layout.secret("site-key")
    assert found is not None and found.data == {"token": "x"}
    assert layout.secret("nope") is None

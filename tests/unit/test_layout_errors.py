"""Configuration errors: each names where it is, drops only the broken object,
and the rest of the layout loads."""

from __future__ import annotations

from lockgate.core.config.frozen import JobGraph
from lockgate.core.config.layout import build_layout
from lockgate.core.config.objects import (
    NodeDef,
    NodesetDef,
    ParsedConfig,
    PipelineDef,
    SecretDef,
    SecretUse,
    SemaphoreDef,
)
from lockgate.core.config.source import ConfigError
from lockgate.core.config.tenants import TenantProject
from lockgate.core.gating.layout_view import ConfigProblem
from tests.unit.layout_defs import (
    CONFIG,
    at,
    change,
    job,
    layout_of,
    loaded,
    project,
    standard_config,
    template,
    tenant,
    use,
)


def only_error(errors: object) -> ConfigError:
    assert isinstance(errors, (list, tuple)) and len(errors) == 1, errors
    error = errors[0]
    assert isinstance(error, ConfigError)
    return error


def test_a_job_whose_parent_is_not_defined_loads_and_says_why_when_it_would_run() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job("orphan", at("app", 3), parent="nowhere"),
            job("orphan-child", at("app", 6), parent="orphan"),
            job("fine", at("app", 9)),
        ],
        projects=[
            project("", at("app", 20), check=["fine"], gate=[use("orphan-child", at("app", 22))])
        ],
    )
    layout = layout_of(t, ("app", app))

    # one error, the root cause; the job and its child load all the same
    error = only_error(layout.errors)
    assert error.where == at("app", 3)
    assert error.context == 'job "orphan"'
    assert error.attribute == "parent"
    assert error.message == 'job "nowhere" is not defined in this tenant'
    assert {"orphan", "orphan-child", "fine"} <= set(layout.jobs)
    # a graph that does not need it freezes; one that does is told why
    check = layout.job_graph("check", change("app"))
    assert isinstance(check, JobGraph) and check.names() == ("fine",)
    gate = layout.job_graph("gate", change("app"))
    assert isinstance(gate, ConfigProblem)
    problem = only_error(gate.errors)
    assert problem.where == at("app", 22)
    assert problem.message == (
        'job "orphan-child" inherits from "nowhere", which is not defined in this tenant'
    )


def test_a_missing_job_is_reported_once_per_project_at_its_first_use() -> None:
    t = tenant("nova", "tempest")
    nova = ParsedConfig(
        jobs=[
            job("nova-tox", at("nova", 1), parent="openstack-tox"),
            job("nova-tox-py3", at("nova", 3), parent="openstack-tox"),
            job("nova-ok", at("nova", 4)),
        ],
        projects=[
            project(
                "",
                at("nova", 20),
                check=[use("openstack-tox-pep8", at("nova", 22)), use("nova-ok", at("nova", 23))],
                gate=[use("openstack-tox-pep8", at("nova", 30))],
            )
        ],
    )
    tempest = ParsedConfig(
        projects=[
            project("", at("tempest", 5), check=[use("openstack-tox-pep8", at("tempest", 6))])
        ]
    )
    layout = layout_of(t, ("nova", nova), ("tempest", tempest))

    messages = sorted(
        (e.where.source.project, e.where.mark.line, e.message, e.hint) for e in layout.errors
    )
    hint = "it may come from a project the tenant does not load, or be misspelt"
    assert messages == [
        (
            "nova",
            1,
            'job "openstack-tox" is not defined in this tenant '
            "(used as a parent by 2 jobs; first here)",
            hint,
        ),
        (
            "nova",
            22,
            'job "openstack-tox-pep8" is not defined in this tenant '
            "(used in 2 project pipelines; first here)",
            hint,
        ),
        ("tempest", 6, 'job "openstack-tox-pep8" is not defined in this tenant', hint),
    ]
    # a change is never gated on fewer jobs than its project asks for
    graph = layout.job_graph("check", change("nova"))
    assert isinstance(graph, ConfigProblem)
    assert [(e.where, e.message) for e in graph.errors] == [
        (at("nova", 22), 'job "openstack-tox-pep8" is not defined in this tenant')
    ]


def test_a_job_that_failed_to_load_is_named_as_such_where_it_is_used() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job("broken", at("app", 1), intermediate=True, abstract=True),
            job("broken", at("app", 2), abstract=False),
            job("child", at("app", 5), parent="broken"),
        ],
        projects=[project("", at("app", 20), check=[use("child", at("app", 21))])],
    )
    layout = layout_of(t, ("app", app))
    # a job with its own error still drops, and its users say so
    assert "child" not in layout.jobs
    assert [(e.where.mark.line, e.message) for e in layout.errors] == [
        (5, 'the parent job "broken" is intermediate; only an abstract job may inherit from it'),
        (21, 'job "child" could not be loaded; see its own error'),
    ]
    graph = layout.job_graph("check", change("app"))
    assert isinstance(graph, ConfigProblem)
    assert only_error(graph.errors).message == 'job "child" could not be loaded; see its own error'


def test_variants_of_a_job_must_stay_in_one_project() -> None:
    t = tenant("app", "other")
    app = ParsedConfig(jobs=[job("unit", at("app", 1))])
    other = ParsedConfig(jobs=[job("unit", at("other", 7), voting=False)])
    layout = layout_of(t, ("app", app), ("other", other))
    error = only_error(layout.errors)
    assert error.where == at("other", 7)
    assert "already defined in app" in error.message
    assert [v.where for v in layout.jobs["unit"]] == [at("app", 1)]


def test_inheriting_from_a_final_job_is_an_error() -> None:
    t = tenant("app")
    config = standard_config(jobs=[job("sealed", at(CONFIG, 40), final=True)])
    app = ParsedConfig(jobs=[job("mine", at("app", 2), parent="sealed")])
    error = only_error(layout_of(t, (CONFIG, config), ("app", app)).errors)
    assert error.where == at("app", 2)
    assert 'the parent job "sealed" is final' in error.message


def test_a_final_job_can_not_have_execution_attributes_changed_but_voting_can() -> None:
    t = tenant("app")
    config = standard_config(jobs=[job("sealed", at(CONFIG, 40), final=True, run="sealed.yaml")])
    app = ParsedConfig(
        projects=[
            project("", at("app", 20), check=[use("sealed", at("app", 21), voting=False)]),
            project("", at("app", 30), gate=[use("sealed", at("app", 31), run="mine.yaml")]),
        ]
    )
    layout = layout_of(t, (CONFIG, config), ("app", app))
    check = layout.job_graph("check", change("app"))
    assert isinstance(check, JobGraph) and check.jobs[0].voting is False
    error = only_error(layout.errors)
    assert error.where == at("app", 31)
    assert error.attribute == "run"
    assert 'job "sealed" is final' in error.message
    # the use is dropped, the rest of the stanza stays
    assert layout.job_graph("gate", change("app")) == JobGraph()


def test_a_branch_variant_that_is_final_is_caught_when_the_job_is_frozen() -> None:
    t = tenant("app")
    config = standard_config(
        jobs=[
            job("sealed", at(CONFIG, 40), run="sealed.yaml"),
            job("sealed", at(CONFIG, 42), branches="^master$", final=True),
        ]
    )
    app = ParsedConfig(
        projects=[project("", at("app", 30), gate=[use("sealed", at("app", 31), run="mine.yaml")])]
    )
    layout = layout_of(t, (CONFIG, config), ("app", app))
    assert layout.errors == []
    gate = layout.job_graph("gate", change("app"))
    assert isinstance(gate, ConfigProblem)
    error = only_error(gate.errors)
    assert (error.where, error.attribute) == (at("app", 31), "run")


def test_a_protected_job_is_only_inherited_and_changed_within_its_project() -> None:
    t = tenant("app")
    config = standard_config(
        jobs=[
            job("guarded", at(CONFIG, 40), protected=True),
            job("guarded-child", at(CONFIG, 45), parent="guarded"),
        ]
    )
    app = ParsedConfig(
        jobs=[job("mine", at("app", 2), parent="guarded")],
        projects=[
            project("", at("app", 20), check=[use("guarded-child", at("app", 21), timeout=5)])
        ],
    )
    layout = layout_of(t, (CONFIG, config), ("app", app))
    error = only_error(layout.errors)
    assert error.where == at("app", 2)
    assert "protected; only jobs of project-config" in error.message
    problem = layout.job_graph("check", change("app"))
    assert isinstance(problem, ConfigProblem)
    assert only_error(problem.errors).where == at("app", 21)


def test_an_abstract_job_can_not_be_run_directly_but_its_children_can() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job("template-job", at("app", 1), abstract=True),
            job("template-job", at("app", 4), abstract=False, vars={"x": 1}),
            job("real", at("app", 8), parent="template-job"),
        ],
        projects=[
            project("", at("app", 20), check=["real"]),
            project("", at("app", 30), gate=[use("template-job", at("app", 31))]),
        ],
    )
    layout = layout_of(t, ("app", app))
    assert layout.errors == []
    assert isinstance(layout.job_graph("check", change("app")), JobGraph)
    problem = layout.job_graph("gate", change("app"))
    assert isinstance(problem, ConfigProblem)
    error = only_error(problem.errors)
    assert error.where == at("app", 31)
    assert "abstract" in error.message


def test_an_intermediate_job_must_be_abstract_and_inherited_by_an_abstract_job() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job("loose", at("app", 1), intermediate=True),
            job("mid", at("app", 4), intermediate=True, abstract=True),
            job("ok", at("app", 8), parent="mid", abstract=True),
            job("bad", at("app", 12), parent="mid"),
        ]
    )
    errors = layout_of(t, ("app", app)).errors
    assert [(e.where.mark.line, e.attribute) for e in errors] == [
        (1, "intermediate"),
        (12, "parent"),
    ]


def test_parent_cycles_are_errors_on_each_job_of_the_loop() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job("a", at("app", 1), parent="b"),
            job("b", at("app", 4), parent="c"),
            job("c", at("app", 7), parent="a"),
            job("d", at("app", 10), parent="a"),
            job("e", at("app", 13)),
        ]
    )
    layout = layout_of(t, ("app", app))
    loops = [e for e in layout.errors if "loops" in e.message]
    assert sorted(e.where.mark.line for e in loops) == [1, 4, 7]
    assert any(
        "a -> b -> c -> a" in e.message
        or "b -> c -> a -> b" in e.message
        or "c -> a -> b -> c" in e.message
        for e in loops
    )
    assert set(layout.jobs) == {"base", "noop", "e"}


def test_a_base_job_outside_a_config_project_is_an_error() -> None:
    t = tenant("app")
    app = ParsedConfig(jobs=[job("my-base", at("app", 2), is_base=True)])
    error = only_error(layout_of(t, ("app", app)).errors)
    assert (error.where, error.attribute) == (at("app", 2), "parent")


def test_undefined_nodeset_secret_template_and_pipeline_references() -> None:
    t = tenant("app", "lib")
    lib = ParsedConfig(secrets=[SecretDef("lib-secret", {}, at("lib", 1))])
    app = ParsedConfig(
        jobs=[
            job("n", at("app", 1), nodeset="ghost"),
            job("s", at("app", 4), secrets=(SecretUse("x", "ghost-secret"),)),
            job("foreign", at("app", 7), secrets=(SecretUse("x", "lib-secret"),)),
            job("sem", at("app", 10), semaphores=("undefined-semaphore",)),
        ],
        projects=[
            project(
                "",
                at("app", 20),
                templates=("ghost-template",),
                deploy=["sem"],
                check=["sem"],
            )
        ],
    )
    layout = layout_of(t, ("lib", lib), ("app", app))
    found = [(e.where.mark.line, e.attribute, e.message) for e in layout.errors]
    assert found == [
        (
            7,
            "secrets",
            'the secret "lib-secret" is defined in lib; '
            "a job may only use secrets of its own project",
        ),
        (1, "nodeset", 'nodeset "ghost" is not defined in this tenant'),
        (4, "secrets", 'secret "ghost-secret" is not defined in this tenant'),
        (20, "pipeline", 'pipeline "deploy" is not defined in this tenant'),
        (20, "project-template", 'project-template "ghost-template" is not defined in this tenant'),
    ]
    # an undefined nodeset is the root cause, not the job's fault: the job loads
    assert "n" in layout.jobs and "s" not in layout.jobs and "foreign" not in layout.jobs
    # the jobs a missing template adds are unknown: no graph of the project is trusted
    graph = layout.job_graph("check", change("app"))
    assert isinstance(graph, ConfigProblem)
    assert only_error(graph.errors).message == (
        'project-template "ghost-template" is not defined in this tenant; '
        "the jobs it adds are unknown"
    )
    # an undefined semaphore is not an error: it has a max of 1
    assert layout.semaphore_max("undefined-semaphore") == 1
    fixed = layout.with_config(
        {
            ("app", "master"): ParsedConfig(
                jobs=[job("sem", at("app", 10), semaphores=("undefined-semaphore",))],
                projects=[project("", at("app", 20), check=["sem"])],
            )
        },
        generation="2",
    )
    graph = fixed.job_graph("check", change("app"))
    assert isinstance(graph, JobGraph) and graph.jobs[0].semaphores == ("undefined-semaphore",)


def test_freezing_a_job_whose_nodeset_is_not_defined_says_so() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[job("needs-nodes", at("app", 1), nodeset="ghost")],
        projects=[
            project(
                "",
                at("app", 20),
                check=[use("needs-nodes", at("app", 21))],
                gate=[use("noop", at("app", 31), nodeset="ghost-inline")],
            )
        ],
    )
    layout = layout_of(t, ("app", app))
    assert [(e.where.mark.line, e.message) for e in layout.errors] == [
        (1, 'nodeset "ghost" is not defined in this tenant'),
        (31, 'nodeset "ghost-inline" is not defined in this tenant'),
    ]
    for pipeline, line, name in (("check", 1, "ghost"), ("gate", 31, "ghost-inline")):
        graph = layout.job_graph(pipeline, change("app"))
        assert isinstance(graph, ConfigProblem), pipeline
        error = only_error(graph.errors)
        assert (error.where.mark.line, error.attribute) == (line, "nodeset")
        job_name = "needs-nodes" if pipeline == "check" else "noop"
        assert error.message == (
            f'job "{job_name}" uses the nodeset "{name}", which is not defined in this tenant'
        )


def test_defined_semaphores_give_their_max() -> None:
    t = tenant()
    config = standard_config(semaphores=[SemaphoreDef("db", max=4, where=at(CONFIG, 60))])
    assert layout_of(t, (CONFIG, config)).semaphore_max("db") == 4


def test_a_nodeset_larger_than_the_tenant_allows_is_an_error() -> None:
    t = tenant("app", max_nodes_per_job=2)
    big = NodesetDef(
        "big", nodes=tuple(NodeDef((f"n{i}",), "ubuntu") for i in range(3)), where=at(CONFIG, 70)
    )
    config = standard_config(nodesets=[big])
    app = ParsedConfig(
        jobs=[
            job("named", at("app", 1), nodeset="big"),
            job("inline", at("app", 5), nodeset=NodesetDef("", nodes=big.nodes)),
        ]
    )
    errors = layout_of(t, (CONFIG, config), ("app", app)).errors
    assert [(e.where.mark.line, e.attribute) for e in errors] == [(5, "nodeset"), (1, "nodeset")]
    assert all("the tenant allows 2" in e.message for e in errors)


def test_project_stanzas_for_other_projects() -> None:
    t = tenant("app", "other")
    config = standard_config(
        projects=[
            project("not-in-tenant", at(CONFIG, 80), check=["base"]),
            project("^o.*", at(CONFIG, 85), check=["base"]),
        ]
    )
    app = ParsedConfig(projects=[project("other", at("app", 3), check=["base"])])
    layout = layout_of(t, (CONFIG, config), ("app", app))
    found = [(e.where, e.message) for e in layout.errors]
    assert found == [
        (at(CONFIG, 80), 'the tenant has no project "not-in-tenant"'),
        (at("app", 3), 'an untrusted project may only configure itself, not "other"'),
    ]
    # the regex stanza of the config project applies to "other"
    assert layout.project_pipelines("other") == {"check": ("base",)}
    assert layout.project_pipelines("app") == {}


def test_pipelines_only_come_from_config_projects() -> None:
    t = tenant("app")
    app = ParsedConfig(pipelines=[PipelineDef("rogue", "independent", where=at("app", 1))])
    layout = layout_of(t, ("app", app))
    assert only_error(layout.errors).where == at("app", 1)
    assert "rogue" not in layout.pipeline_names()


def test_load_classes_exclude_objects_of_a_project() -> None:
    t = tenant("app")
    t = t.__class__(
        t.name,
        config_projects=t.config_projects,
        untrusted_projects=(
            TenantProject("app", "gerrit", False, load_classes=frozenset({"project"})),
        ),
    )
    app = ParsedConfig(
        jobs=[job("ignored", at("app", 1))],
        projects=[project("", at("app", 5), check=["base"])],
    )
    layout = build_layout(t, [loaded(t, CONFIG, standard_config()), loaded(t, "app", app)])
    assert "ignored" not in layout.jobs
    assert layout.project_pipelines("app") == {"check": ("base",)}


def test_a_template_job_that_is_missing_is_reported_in_the_template() -> None:
    t = tenant("app")
    config = standard_config(
        templates=[template("py", at(CONFIG, 90), check=[use("ghost", at(CONFIG, 91))])]
    )
    app = ParsedConfig(projects=[project("", at("app", 1), templates=("py",), check=["base"])])
    layout = layout_of(t, (CONFIG, config), ("app", app))
    assert [(e.where, e.context) for e in layout.errors] == [
        (at(CONFIG, 91), 'project-template "py"')
    ]


def test_parser_errors_are_kept_with_the_layout() -> None:
    t = tenant("app")
    parse_error = ConfigError(at("app", 9), "unknown attribute", attribute="job.colour")
    layout = layout_of(t, ("app", ParsedConfig(errors=[parse_error])))
    assert layout.errors == [parse_error]
    assert layout.errors_for("app") == (parse_error,)

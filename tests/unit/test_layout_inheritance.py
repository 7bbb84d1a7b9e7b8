"""How a job is frozen from its parents and variants, as Zuul combines them."""

from __future__ import annotations

from lockgate.core.config.frozen import JobGraph
from lockgate.core.config.objects import (
    ParsedConfig,
    PlaybookRef,
    RequiredProject,
    SecretDef,
    SecretUse,
)
from lockgate.core.config.source import Tagged
from lockgate.core.gating.layout_view import ConfigProblem
from tests.unit.layout_defs import (
    CONFIG,
    at,
    change,
    job,
    layout_of,
    project,
    ref,
    standard_config,
    tenant,
    use,
)


def graph_of(layout, pipeline, subject) -> JobGraph:  # type: ignore[no-untyped-def]
    graph = layout.job_graph(pipeline, subject)
    assert isinstance(graph, JobGraph), graph
    return graph


def test_a_child_inherits_through_its_parent_to_the_base_job() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job("tox", at("app", 1), run="playbooks/tox.yaml", vars={"env": "py"}, timeout=600),
            job("tox-py311", at("app", 10), parent="tox", vars={"python": "3.11"}),
        ],
        projects=[project("", at("app", 20), check=["tox-py311"])],
    )
    graph = graph_of(layout_of(t, ("app", app)), "check", change("app"))

    frozen = graph.get("tox-py311")
    assert frozen is not None
    assert frozen.ancestry == ("tox", "base")
    assert frozen.timeout == 600
    assert frozen.vars == {
        "site": "example",
        "nested": {"a": 1, "b": 1},
        "env": "py",
        "python": "3.11",
    }
    # parent playbooks are kept, run replaced by the nearest definition
    assert [p.path for p in frozen.run] == ["playbooks/tox.yaml"]
    assert frozen.variants == ("project-config/zuul.yaml:30", "app/zuul.yaml:1", "app/zuul.yaml:10")
    assert frozen.where == at("app", 10)


def test_playbooks_nest_pre_run_parent_first_and_post_run_child_first() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job("mid", at("app", 1), pre_run="mid/pre.yaml", post_run="mid/post.yaml"),
            job(
                "leaf",
                at("app", 5),
                parent="mid",
                pre_run="leaf/pre.yaml",
                post_run="leaf/post.yaml",
            ),
        ],
        projects=[project("", at("app", 20), check=["leaf"])],
    )
    frozen = graph_of(layout_of(t, ("app", app)), "check", change("app")).jobs[0]

    assert [p.path for p in frozen.pre_run] == [
        "playbooks/base/pre.yaml",
        "mid/pre.yaml",
        "leaf/pre.yaml",
    ]
    assert [p.path for p in frozen.post_run] == [
        "leaf/post.yaml",
        "mid/post.yaml",
        "playbooks/base/post.yaml",
    ]
    # each playbook runs in the context of the project that defined it
    assert [(p.project, p.trusted) for p in frozen.pre_run] == [
        (CONFIG, True),
        ("app", False),
        ("app", False),
    ]


def test_branch_variants_apply_in_definition_order_on_matching_branches_only() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job("unit", at("app", 1), run="unit.yaml", nodeset=None, vars={"v": "default"}),
            job("unit", at("app", 5), branches="^stable/.*", vars={"v": "stable"}, voting=False),
            job("unit", at("app", 9), branches="stable/2024", attempts=1),
        ],
    )
    # a config project's stanza applies to every branch (an untrusted one's to its own)
    config = standard_config(projects=[project("app", at(CONFIG, 50), check=["unit"])])
    layout = layout_of(t, (CONFIG, config), ("app", app))

    master = graph_of(layout, "check", change("app", "master")).jobs[0]
    stable = graph_of(layout, "check", change("app", "stable/2024")).jobs[0]
    other = graph_of(layout, "check", change("app", "stable/2023")).jobs[0]

    assert (master.vars["v"], master.voting, master.attempts) == ("default", True, 3)
    assert (stable.vars["v"], stable.voting, stable.attempts) == ("stable", False, 1)
    assert (other.vars["v"], other.voting, other.attempts) == ("stable", False, 3)


def test_a_job_with_no_matching_variant_does_not_run() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[job("stable-only", at("app", 1), branches="^stable/")],
        projects=[project("", at("app", 20), check=["stable-only"])],
    )
    assert len(graph_of(layout_of(t, ("app", app)), "check", change("app"))) == 0


def test_an_untrusted_multi_branch_project_has_implied_branch_matchers() -> None:
    t = tenant("app")
    master = ParsedConfig(
        jobs=[job("unit", at("app", 1), vars={"from": "master"})],
        projects=[project("", at("app", 20), check=["unit"])],
    )
    stable_where = at("app", 1, branch="stable/1")
    stable = ParsedConfig(
        jobs=[job("unit", stable_where, vars={"from": "stable"})],
        projects=[project("", at("app", 20, branch="stable/1"), check=["unit"])],
    )
    layout = layout_of(t, ("app", master, "master"), ("app", stable, "stable/1"))

    on_master = graph_of(layout, "check", change("app", "master")).jobs[0]
    on_stable = graph_of(layout, "check", change("app", "stable/1")).jobs[0]
    assert on_master.vars["from"] == "master"
    assert on_stable.vars["from"] == "stable"
    assert on_stable.variants[-1] == "app/zuul.yaml:1"


def test_vars_precedence_inline_variant_over_job_over_project() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[job("unit", at("app", 1), vars={"level": "job", "job_only": 1, "nested": {"b": 2}})],
        projects=[
            project(
                "",
                at("app", 20),
                vars={"level": "project", "project_only": 1, "nested": {"c": 3}},
                check=[use("unit", at("app", 25), vars={"level": "inline"})],
            )
        ],
    )
    frozen = graph_of(layout_of(t, ("app", app)), "check", change("app")).jobs[0]
    assert frozen.vars == {
        "site": "example",
        "nested": {"a": 1, "b": 2, "c": 3},
        "level": "inline",
        "job_only": 1,
        "project_only": 1,
    }


def test_override_and_inherit_tags_change_how_lists_and_vars_combine() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job("parent", at("app", 1), tags=("a", "b"), files=("src/.*",), dependencies=("lint",)),
            job("lint", at("app", 3)),
            job(
                "replaces",
                at("app", 5),
                parent="parent",
                tags=("c",),
                vars={"nested": {"z": 0}},
                merge_tags={"tags": "override", "vars": "override"},
            ),
            job(
                "extends",
                at("app", 9),
                parent="parent",
                tags=("c",),
                files=("docs/.*",),
                dependencies=("other",),
                merge_tags={"files": "inherit", "dependencies": "inherit"},
            ),
            job("other", at("app", 12)),
        ],
        projects=[project("", at("app", 20), check=["lint", "other", "replaces", "extends"])],
    )
    graph = graph_of(layout_of(t, ("app", app)), "check", change("app", files=("src/x.py",)))
    replaces = graph.get("replaces")
    extends = graph.get("extends")
    assert replaces is not None and extends is not None
    assert replaces.tags == ("c",)
    assert replaces.vars == {"nested": {"z": 0}}
    assert extends.tags == ("a", "b", "c")
    assert [d.name for d in extends.dependencies] == ["lint", "other"]
    assert [d.name for d in replaces.dependencies] == ["lint"]


def test_required_projects_semaphores_and_provides_accumulate() -> None:
    t = tenant("app", "lib")
    app = ParsedConfig(
        jobs=[
            job(
                "parent",
                at("app", 1),
                required_projects=(RequiredProject("lib"),),
                semaphores=("db",),
                provides=("image",),
            ),
            job(
                "child",
                at("app", 5),
                parent="parent",
                required_projects=(
                    RequiredProject("lib", override_checkout="stable"),
                    RequiredProject("app"),
                ),
                semaphores=("net",),
                provides=("wheel",),
            ),
        ],
        projects=[project("", at("app", 20), check=["child"])],
    )
    frozen = graph_of(layout_of(t, ("app", app)), "check", change("app")).jobs[0]
    assert [(r.name, r.override_checkout) for r in frozen.required_projects] == [
        ("lib", "stable"),
        ("app", None),
    ]
    assert frozen.semaphores == ("db", "net")
    assert frozen.provides == ("image", "wheel")


def test_allowed_projects_are_intersected_and_ignored_for_config_project_stanzas() -> None:
    t = tenant("app", "other")
    config = standard_config(
        projects=[project("other", at(CONFIG, 50), check=["restricted"])],
    )
    app = ParsedConfig(
        jobs=[
            job("wide", at("app", 1), allowed_projects=("app", "other")),
            job("restricted", at("app", 5), parent="wide", allowed_projects=("app",)),
        ],
        projects=[project("", at("app", 20), check=["restricted"])],
    )
    other = ParsedConfig(projects=[project("", at("other", 1), gate=["restricted"])])
    layout = layout_of(t, (CONFIG, config), ("app", app), ("other", other))

    assert len(graph_of(layout, "check", change("app"))) == 1
    # the config project may add it anywhere
    assert len(graph_of(layout, "check", change("other"))) == 1
    problem = layout.job_graph("gate", change("other"))
    assert isinstance(problem, ConfigProblem)
    assert "other is not allowed to run this job" in problem.errors[0].message
    assert problem.errors[0].where == at("other", 1)


def test_secrets_are_bound_to_the_playbooks_of_the_job_that_names_them() -> None:
    t = tenant("app")
    app = ParsedConfig(
        secrets=[
            SecretDef(
                "token", {"key": Tagged("!encrypted/pkcs1-oaep", "abc", at("app", 2))}, at("app", 1)
            )
        ],
        jobs=[
            job("publish-base", at("app", 5), run="publish.yaml", post_run="collect.yaml"),
            job(
                "publish",
                at("app", 10),
                parent="publish-base",
                pre_run="auth.yaml",
                secrets=(SecretUse("api_token", "token"),),
            ),
            job(
                "publish-deep",
                at("app", 15),
                parent="publish-base",
                pre_run="auth.yaml",
                secrets=(SecretUse("api_token", "token", pass_to_parent=True),),
            ),
        ],
        projects=[project("", at("app", 20), post=["publish", "publish-deep"], check=["publish"])],
    )
    layout = layout_of(t, ("app", app))
    graph = graph_of(layout, "post", ref("app"))
    publish = graph.get("publish")
    deep = graph.get("publish-deep")
    assert publish is not None and deep is not None

    assert publish.post_review
    assert [s.name for s in publish.secrets] == ["api_token"]
    assert {p.path: p.secrets for p in (*publish.pre_run, *publish.run, *publish.post_run)} == {
        "playbooks/base/pre.yaml": (),
        "auth.yaml": ("api_token",),
        "publish.yaml": (),
        "collect.yaml": (),
        "playbooks/base/post.yaml": (),
    }
    # pass-to-parent shares it with the playbooks of every parent
    assert all(p.secrets == ("api_token",) for p in (*deep.pre_run, *deep.run, *deep.post_run))
    # an untrusted secret makes the job post-review: not for check
    problem = layout.job_graph("check", change("app"))
    assert isinstance(problem, ConfigProblem)
    assert "post-review" in problem.errors[0].message


def test_timeout_is_capped_by_the_tenant_maximum() -> None:
    t = tenant("app", max_job_timeout=3600)
    app = ParsedConfig(
        jobs=[
            job("slow", at("app", 1), timeout=7200, post_timeout=9000),
            job("plain", at("app", 5)),
        ],
        projects=[project("", at("app", 20), check=["slow", "plain"])],
    )
    graph = graph_of(layout_of(t, ("app", app)), "check", change("app"))
    assert [(j.timeout, j.post_timeout) for j in graph.jobs] == [(3600, 3600), (3600, None)]


def test_roles_of_a_child_come_first_and_do_not_reach_parent_playbooks() -> None:
    from lockgate.core.config.objects import RoleRef

    t = tenant("app", "roles-a", "roles-b")
    app = ParsedConfig(
        jobs=[
            job("parent", at("app", 1), roles=(RoleRef("roles-a"),), pre_run="parent-pre.yaml"),
            job(
                "child",
                at("app", 5),
                parent="parent",
                roles=(RoleRef("roles-b"),),
                run="child.yaml",
            ),
        ],
        projects=[project("", at("app", 20), check=["child"])],
    )
    frozen = graph_of(layout_of(t, ("app", app)), "check", change("app")).jobs[0]
    assert [r.project for r in frozen.roles] == ["roles-b", "roles-a"]
    by_path = {p.path: [r.project for r in p.roles] for p in (*frozen.pre_run, *frozen.run)}
    assert by_path["parent-pre.yaml"] == ["roles-a"]
    assert by_path["child.yaml"] == ["roles-b", "roles-a"]


def test_cleanup_post_run_playbooks_are_cleanup_playbooks() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job(
                "unit",
                at("app", 1),
                post_run=(PlaybookRef("logs.yaml"), PlaybookRef("wipe.yaml", cleanup=True)),
            )
        ],
        projects=[project("", at("app", 20), check=["unit"])],
    )
    frozen = graph_of(layout_of(t, ("app", app)), "check", change("app")).jobs[0]
    assert [p.path for p in frozen.post_run] == ["logs.yaml", "playbooks/base/post.yaml"]
    assert [p.path for p in frozen.cleanup_run] == ["wipe.yaml"]

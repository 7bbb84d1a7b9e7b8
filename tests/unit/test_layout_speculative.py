"""Speculative layouts, queues, and what the layout tells the API."""

from __future__ import annotations

from lockgate.core.config.frozen import JobGraph
from lockgate.core.config.objects import (
    NodeDef,
    NodesetDef,
    ParsedConfig,
    ProjectDef,
    ProjectPipelineDef,
    QueueDef,
)
from lockgate.core.gating.layout_view import ConfigProblem, QueueSpec
from tests.unit.layout_defs import (
    CONFIG,
    at,
    change,
    job,
    layout_of,
    project,
    standard_config,
    template,
    tenant,
    use,
)


def two_projects():  # type: ignore[no-untyped-def]
    t = tenant("app", "lib")
    app = ParsedConfig(
        jobs=[job("app-unit", at("app", 1)), job("app-shared", at("app", 4))],
        projects=[project("", at("app", 10), check=["app-unit"])],
    )
    lib = ParsedConfig(
        jobs=[job("lib-unit", at("lib", 1), parent="app-shared")],
        projects=[project("", at("lib", 10), check=["lib-unit"])],
    )
    return t, layout_of(t, ("app", app), ("lib", lib))


def test_with_config_replaces_one_project_and_reuses_the_others() -> None:
    _, layout = two_projects()
    proposed = ParsedConfig(
        jobs=[job("app-unit", at("app", 1), voting=False), job("app-shared", at("app", 4))],
        projects=[project("", at("app", 10), check=["app-unit", use("app-new", at("app", 12))])],
    )
    speculative = layout.with_config({("app", "master"): proposed}, generation="2:change-5")

    assert speculative.generation == "2:change-5"
    assert layout.generation == "1"
    assert speculative.jobs["app-unit"][0].voting is False
    # the change is told why its check jobs cannot run
    graph = speculative.job_graph("check", change("app"))
    assert isinstance(graph, ConfigProblem)
    assert [e.message for e in graph.errors] == ['job "app-new" is not defined in this tenant']
    # the change's own error is its project's; the others have none
    assert [e.message for e in speculative.errors_for("app")] == [
        'job "app-new" is not defined in this tenant'
    ]
    assert speculative.errors_for("lib") == ()
    # the tenant's layout is untouched
    assert layout.errors == []
    original = layout.job_graph("check", change("app"))
    assert isinstance(original, JobGraph) and original.jobs[0].voting is True
    # layers of projects that did not change are the same objects
    assert speculative._layers[2] is layout._layers[2]
    assert speculative._layers[1] is not layout._layers[1]


def test_a_change_that_removes_a_parent_breaks_the_children_in_other_projects() -> None:
    _, layout = two_projects()
    proposed = ParsedConfig(
        jobs=[job("app-unit", at("app", 1))],
        projects=[project("", at("app", 10), check=["app-unit"])],
    )
    speculative = layout.with_config({("app", "master"): proposed}, generation="3")
    assert speculative.errors_for("app") == ()
    # one root cause; the child still loads, and a graph that runs it says why
    assert [(e.where, e.message) for e in speculative.errors_for("lib")] == [
        (at("lib", 1), 'job "app-shared" is not defined in this tenant'),
    ]
    assert "lib-unit" in speculative.jobs
    graph = speculative.job_graph("check", change("lib"))
    assert isinstance(graph, ConfigProblem)
    assert [e.message for e in graph.errors] == [
        'job "lib-unit" inherits from "app-shared", which is not defined in this tenant'
    ]
    # the tenant's own layout still runs it
    assert isinstance(layout.job_graph("check", change("lib")), JobGraph)


def test_with_config_adds_a_branch_that_had_no_configuration() -> None:
    _, layout = two_projects()
    stable = ParsedConfig(
        jobs=[job("app-unit", at("app", 1, branch="stable"), vars={"stable": True})],
        projects=[project("", at("app", 10, branch="stable"), check=["app-unit"])],
    )
    speculative = layout.with_config({("app", "stable"): stable}, generation="4")
    on_stable = speculative.job_graph("check", change("app", "stable"))
    on_master = speculative.job_graph("check", change("app", "master"))
    assert isinstance(on_stable, JobGraph) and on_stable.jobs[0].vars == {
        "site": "example",
        "nested": {"a": 1, "b": 1},
        "stable": True,
    }
    # two branches now: the master definition no longer applies to stable
    assert isinstance(on_master, JobGraph) and "stable" not in on_master.jobs[0].vars


def test_queue_for_uses_the_project_queue_and_its_settings() -> None:
    t = tenant("app", "lib", "solo", "legacy", "absent")
    config = standard_config(
        queues=[
            QueueDef(
                "integrated",
                per_branch=True,
                allow_circular_dependencies=True,
                where=at(CONFIG, 70),
            )
        ],
        templates=[template("queued", at(CONFIG, 75), queue="from-template", gate=["base"])],
    )
    app = ParsedConfig(projects=[project("", at("app", 1), queue="integrated", gate=["base"])])
    lib = ParsedConfig(projects=[project("", at("lib", 1), templates=("queued",))])
    solo = ParsedConfig(projects=[project("", at("solo", 1), gate=["base"])])
    legacy = ParsedConfig(
        projects=[
            ProjectDef(
                "",
                where=at("legacy", 1),
                pipelines={
                    "gate": ProjectPipelineDef(
                        jobs=(use("base", at("legacy", 2)),), queue="old-style"
                    )
                },
            )
        ]
    )
    layout = layout_of(
        t, (CONFIG, config), ("app", app), ("lib", lib), ("solo", solo), ("legacy", legacy)
    )

    assert layout.queue_for("gate", "app") == QueueSpec(
        "integrated", per_branch=True, allow_circular_dependencies=True
    )
    assert layout.queue_for("gate", "lib") == QueueSpec("from-template")
    assert layout.queue_for("gate", "solo") == QueueSpec("solo")
    assert layout.queue_for("gate", "legacy") == QueueSpec("old-style")
    assert layout.queue_for("check", "app") is None
    assert layout.queue_for("gate", "absent") is None


def test_projects_share_a_queue_by_name() -> None:
    t = tenant("nova", "glance")
    config = standard_config(
        projects=[
            project("nova", at(CONFIG, 80), queue="integrated", gate=["base"]),
            project("glance", at(CONFIG, 85), queue="integrated", gate=["base"]),
        ]
    )
    layout = layout_of(t, (CONFIG, config))
    assert (
        layout.queue_for("gate", "nova")
        == layout.queue_for("gate", "glance")
        == QueueSpec("integrated")
    )


def test_merge_mode_default_branch_and_project_pipelines() -> None:
    t = tenant("app", "other")
    config = standard_config(
        projects=[project("app", at(CONFIG, 80), merge_mode="cherry-pick", gate=["base"])]
    )
    app = ParsedConfig(
        jobs=[job("unit", at("app", 1))],
        projects=[project("", at("app", 5), merge_mode="rebase", check=["unit", "base"])],
    )
    layout = layout_of(t, (CONFIG, config), ("app", app))
    assert layout.merge_mode("app") == "cherry-pick"
    assert layout.merge_mode("other") == "merge"
    assert layout.default_branch("app") == "master"
    assert layout.project_pipelines("app") == {"gate": ("base",), "check": ("unit", "base")}
    assert layout.project_names() == (CONFIG, "app", "other")
    assert list(layout.pipeline_names()) == ["check", "gate", "post"]
    assert layout.pipeline("gate").manager == "dependent"
    assert layout.max_dependencies() is None


def test_a_change_that_defines_a_missing_ancestor_lets_its_descendants_run() -> None:
    t = tenant("app", "lib")
    app = ParsedConfig(projects=[project("", at("app", 10), check=["lib-unit"])])
    lib = ParsedConfig(
        jobs=[
            job("lib-base", at("lib", 1), parent="common"),
            job("lib-unit", at("lib", 5), parent="lib-base", nodeset="small"),
        ]
    )
    layout = layout_of(t, ("app", app), ("lib", lib))
    assert [e.message for e in layout.errors] == [
        'job "common" is not defined in this tenant',
        'nodeset "small" is not defined in this tenant',
    ]
    graph = layout.job_graph("check", change("app"))
    assert isinstance(graph, ConfigProblem)
    assert [e.message for e in graph.errors] == [
        'job "lib-unit" inherits from "common", which is not defined in this tenant'
    ]

    fixed = standard_config(
        jobs=[*standard_config().jobs, job("common", at(CONFIG, 40))],
        nodesets=[NodesetDef("small", (NodeDef(("node",), "ubuntu"),), where=at(CONFIG, 50))],
    )
    speculative = layout.with_config({(CONFIG, "master"): fixed}, generation="2")
    assert speculative.errors == []
    graph = speculative.job_graph("check", change("app"))
    assert isinstance(graph, JobGraph), graph
    (unit,) = graph.jobs
    assert unit.ancestry == ("lib-base", "common", "base")
    assert unit.nodeset.name == "small"

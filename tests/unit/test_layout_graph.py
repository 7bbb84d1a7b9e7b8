"""Which jobs an item runs in a pipeline, and in which order."""

from __future__ import annotations

from lockgate.core.config.frozen import JobGraph
from lockgate.core.config.objects import JobDependency, ParsedConfig, ProjectPipelineDef
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
    template,
    tenant,
    use,
)


def names(layout, pipeline, subject) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    graph = layout.job_graph(pipeline, subject)
    assert isinstance(graph, JobGraph), graph
    return graph.names()


def test_templates_come_first_then_the_stanza_and_stanzas_combine() -> None:
    t = tenant("app")
    config = standard_config(
        jobs=[
            job(n, at(CONFIG, 40 + i)) for i, n in enumerate(("docs", "lint", "py", "site-check"))
        ],
        templates=[
            template("python", at(CONFIG, 50), check=["py", "lint"]),
            template("docs", at(CONFIG, 55), check=["docs"], gate=["docs"]),
        ],
        projects=[project("app", at(CONFIG, 60), templates=("python",), check=["site-check"])],
    )
    app = ParsedConfig(
        jobs=[job("unit", at("app", 1))],
        projects=[project("", at("app", 10), templates=("docs",), check=["unit", "py"])],
    )
    layout = layout_of(t, (CONFIG, config), ("app", app))
    assert names(layout, "check", change("app")) == ("py", "lint", "site-check", "docs", "unit")
    assert names(layout, "gate", change("app")) == ("docs",)
    assert names(layout, "post", ref("app")) == ()


def test_a_job_named_twice_gets_both_inline_variants_in_order() -> None:
    t = tenant("app")
    config = standard_config(
        jobs=[job("unit", at(CONFIG, 40))],
        templates=[
            template(
                "t", at(CONFIG, 50), check=[use("unit", at(CONFIG, 51), vars={"a": 1, "b": 1})]
            )
        ],
    )
    app = ParsedConfig(
        projects=[
            project(
                "",
                at("app", 10),
                templates=("t",),
                check=[use("unit", at("app", 11), vars={"b": 2})],
            )
        ]
    )
    graph = layout_of(t, (CONFIG, config), ("app", app)).job_graph("check", change("app"))
    assert isinstance(graph, JobGraph)
    assert graph.jobs[0].vars["a"] == 1 and graph.jobs[0].vars["b"] == 2
    assert graph.jobs[0].variants[-2:] == ("project-config/zuul.yaml:51", "app/zuul.yaml:11")


def test_an_untrusted_stanza_applies_only_to_changes_on_its_branch() -> None:
    t = tenant("app")
    master = ParsedConfig(
        jobs=[job("unit", at("app", 1))], projects=[project("", at("app", 5), check=["unit"])]
    )
    layout = layout_of(t, ("app", master, "master"))
    assert names(layout, "check", change("app", "master")) == ("unit",)
    assert names(layout, "check", change("app", "feature")) == ()
    # a tag has no branch: every stanza applies
    assert names(layout, "check", ref("app", "refs/tags/1.0")) == ("unit",)


def test_files_and_irrelevant_files_decide_whether_a_job_runs() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job("docs-build", at("app", 1), files=("^doc/.*",)),
            job("unit", at("app", 4), irrelevant_files=("^doc/.*", r".*\.rst$")),
        ],
        projects=[
            project("", at("app", 10), check=["docs-build", "unit"], post=["docs-build", "unit"])
        ],
    )
    layout = layout_of(t, ("app", app))
    assert names(layout, "check", change("app", files=("doc/index.rst",))) == ("docs-build",)
    assert names(layout, "check", change("app", files=("src/a.py",))) == ("unit",)
    assert names(layout, "check", change("app", files=("doc/a.rst", "src/a.py"))) == (
        "docs-build",
        "unit",
    )
    # no files (a ref, an empty commit): the matchers are ignored
    assert names(layout, "post", ref("app")) == ("docs-build", "unit")
    assert names(layout, "check", change("app", files=())) == ("docs-build", "unit")
    # Gerrit's commit-message pseudo-file is no changed file
    assert names(layout, "check", change("app", files=("/COMMIT_MSG", "doc/x"))) == ("docs-build",)


def test_an_inline_variant_may_override_the_file_matchers() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[job("unit", at("app", 1), files=("^src/",))],
        projects=[project("", at("app", 10), check=[use("unit", at("app", 11), files=("^doc/",))])],
    )
    layout = layout_of(t, ("app", app))
    assert names(layout, "check", change("app", files=("doc/a",))) == ("unit",)
    assert names(layout, "check", change("app", files=("src/a",))) == ()


def test_a_change_to_the_configuration_bypasses_file_matchers() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job("docs-build", at("app", 1), files=("^doc/",)),
            job("strict", at("app", 4), files=("^doc/",), match_on_config_updates=False),
            job("playbook-owner", at("app", 7), files=("^doc/",), run="playbooks/owner.yaml"),
        ],
        projects=[project("", at("app", 10), check=["docs-build", "strict", "playbook-owner"])],
    )
    layout = layout_of(t, ("app", app))
    assert names(layout, "check", change("app", files=(".zuul.yaml",))) == (
        "docs-build",
        "playbook-owner",
    )
    assert names(layout, "check", change("app", files=("zuul.d/jobs.yaml",))) == (
        "docs-build",
        "playbook-owner",
    )
    # a change to a job's own playbook tests the job
    assert names(layout, "check", change("app", files=("playbooks/owner.yaml",))) == (
        "playbook-owner",
    )
    assert names(layout, "check", change("app", files=("src/x",))) == ()


def test_jobs_follow_their_dependencies_and_keep_project_order_otherwise() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job("deploy", at("app", 1), dependencies=("build", "test")),
            job("test", at("app", 4), dependencies=("build",)),
            job("lint", at("app", 7)),
            job("build", at("app", 10)),
        ],
        projects=[project("", at("app", 20), check=["deploy", "test", "lint", "build"])],
    )
    graph = layout_of(t, ("app", app)).job_graph("check", change("app"))
    assert isinstance(graph, JobGraph)
    assert graph.names() == ("lint", "build", "test", "deploy")
    assert graph.parents("deploy") == ("build", "test")
    assert graph.dependants("build") == ("test", "deploy")


def test_a_soft_dependency_on_a_job_that_does_not_run_is_dropped() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job("docs", at("app", 1), files=("^doc/",)),
            job("publish", at("app", 4), dependencies=(JobDependency("docs", soft=True), "build")),
            job("build", at("app", 7)),
        ],
        projects=[project("", at("app", 20), check=["docs", "publish", "build"])],
    )
    graph = layout_of(t, ("app", app)).job_graph("check", change("app", files=("src/x",)))
    assert isinstance(graph, JobGraph)
    assert graph.names() == ("build", "publish")
    assert graph.parents("publish") == ("build",)


def test_a_hard_dependency_on_a_job_that_does_not_run_is_a_problem() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job("docs", at("app", 1), files=("^doc/",)),
            job("publish", at("app", 4), dependencies=("docs",)),
            job("absent-dep", at("app", 7), dependencies=("never-listed",)),
        ],
        projects=[project("", at("app", 20), check=["docs", "publish", "absent-dep"])],
    )
    problem = layout_of(t, ("app", app)).job_graph("check", change("app", files=("src/x",)))
    assert isinstance(problem, ConfigProblem)
    assert [(e.where.mark.line, e.message) for e in problem.errors] == [
        (4, 'the job depends on "docs", which does not run for this item'),
        (7, 'the job depends on "never-listed", which does not run for this item'),
    ]


def test_a_dependency_loop_is_a_problem_naming_the_loop() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[
            job("first", at("app", 1)),
            job("a", at("app", 4), dependencies=("b",)),
            job("b", at("app", 7), dependencies=("c",)),
            job("c", at("app", 10), dependencies=("a",)),
        ],
        projects=[project("", at("app", 20), check=["first", "a", "b", "c"])],
    )
    problem = layout_of(t, ("app", app)).job_graph("check", change("app"))
    assert isinstance(problem, ConfigProblem)
    assert len(problem.errors) == 1
    assert problem.errors[0].message == "the job dependencies loop: a -> b -> c -> a"
    assert problem.errors[0].where == at("app", 4)


def test_fail_fast_comes_from_the_first_section_that_sets_it() -> None:
    t = tenant("app")
    app = ParsedConfig(
        jobs=[job("unit", at("app", 1))],
        projects=[
            project("", at("app", 10)),
        ],
    )
    app.projects[0] = app.projects[0].__class__(
        "",
        where=at("app", 10),
        pipelines={"gate": ProjectPipelineDef(jobs=(use("unit", at("app", 11)),), fail_fast=True)},
    )
    graph = layout_of(t, ("app", app)).job_graph("gate", change("app"))
    assert isinstance(graph, JobGraph) and graph.fail_fast


def test_an_unknown_pipeline_is_a_problem_not_an_exception() -> None:
    layout = layout_of(tenant("app"))
    assert isinstance(layout.job_graph("nope", change("app")), ConfigProblem)
    assert layout.job_graph("check", change("app")) == JobGraph()


def test_a_negated_regex_matches_what_its_pattern_does_not() -> None:
    class NegatedRegex(str):  # as the parser writes `{regex: ..., negate: true}`
        __slots__ = ()

    t = tenant("app")
    app = ParsedConfig(
        jobs=[job("not-stable", at("app", 1), branches=(NegatedRegex("^stable/"),))],
    )
    config = standard_config(projects=[project("app", at(CONFIG, 50), check=["not-stable"])])
    layout = layout_of(t, (CONFIG, config), ("app", app))
    assert names(layout, "check", change("app", "master")) == ("not-stable",)
    assert names(layout, "check", change("app", "stable/1")) == ()

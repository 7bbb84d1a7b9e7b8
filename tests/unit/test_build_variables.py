"""A build's inventory, `zuul` variables, checkout choice and result, as data."""

from __future__ import annotations

import pytest

from lockgate.core.builds.results import (
    ABORTED,
    ERROR,
    FAILED,
    OK,
    TIMED_OUT,
    UNREACHABLE,
    PlaybookOutcome,
    build_result,
)
from lockgate.core.builds.variables import (
    BuildPaths,
    CheckedOut,
    InventoryError,
    extra_variables,
    inventory,
    zuul_variables,
)
from lockgate.core.builds.workspace import choose_branch, plan
from lockgate.core.config.frozen import FrozenJob
from lockgate.core.config.objects import GroupDef, NodeDef, NodesetDef, RequiredProject
from lockgate.core.gating.actions import StartBuild
from lockgate.core.gating.changes import Change
from lockgate.core.nodes.model import Node


def change(number: int, project: str = "org/app") -> Change:
    return Change(
        project, "master", number, 2, f"{number:040x}", f"refs/changes/{number:02d}/{number}/2",
        f"http://review.test/c/{project}/+/{number}", "ada",
        f"Change {number}", f"Change {number}\n",
    )  # fmt: skip


def build(job: FrozenJob, *changes: Change) -> StartBuild:
    return StartBuild(
        build="b" * 32, item="i1", buildset="s1", tenant="example", pipeline="gate", job=job,
        attempt=2, changes=changes, ref=None, precedence=0, relative_priority=1,
    )  # fmt: skip


def node(nid: str, host: str) -> Node:
    return Node(nid, "small", "cloud", "p1", "in-use", 0.0, 0.0,
                connection={"ansible_host": host, "ansible_user": "zuul"})  # fmt: skip


TWO = NodesetDef(
    "pair",
    (NodeDef(("controller",), "small"), NodeDef(("compute",), "small")),
    (GroupDef("workers", ("compute",)),),
)


def test_nodes_map_to_nodeset_names_with_their_connection_and_vars_in_zuul_precedence() -> None:
    job = FrozenJob(
        "deploy", nodeset=TWO, vars={"level": "job"},
        host_vars={"compute": {"level": "host"}}, group_vars={"workers": {"role": "worker"}},
    )  # fmt: skip
    inv = inventory(build(job, change(7)), [node("n1", "10.0.0.1"), node("n2", "10.0.0.2")])
    hosts = inv["all"]["hosts"]
    assert list(hosts) == ["controller", "compute"]
    assert hosts["controller"]["ansible_host"] == "10.0.0.1"
    assert hosts["compute"]["nodepool"] == {
        "label": "small", "provider": "cloud", "pool": "p1", "id": "n2", "interface_ip": "10.0.0.2",
    }  # fmt: skip
    assert hosts["compute"]["level"] == "host" and "level" not in hosts["controller"]
    assert inv["all"]["vars"] == {"level": "job"}
    assert inv["all"]["children"]["workers"] == {
        "hosts": {"compute": None},
        "vars": {"role": "worker"},
    }


def test_a_nodeset_that_does_not_fit_the_nodes_is_named() -> None:
    with pytest.raises(InventoryError, match="nodeset pair of job j names 2 nodes but 1"):
        inventory(build(FrozenJob("j", nodeset=TWO)), [node("n1", "h")])


def test_zuul_variables_describe_the_item_and_its_workspace() -> None:
    job = FrozenJob("unit", required_projects=(RequiredProject("org/lib"),))
    action = build(job, change(3, "org/lib"), change(9))
    checkouts = plan(action, "review.test")
    assert [(c.project, c.src_dir, c.required) for c in checkouts] == [
        ("org/app", "src/review.test/org/app", False),
        ("org/lib", "src/review.test/org/lib", True),
    ]
    done = [CheckedOut(c, "master", "f" * 40) for c in checkouts]
    paths = BuildPaths("/w", "/w/src", "/w/logs")
    zuul = zuul_variables(action, host="review.test", paths=paths, projects=done)
    assert (zuul["pipeline"], zuul["job"], zuul["attempts"], zuul["voting"]) == (
        "gate",
        "unit",
        2,
        True,
    )
    assert zuul["project"]["canonical_name"] == "review.test/org/app"
    assert (zuul["change"], zuul["patchset"], zuul["branch"]) == ("9", "2", "master")
    assert [i["change"] for i in zuul["items"]] == ["3", "9"]
    lib = zuul["projects"]["review.test/org/lib"]
    assert (lib["required"], lib["checkout"], lib["src_dir"]) == (
        True,
        "master",
        "src/review.test/org/lib",
    )
    assert zuul["executor"] == {"src_root": "/w/src", "log_root": "/w/logs", "work_root": "/w"}


def test_extra_vars_cannot_override_zuul() -> None:
    action = build(FrozenJob("j", extra_vars={"zuul": "mine", "x": 1}), change(1))
    assert extra_variables(action, {"job": "j"}) == {"x": 1, "zuul": {"job": "j"}}


@pytest.mark.parametrize(
    ("override", "branches", "expected"),
    [
        ("stable", ["master", "stable"], "stable"),
        ("stable", ["master"], "master"),  # an override the project lacks: the item's branch
        (None, ["main"], "main"),  # no such branch at all: the default one
    ],
)
def test_the_checkout_follows_override_then_item_branch_then_default(
    override: str | None, branches: list[str], expected: str
) -> None:
    assert choose_branch(override=override, item_branch="master", default_branch=branches[0],
                         branches=branches) == expected  # fmt: skip


def o(phase: str, status: str) -> PlaybookOutcome:
    return PlaybookOutcome(phase, f"{phase}.yaml", status, "why")


@pytest.mark.parametrize(
    ("outcomes", "result"),
    [
        ([o("pre", OK), o("run", OK), o("post", OK)], "SUCCESS"),
        ([o("pre", FAILED), o("post", OK)], "RETRY"),
        ([o("setup", UNREACHABLE)], "RETRY"),
        ([o("run", UNREACHABLE)], "RETRY"),
        ([o("run", FAILED), o("post", UNREACHABLE), o("post", OK)], "RETRY"),
        ([o("run", OK), o("cleanup", UNREACHABLE)], "SUCCESS"),
        ([o("run", FAILED), o("post", FAILED)], "FAILURE"),
        ([o("run", TIMED_OUT), o("post", OK)], "TIMED_OUT"),
        ([o("run", OK), o("post", TIMED_OUT)], "POST_FAILURE"),
        ([o("run", OK), o("cleanup", FAILED)], "SUCCESS"),
        ([o("run", ERROR)], "ERROR"),
        ([o("run", ABORTED)], "ABORTED"),
    ],
)
def test_phase_outcomes_make_zuuls_results(outcomes: list[PlaybookOutcome], result: str) -> None:
    assert build_result(outcomes)[0] == result


def test_the_reason_names_the_phase_and_playbook() -> None:
    assert build_result([o("post", FAILED)]) == ("POST_FAILURE", "post-run playbook post.yaml: why")

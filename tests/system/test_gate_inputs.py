"""What the gating scheduler reads of the review server: changes pushed with
git and reviewed over REST, read back as the gating core's snapshots, with
their votes, files, dependencies (git parents and Depends-On in every form)
and the changes that need them."""

from __future__ import annotations

from pathlib import Path

from lockgate.core.gating.changes import Approval
from lockgate.testing.server import LiveServer
from tests.gitutil import git, new_change_id
from tests.system.gating import amend, call, project, push
from tests.system.reviewing import review
from tests.system.submitting import approve, submit

APP = "team/app"
LIB = "team/lib"


def test_a_snapshot_shows_the_change_as_the_core_needs_it(
    server: LiveServer, tmp_path: Path
) -> None:
    alice = project(server, tmp_path, APP)
    pushed = push(alice, "Add the parser", files={"src/parser.py": "x\n", "docs/parser.md": "#\n"})
    review(server, pushed.number, {"labels": {"Code-Review": 2}}, auth=server.admin)
    inputs = server.services.gate_inputs

    change = inputs.change(pushed.number)

    assert change is not None
    assert change.key == f"{pushed.number},1"
    assert (change.project, change.branch, change.patchset) == (APP, "master", 1)
    assert change.commit == pushed.sha
    assert change.ref == f"refs/changes/{pushed.number % 100:02d}/{pushed.number}/1"
    assert change.url == f"{server.url}c/{APP}/+/{pushed.number}"
    assert change.owner == "alice"
    assert change.subject == "Add the parser"
    assert f"Change-Id: {pushed.change_id}" in change.message
    assert (change.status, change.is_current, change.wip) == ("NEW", True, False)
    assert change.files == ("docs/parser.md", "src/parser.py")
    [vote] = change.approvals
    assert vote == Approval("Code-Review", 2, "admin", "admin@localhost", vote.granted_on)
    assert vote.granted_on > 1_700_000_000
    assert change.needs == () and change.unresolved_needs == ()
    # Code-Review alone is not enough: Verified and Workflow are blocking too.
    assert not change.submittable

    review(server, pushed.number, {"labels": {"Workflow": 1, "Verified": 2}}, auth=server.admin)
    approved = inputs.change(pushed.number)
    assert approved is not None and approved.submittable
    assert approved.approval("Workflow") == 1


def test_a_git_parent_is_needed_until_it_merges(server: LiveServer, tmp_path: Path) -> None:
    alice = project(server, tmp_path, APP)
    base = push(alice, "Base")
    top = push(alice, "Top", on="HEAD")
    inputs = server.services.gate_inputs
    base_change = inputs.change(base.number)
    top_change = inputs.change(top.number)
    assert base_change is not None and top_change is not None

    assert top_change.needs == (base_change.key,)
    assert inputs.dependencies(top_change) == {base_change.key: base_change}
    assert inputs.needed_by(base_change) == (top_change,)
    assert inputs.needed_by(top_change) == ()

    approve(server, base.number)
    assert submit(server, base.number).status == 200
    top_change = inputs.change(top.number)
    assert top_change is not None and top_change.needs == ()


def test_a_parent_with_a_newer_patch_set_is_needed_as_it_was(
    server: LiveServer, tmp_path: Path
) -> None:
    alice = project(server, tmp_path, APP)
    base = push(alice, "Base")
    top = push(alice, "Top", on="HEAD")
    git(alice.work, "checkout", "-q", "--detach", base.sha)
    amend(alice, base.number, {"Base.txt": "reworked\n"})
    inputs = server.services.gate_inputs

    top_change = inputs.change(top.number)
    assert top_change is not None
    # The top still sits on patch set 1: that is what it needs, and it is outdated.
    assert top_change.needs == (f"{base.number},1",)
    outdated = inputs.dependencies(top_change)[f"{base.number},1"]
    assert not outdated.is_current and not outdated.submittable
    current = inputs.change(base.number)
    assert current is not None and current.patchset == 2
    assert inputs.needed_by(current) == ()
    assert inputs.needed_by(outdated) == (top_change,)


def test_depends_on_names_changes_by_address_number_and_change_id(
    server: LiveServer, tmp_path: Path
) -> None:
    lib = project(server, tmp_path, LIB, "bob")
    tip = server.services.projects.branch_tip(LIB, "master")
    assert tip is not None
    server.services.repos.update_ref(LIB, "refs/heads/stable", tip)
    by_url = push(lib, "Lib by URL")
    by_number = push(lib, "Lib by number")
    shared_id = new_change_id()
    on_master = push(lib, "Lib by Change-Id", change_id=shared_id)
    on_stable = push(
        lib,
        "Lib by Change-Id",
        change_id=shared_id,
        on="origin/stable",
        branch="stable",
        files={"stable.txt": "backport\n"},
    )
    app = project(server, tmp_path, APP)
    footers = "\n".join(
        [
            f"Depends-On: {server.url}c/{LIB}/+/{by_url.number}",
            f"depends-on: {by_number.number}",
            f"DEPENDS-ON: {shared_id}",
            "Depends-On: https://review.elsewhere.example/c/other/+/12",
            "Depends-On: 999999",
        ]
    )
    needing = push(app, "Use the library", body=footers)
    inputs = server.services.gate_inputs

    change = inputs.change(needing.number)

    assert change is not None
    assert change.needs == (
        f"{by_url.number},1",
        f"{by_number.number},1",
        f"{on_master.number},1",
        f"{on_stable.number},1",
    )
    assert change.unresolved_needs == (
        "https://review.elsewhere.example/c/other/+/12",
        "999999",
    )
    deps = inputs.dependencies(change)
    assert sorted(deps) == sorted(change.needs)
    assert {deps[k].project for k in change.needs} == {LIB}
    assert deps[f"{on_stable.number},1"].branch == "stable"
    for needed in (by_url, by_number, on_master, on_stable):
        snapshot = inputs.change(needed.number)
        assert snapshot is not None
        assert inputs.needed_by(snapshot) == (change,)

    # A merged dependency is needed no more; an abandoned one still is.
    approve(server, by_url.number)
    assert submit(server, by_url.number).status == 200
    call(server, "POST", f"changes/{by_number.number}/abandon", {})
    change = inputs.change(needing.number)
    assert change is not None
    assert change.needs == (
        f"{by_number.number},1",
        f"{on_master.number},1",
        f"{on_stable.number},1",
    )
    abandoned = inputs.change(by_number.number)
    assert abandoned is not None and abandoned.status == "ABANDONED"
    # Abandoned and merged changes need nothing behind them in a gate.
    merged = inputs.change(by_url.number)
    assert merged is not None and inputs.needed_by(merged) == ()


def test_a_dependency_cycle_is_read_once_around(server: LiveServer, tmp_path: Path) -> None:
    alice = project(server, tmp_path, APP)
    first_id, second_id = new_change_id(), new_change_id()
    first = push(alice, "First", change_id=first_id, body=f"Depends-On: {second_id}")
    second = push(alice, "Second", change_id=second_id, body=f"Depends-On: {first_id}")
    inputs = server.services.gate_inputs

    one = inputs.change(first.number)
    two = inputs.change(second.number)

    assert one is not None and two is not None
    assert one.needs == (two.key,) and two.needs == (one.key,)
    assert inputs.dependencies(one) == {two.key: two}
    assert inputs.needed_by(one) == (two,)


def test_a_new_patch_set_moves_what_depends_on_says(server: LiveServer, tmp_path: Path) -> None:
    alice = project(server, tmp_path, APP)
    target = push(alice, "Target")
    inputs = server.services.gate_inputs
    snapshot = inputs.change(target.number)
    assert snapshot is not None and inputs.needed_by(snapshot) == ()
    # The reverse index is built now; a change pushed later must still be found.
    dependent = push(alice, "Dependent", body=f"Depends-On: {target.number}")
    found = inputs.needed_by(snapshot)
    assert [c.number for c in found] == [dependent.number]
    # Its next patch set drops the footer: it needs the target no more.
    git(
        alice.work,
        "commit",
        "-q",
        "--amend",
        "-m",
        f"Dependent\n\nChange-Id: {dependent.change_id}\n",
    )
    assert alice.push("HEAD:refs/for/master").ok
    assert inputs.needed_by(snapshot) == ()


def test_keys_name_patch_sets_and_missing_ones_are_left_out(
    server: LiveServer, tmp_path: Path
) -> None:
    alice = project(server, tmp_path, APP)
    pushed = push(alice, "Only")
    inputs = server.services.gate_inputs

    found = inputs.changes([f"{pushed.number},1", pushed.number, "424242", (pushed.number, 7)])

    assert list(found) == [f"{pushed.number},1"]
    assert inputs.change(pushed.number, 2) is None


def test_dependencies_are_followed_through_every_level(server: LiveServer, tmp_path: Path) -> None:
    lib = project(server, tmp_path, LIB, "bob")
    library = push(lib, "Library")
    app = project(server, tmp_path, APP)
    base = push(app, "Base", body=f"Depends-On: {server.url}c/+/{library.number}")
    top = push(app, "Top", on="HEAD")
    inputs = server.services.gate_inputs

    change = inputs.change(top.number)

    assert change is not None
    assert sorted(inputs.dependencies(change)) == sorted(
        [f"{base.number},1", f"{library.number},1"]
    )
    assert inputs.dependencies(change)[f"{base.number},1"].needs == (f"{library.number},1",)

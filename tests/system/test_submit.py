"""Submitting changes through the REST API, with each submit type, checked with git.

Each story pushes changes with git, records the votes that make them
submittable, submits them, and reads the branch's history back from the
server's repository: which commit the branch points at, its parents, tree and
message; then the changes' states, messages and events.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgate.adapters.db.approval_store import votes_on
from lockgate.adapters.db.footer_store import footers_of
from lockgate.core.review.footers import Footer
from lockgate.core.review.model import SubmitType
from lockgate.testing.server import LiveServer
from tests.gitutil import Contributor, contributor, git, new_change_id
from tests.system.rest import get
from tests.system.submitting import (
    approve,
    bare,
    detail,
    events_of,
    files_at,
    message,
    newest_change,
    parents,
    push_change,
    submit,
    tip,
    vote,
    written,
)

PROJECT = "demo"
ADMIN = "Administrator <admin@localhost>"


def _project(server: LiveServer, tmp_path: Path, kind: SubmitType) -> tuple[Contributor, str]:
    server.services.projects.create(PROJECT, create_empty_commit=True, submit_type=kind.value)
    alice = contributor(server, tmp_path, PROJECT, "alice")
    return alice, tip(server, PROJECT)


def top_number(server: LiveServer) -> int:
    return newest_change(server, PROJECT)


def _footers(server: LiveServer, number: int) -> str:
    return (
        f"Reviewed-on: {server.url}c/{PROJECT}/+/{number}\n"
        f"Reviewed-by: {ADMIN}\n"
        f"Tested-by: {ADMIN}\n"
        f"Workflow: {ADMIN}\n"
    )


@pytest.mark.parametrize("kind", list(SubmitType), ids=lambda k: k.value)
def test_each_submit_type_over_a_branch_that_moved(
    server: LiveServer, tmp_path: Path, kind: SubmitType
) -> None:
    alice, initial = _project(server, tmp_path, kind)
    first = push_change(alice, "Add a", {"a.txt": "a\n"}, on="origin/master")
    second = push_change(alice, "Add b", {"b.txt": "b\n"}, on="origin/master")
    a_sha = detail(server, first).current.commit.sha
    b_commit = detail(server, second).current.commit
    approve(server, first, second)

    first_answer = submit(server, first)
    assert first_answer.status == 200, first_answer.text
    assert first_answer.json()["status"] == "MERGED"
    moved = tip(server, PROJECT)
    answer = submit(server, second)

    head = tip(server, PROJECT)
    merged = detail(server, second)
    if kind is SubmitType.FAST_FORWARD_ONLY:
        assert answer.status == 409
        assert answer.text == (
            "Failed to submit 1 change due to the following problems:\n"
            f"Change {second}: Project policy requires all submissions to be a fast-forward. "
            "Please rebase the change locally and upload again for review.\n"
        )
        assert head == moved == a_sha
        assert merged.change.status.value == "NEW"
        assert [e["change"]["number"] for e in events_of(server, "change-merged", PROJECT)] == [
            first
        ]
        return
    assert answer.status == 200, answer.text
    info = answer.json()
    assert info["status"] == "MERGED" and info["_number"] == second
    assert merged.change.status.value == "MERGED"
    assert files_at(server, PROJECT, head) == {"a.txt": "a\n", "b.txt": "b\n"}
    [*_, last_message] = merged.messages
    landed_event = events_of(server, "change-merged", PROJECT)[-1]
    assert landed_event["change"]["number"] == second
    assert landed_event["submitter"]["username"] == "admin"
    assert landed_event["newRev"] == head
    ref_event = events_of(server, "ref-updated", PROJECT)[-1]
    assert ref_event["refUpdate"] == {
        "oldRev": moved,
        "newRev": head,
        "refName": "refs/heads/master",
        "project": PROJECT,
    }

    if kind in (SubmitType.MERGE_IF_NECESSARY, SubmitType.MERGE_ALWAYS):
        # The first change merged by a fast-forward, or by a merge commit of its own.
        if kind is SubmitType.MERGE_IF_NECESSARY:
            assert moved == a_sha
        else:
            assert parents(server, PROJECT, moved) == [initial, a_sha]
            assert message(server, PROJECT, moved) == 'Merge "Add a"\n\n'
        assert parents(server, PROJECT, head) == [moved, b_commit.sha]
        assert message(server, PROJECT, head) == 'Merge "Add b"\n\n'
        author = bare(server, PROJECT, "show", "-s", "--format=%an <%ae>|%cn <%ce>", head)
        assert author.strip() == f"{ADMIN}|lockgate <lockgate@127.0.0.1>"
        assert last_message.message == "Change has been successfully merged by Administrator"
        assert [ps.number for ps in merged.patch_sets] == [1]
        assert merged.patch_sets[0].commit.sha == b_commit.sha
    else:
        # A new commit on the moved branch, which becomes the change's patch set 2.
        assert parents(server, PROJECT, head) == [moved]
        assert [ps.number for ps in merged.patch_sets] == [1, 2]
        assert merged.current.commit.sha == head
        assert merged.current.uploader_id == server.services.accounts.get("admin").id
        assert landed_event["patchSet"]["number"] == 2
        shown = bare(server, PROJECT, "show", "-s", "--format=%an <%ae>|%cn", head)
        assert shown.strip() == "Test Author <author@example.com>|lockgate"
        if kind is SubmitType.REBASE_IF_NECESSARY:
            assert moved == a_sha
            assert message(server, PROJECT, head) == b_commit.message + "\n"
            assert last_message.message == (
                f"Change has been successfully rebased and submitted as {head} by Administrator"
            )
        else:
            # The first change was rebased or cherry-picked too, with footers.
            assert parents(server, PROJECT, moved) == [initial]
            assert message(server, PROJECT, moved).endswith(_footers(server, first) + "\n")
            assert (
                message(server, PROJECT, head) == b_commit.message + _footers(server, second) + "\n"
            )
            verb = "cherry-picked" if kind is SubmitType.CHERRY_PICK else "rebased and submitted"
            assert last_message.message == (
                f"Change has been successfully {verb} as {head} by Administrator"
            )
        # The votes it was submitted with stay on the patch set that merged.
        with server.services.engine.connect() as conn:
            kept = {(v.label, v.value) for v in votes_on(conn, second, 2)}
        assert kept == {("Code-Review", 2), ("Verified", 2), ("Workflow", 1)}
    assert last_message.tag == "autogenerated:gerrit:merged"
    # A submit-made patch set is announced by the merged message alone.
    assert [m.message for m in merged.messages][:-1] == ["Uploaded patch set 1."]


def test_a_chain_of_three_is_submitted_together_by_submitting_the_top(
    server: LiveServer, tmp_path: Path
) -> None:
    alice, initial = _project(server, tmp_path, SubmitType.MERGE_IF_NECESSARY)
    other = push_change(alice, "Elsewhere", {"other.txt": "o\n"}, on="origin/master")
    git(alice.work, "checkout", "-q", "--detach", initial)
    shas = [alice.commit(f"Step {n}", change_id=new_change_id()) for n in (1, 2, 3)]
    assert alice.push("HEAD:refs/for/master").ok
    stack = [other + 1, other + 2, other + 3]
    approve(server, other, *stack)
    assert submit(server, other).status == 200
    together = get(server, f"changes/{stack[2]}/submitted_together")
    assert [c["_number"] for c in together] == stack[::-1]

    answer = submit(server, stack[2])

    assert answer.status == 200, answer.text
    head = tip(server, PROJECT)
    assert parents(server, PROJECT, head) == [detail(server, other).current.commit.sha, shas[2]]
    keys = ",".join(detail(server, n).change.change_key[:9] for n in stack)
    assert message(server, PROJECT, head) == (
        f"Merge changes {keys}\n\n* changes:\n  Step 1\n  Step 2\n  Step 3\n\n"
    )
    merged_events = events_of(server, "change-merged", PROJECT)
    assert [e["change"]["number"] for e in merged_events] == [other, *stack]
    assert {e["newRev"] for e in merged_events[1:]} == {head}
    for number in stack:
        assert detail(server, number).change.status.value == "MERGED"
    assert len(events_of(server, "ref-updated", PROJECT)) == 2


# --- refusals: nothing is written ---------------------------------------------------


def test_a_conflict_is_a_409_naming_the_paths_and_writes_nothing(
    server: LiveServer, tmp_path: Path
) -> None:
    alice, _ = _project(server, tmp_path, SubmitType.MERGE_IF_NECESSARY)
    first = push_change(
        alice, "Say hello", {"f.txt": "hello\n", "x.txt": "x\n"}, on="origin/master"
    )
    second = push_change(alice, "Say bye", {"f.txt": "bye\n", "y.txt": "y\n"}, on="origin/master")
    approve(server, first, second)
    assert get(server, f"changes/{second}/revisions/current/mergeable") == {
        "submit_type": "MERGE_IF_NECESSARY",
        "strategy": "recursive",
        "mergeable": True,
    }
    assert submit(server, first).status == 200
    assert get(server, f"changes/{second}/revisions/1/mergeable") == {
        "submit_type": "MERGE_IF_NECESSARY",
        "strategy": "recursive",
        "mergeable": False,
        "conflicts": ["f.txt"],
    }
    before = written(server, PROJECT)

    answer = submit(server, second)

    assert answer.status == 409
    assert answer.text == (
        "Failed to submit 1 change due to the following problems:\n"
        f"Change {second}: Change could not be merged due to a path conflict. Please rebase "
        "the change locally and upload the rebased commit for review. Conflicting paths: f.txt\n"
    )
    assert written(server, PROJECT) == before


def test_a_change_that_is_not_submittable_is_a_409_naming_the_label(
    server: LiveServer, tmp_path: Path
) -> None:
    alice, _ = _project(server, tmp_path, SubmitType.MERGE_IF_NECESSARY)
    number = push_change(alice, "Half reviewed", {"h.txt": "h\n"}, on="origin/master")
    vote(server, number, (("Code-Review", 2), ("Workflow", 1)))
    before = written(server, PROJECT)

    answer = submit(server, number)

    assert answer.status == 409
    assert answer.text == (
        "Failed to submit 1 change due to the following problems:\n"
        f"Change {number}: submit requirement not satisfied: Verified needs a +2 vote\n"
    )
    assert written(server, PROJECT) == before


def test_submitting_needs_the_submit_permission(server: LiveServer, tmp_path: Path) -> None:
    alice, _ = _project(server, tmp_path, SubmitType.MERGE_IF_NECESSARY)
    number = push_change(alice, "Mine", {"m.txt": "m\n"}, on="origin/master")
    approve(server, number)
    before = written(server, PROJECT)

    answer = submit(server, number, auth=(alice.username, alice.password))

    assert answer.status == 403
    assert answer.text.startswith(f"submit change {number} not permitted: alice lacks submit")
    assert written(server, PROJECT) == before


def test_a_merged_change_and_a_work_in_progress_are_not_submitted(
    server: LiveServer, tmp_path: Path
) -> None:
    alice, _ = _project(server, tmp_path, SubmitType.MERGE_IF_NECESSARY)
    number = push_change(alice, "Once", {"o.txt": "o\n"}, on="origin/master")
    approve(server, number)
    assert submit(server, number).status == 200
    again = submit(server, number)
    assert (again.status, again.text) == (409, "change is merged\n")

    git(alice.work, "checkout", "-q", "--detach", "origin/master")
    alice.commit("Unfinished", change_id=new_change_id())
    assert alice.push("HEAD:refs/for/master%wip").ok
    wip = number + 1
    approve(server, wip)
    answer = submit(server, wip)
    assert answer.status == 409
    assert answer.text.endswith(f"Change {wip}: Change {wip} is work in progress\n")


def test_an_ancestor_that_is_an_outdated_patch_set_is_named(
    server: LiveServer, tmp_path: Path
) -> None:
    alice, initial = _project(server, tmp_path, SubmitType.REBASE_IF_NECESSARY)
    git(alice.work, "checkout", "-q", "--detach", initial)
    bottom_key = new_change_id()
    bottom_sha = alice.commit("Bottom", change_id=bottom_key)
    top_sha = alice.commit("Top", change_id=new_change_id())
    assert alice.push("HEAD:refs/for/master").ok
    bottom, top = top_number(server) - 1, top_number(server)
    # The bottom change gets a patch set 2; the top still sits on patch set 1.
    git(alice.work, "checkout", "-q", "--detach", bottom_sha)
    git(alice.work, "commit", "-q", "--amend", "-m", f"Bottom, better\n\nChange-Id: {bottom_key}")
    assert alice.push("HEAD:refs/for/master").ok
    approve(server, bottom, top)
    before = written(server, PROJECT)

    answer = submit(server, top)

    assert answer.status == 409
    assert answer.text == (
        "Failed to submit 1 change due to the following problems:\n"
        f"Change {top}: Commit {top_sha} depends on commit {bottom_sha}, which is outdated "
        f"patch set 1 of change {bottom}. The latest patch set is 2.\n"
    )
    assert written(server, PROJECT) == before


def test_an_ancestor_that_is_not_submittable_stops_the_chain(
    server: LiveServer, tmp_path: Path
) -> None:
    alice, initial = _project(server, tmp_path, SubmitType.MERGE_IF_NECESSARY)
    git(alice.work, "checkout", "-q", "--detach", initial)
    alice.commit("Bottom", change_id=new_change_id())
    alice.commit("Top", change_id=new_change_id())
    assert alice.push("HEAD:refs/for/master").ok
    bottom, top = top_number(server) - 1, top_number(server)
    approve(server, top)
    before = written(server, PROJECT)

    answer = submit(server, top)

    assert answer.status == 409
    assert f"Change {bottom}: submit requirement not satisfied: Code-Review needs a +2" in (
        answer.text
    )
    assert written(server, PROJECT) == before


def test_cherry_pick_submits_the_change_alone_and_keeps_its_tracked_footers(
    server: LiveServer, tmp_path: Path
) -> None:
    alice, initial = _project(server, tmp_path, SubmitType.CHERRY_PICK)
    git(alice.work, "checkout", "-q", "--detach", initial)
    alice.commit("Bottom", change_id=new_change_id())
    alice.commit("Top", change_id=new_change_id(), body="Closes-Bug: #42\nDepends-On: soon")
    assert alice.push("HEAD:refs/for/master").ok
    bottom, top = top_number(server) - 1, top_number(server)
    approve(server, top)

    answer = submit(server, top)

    assert answer.status == 200, answer.text
    head = tip(server, PROJECT)
    assert parents(server, PROJECT, head) == [initial]
    assert set(files_at(server, PROJECT, head)) == {"Top.txt"}
    assert detail(server, bottom).change.status.value == "NEW"
    # Kept verbatim for the pushed patch set and for the one the submit made,
    # the malformed Depends-On too.
    with server.services.engine.connect() as conn:
        pushed, picked = footers_of(conn, top, 1), footers_of(conn, top, 2)
    assert pushed == picked == [Footer("Closes-Bug", "#42"), Footer("Depends-On", "soon")]


def test_a_submit_that_died_after_moving_the_branch_is_completed_by_the_next(
    server: LiveServer, tmp_path: Path
) -> None:
    alice, initial = _project(server, tmp_path, SubmitType.MERGE_IF_NECESSARY)
    git(alice.work, "checkout", "-q", "--detach", initial)
    alice.commit("Bottom", change_id=new_change_id())
    top_sha = alice.commit("Top", change_id=new_change_id())
    assert alice.push("HEAD:refs/for/master").ok
    bottom, top = top_number(server) - 1, top_number(server)
    approve(server, bottom, top)
    # What a server that died between moving the branch and committing leaves.
    server.services.repos.update_ref(PROJECT, "refs/heads/master", top_sha, initial)

    answer = submit(server, top)

    assert answer.status == 200, answer.text
    assert tip(server, PROJECT) == top_sha
    for number in (bottom, top):
        found = detail(server, number)
        assert found.change.status.value == "MERGED"
        assert found.messages[-1].message == "Change has been successfully merged by Administrator"
    merged = events_of(server, "change-merged", PROJECT)
    assert [e["change"]["number"] for e in merged] == [bottom, top]

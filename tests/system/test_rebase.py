"""Rebasing changes through the REST API: onto the branch tip, onto another
change, with and without conflicts, checked with git and in the change's record."""

from __future__ import annotations

from pathlib import Path

from lockgate.adapters.db.approval_store import votes_on
from lockgate.core.review.model import SubmitType
from lockgate.testing.server import LiveServer
from tests.gitutil import Contributor, contributor
from tests.system.submitting import (
    approve,
    bare,
    detail,
    events_of,
    files_at,
    parents,
    post,
    push_change,
    submit,
    tip,
    vote,
    written,
)

PROJECT = "demo"


def _alice(server: LiveServer, tmp_path: Path) -> Contributor:
    server.services.projects.create(
        PROJECT, create_empty_commit=True, submit_type=SubmitType.MERGE_IF_NECESSARY.value
    )
    return contributor(server, tmp_path, PROJECT, "alice")


def rebase(server: LiveServer, number: int, who: Contributor, **body: object):  # type: ignore[no-untyped-def]
    return post(server, f"changes/{number}/rebase", body, auth=(who.username, who.password))


def test_the_owner_rebases_onto_the_moved_branch_as_a_trivial_rebase(
    server: LiveServer, tmp_path: Path
) -> None:
    alice = _alice(server, tmp_path)
    first = push_change(alice, "Add a", {"a.txt": "a\n"}, on="origin/master")
    second = push_change(alice, "Add b", {"b.txt": "b\n"}, on="origin/master")
    approve(server, first)
    assert submit(server, first).status == 200
    vote(server, second, (("Code-Review", 2), ("Verified", 1)))
    prior = detail(server, second).current.commit

    answer = rebase(server, second, alice)

    assert answer.status == 200, answer.text
    info = answer.json()
    rebased = detail(server, second)
    new = rebased.current
    assert new.number == 2 and new.kind == "TRIVIAL_REBASE"
    assert info["current_revision"] == new.commit.sha
    assert parents(server, PROJECT, new.commit.sha) == [tip(server, PROJECT)]
    assert files_at(server, PROJECT, new.commit.sha) == {"a.txt": "a\n", "b.txt": "b\n"}
    assert new.commit.message == prior.message
    assert new.commit.author == prior.author
    shown = bare(server, PROJECT, "show", "-s", "--format=%cn <%ce>", new.commit.sha).strip()
    assert shown == "Alice <alice@example.com>"
    assert new.uploader_id == server.services.accounts.get("alice").id
    assert server.services.repos.refs(PROJECT, "refs/changes/")[new.ref] == new.commit.sha
    assert rebased.messages[-1].message == "Patch Set 2: Patch Set 1 was rebased"
    # Code-Review carries over a trivial rebase; Verified does not.
    with server.services.engine.connect() as conn:
        kept = {(v.label, v.value) for v in votes_on(conn, second, 2)}
    assert kept == {("Code-Review", 2)}
    event = events_of(server, "patchset-created", PROJECT)[-1]
    assert event["patchSet"]["number"] == 2
    assert event["patchSet"]["kind"] == "TRIVIAL_REBASE"
    assert event["uploader"]["username"] == "alice"

    again = rebase(server, second, alice)
    assert (again.status, again.text) == (409, "Change is already up to date.\n")


def test_a_rebase_onto_another_change_and_its_conflicts(server: LiveServer, tmp_path: Path) -> None:
    alice = _alice(server, tmp_path)
    first = push_change(alice, "Hello", {"f.txt": "hello\n"}, on="origin/master")
    second = push_change(alice, "Bye", {"f.txt": "bye\n"}, on="origin/master")
    third = push_change(alice, "Other", {"o.txt": "o\n"}, on="origin/master")
    first_sha = detail(server, first).current.commit.sha

    onto = rebase(server, third, alice, base=str(first))
    assert onto.status == 200, onto.text
    assert parents(server, PROJECT, detail(server, third).current.commit.sha) == [first_sha]

    before = written(server, PROJECT)
    refused = rebase(server, second, alice, base=first_sha)
    assert refused.status == 409
    assert refused.text == (
        "The change could not be rebased due to a conflict during merge.\n\n"
        "merge conflict(s):\nf.txt\n"
    )
    assert written(server, PROJECT) == before

    kept = rebase(server, second, alice, base=first_sha, allow_conflicts=True)
    assert kept.status == 200, kept.text
    conflicted = detail(server, second)
    assert conflicted.current.kind == "REWORK"
    content = files_at(server, PROJECT, conflicted.current.commit.sha)["f.txt"]
    assert "<<<<<<<" in content and "hello" in content and "bye" in content
    assert conflicted.messages[-1].message == (
        "Patch Set 2: Patch Set 1 was rebased\n\n"
        "The following files contain Git conflicts:\n* f.txt"
    )


def test_who_may_rebase_and_what(server: LiveServer, tmp_path: Path) -> None:
    alice = _alice(server, tmp_path)
    bob = contributor(server, tmp_path, PROJECT, "bob")
    first = push_change(alice, "Add a", {"a.txt": "a\n"}, on="origin/master")
    second = push_change(alice, "Add b", {"b.txt": "b\n"}, on="origin/master")
    approve(server, first)
    assert submit(server, first).status == 200
    before = written(server, PROJECT)

    refused = rebase(server, second, bob)
    assert refused.status == 403
    assert refused.text.startswith(f"rebase change {second} not permitted: bob lacks rebase")
    merged = rebase(server, first, alice)
    assert (merged.status, merged.text) == (409, "change is merged\n")
    missing = rebase(server, second, alice, base="0123456789abcdef")
    assert missing.status == 400
    assert written(server, PROJECT) == before
    # An administrator may rebase anyone's change.
    assert post(server, f"changes/{second}/rebase").status == 200

"""Votes under load and across patch sets, on SQLite and PostgreSQL: twenty
reviewers voting at the same moment, and votes carried to a new patch set by
the labels' copy rules when the owner pushes again with real git."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from lockgate.core.review.model import ChangeStatus
from lockgate.services.accounts import ADMINISTRATORS
from lockgate.testing.seed import seed_change
from lockgate.testing.server import LiveServer
from tests.gitutil import contributor, git, new_change_id
from tests.system.rest import get
from tests.system.reviewing import Team, events, make_team, post_review, review

VOTERS = 20


def test_twenty_simultaneous_votes_are_each_recorded_with_one_event(server: LiveServer) -> None:
    team = make_team(server)
    n = team.number
    voters = []
    for i in range(VOTERS):
        name = f"voter{i:02d}"
        server.services.accounts.create_account(
            name, email=f"{name}@example.com", http_password=f"pw-{name}"
        )
        voters.append((name, f"pw-{name}"))
    start = threading.Barrier(VOTERS)
    responses: dict[str, httpx.Response] = {}

    def vote(who: tuple[str, str], value: int) -> None:
        start.wait()
        responses[who[0]] = post_review(
            server,
            n,
            {"message": f"vote by {who[0]}", "labels": {"Code-Review": value}},
            auth=who,
        )

    threads = [
        threading.Thread(target=vote, args=(who, 1 if i % 2 else -1))
        for i, who in enumerate(voters)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {name: r.status_code for name, r in responses.items()} == {
        name: 200 for name, _ in voters
    }
    detail = get(server, f"changes/{n}/detail")
    recorded = {a["username"]: a["value"] for a in detail["labels"]["Code-Review"]["all"]}
    assert recorded == {name: 1 if i % 2 else -1 for i, (name, _) in enumerate(voters)}
    assert len(detail["reviewers"]["REVIEWER"]) == VOTERS
    added = events(server, "comment-added", n)
    assert sorted(e["author"]["username"] for e in added) == sorted(name for name, _ in voters)
    with server.services.engine.connect() as conn:
        seqs = conn.execute(
            text("SELECT seq FROM events WHERE type = 'comment-added' ORDER BY seq")
        ).scalars()
        assert len(list(seqs)) == VOTERS
    reviews = [m for m in detail["messages"] if m["message"].startswith("Patch Set 1:")]
    assert len(reviews) == VOTERS


def _votes(server: LiveServer, number: int) -> dict[str, dict[str, int]]:
    labels = get(server, f"changes/{number}/detail")["labels"]
    return {
        name: {a["username"]: a["value"] for a in info["all"] if a["value"]}
        for name, info in labels.items()
    }


def test_votes_are_carried_to_new_patch_sets_by_the_copy_rules(
    server: LiveServer, tmp_path: Path
) -> None:
    team: Team = make_team(server)
    alice = contributor(server, tmp_path, "team/demo", "alice")
    key = new_change_id()
    alice.commit("Add feature", change_id=key, files={"f.txt": "one\n"})
    assert alice.push("HEAD:refs/for/master").ok
    [info] = get(server, "changes/", q=f"change:{key}")
    n = info["_number"]
    review(server, n, {"labels": {"Code-Review": 1}}, auth=team.bob)
    review(server, n, {"labels": {"Verified": 1}}, auth=team.ci)
    review(server, n, {"labels": {"Workflow": -1}}, auth=team.core)

    # A new commit message only: Code-Review stays (no code change), Verified
    # goes (it keeps votes only when nothing changed), Workflow's minimum stays.
    git(alice.work, "commit", "-q", "--amend", "-m", f"Add the feature\n\nChange-Id: {key}\n")
    assert alice.push("HEAD:refs/for/master").ok
    current = get(server, f"changes/{n}", o="CURRENT_REVISION")
    assert current["current_revision_number"] == 2
    assert current["revisions"][current["current_revision"]]["kind"] == "NO_CODE_CHANGE"
    assert _votes(server, n) == {
        "Code-Review": {"bob": 1},
        "Verified": {},
        "Workflow": {"core": -1},
    }

    # New code: only the blocking minimum survives.
    alice.commit("More", files={"g.txt": "two\n"})
    git(alice.work, "reset", "-q", "--soft", "HEAD~1")
    git(alice.work, "commit", "-q", "--amend", "-m", f"Add the feature\n\nChange-Id: {key}\n")
    assert alice.push("HEAD:refs/for/master").ok
    assert get(server, f"changes/{n}")["current_revision_number"] == 3
    assert _votes(server, n) == {"Code-Review": {}, "Verified": {}, "Workflow": {"core": -1}}
    # A copied vote is the voter's vote on the new patch set: changing it is a review.
    review(server, n, {"labels": {"Workflow": 0}}, auth=team.core)
    last: dict[str, Any] = events(server, "comment-added", n)[-1]
    assert last["comment"] == "Patch Set 3: -Workflow"
    assert last["patchSet"]["number"] == 3


def test_a_trivial_rebase_keeps_code_review_and_a_conflicting_one_does_not(
    server: LiveServer, tmp_path: Path
) -> None:
    team: Team = make_team(server)
    alice = contributor(server, tmp_path, "team/demo", "alice")
    key = new_change_id()
    alice.commit("Add feature", change_id=key, files={"f.txt": "one\n"})
    assert alice.push("HEAD:refs/for/master").ok
    [info] = get(server, "changes/", q=f"change:{key}")
    n = info["_number"]
    review(server, n, {"labels": {"Code-Review": 1}}, auth=team.bob)
    review(server, n, {"labels": {"Verified": 1}}, auth=team.ci)

    # The branch moves under the change (another file); alice rebases without
    # touching her commit: Gerrit calls that a trivial rebase, and Code-Review
    # carries over while Verified, which must be earned on the new base, does not.
    seed_change(
        server.services,
        "team/demo",
        owner="bob",
        subject="Elsewhere",
        files={"other.txt": "x\n"},
        status=ChangeStatus.MERGED,
    )
    git(alice.work, "fetch", "-q", "origin")
    git(alice.work, "rebase", "-q", "origin/master")
    assert alice.push("HEAD:refs/for/master").ok
    current = get(server, f"changes/{n}", o="CURRENT_REVISION")
    assert current["revisions"][current["current_revision"]]["kind"] == "TRIVIAL_REBASE"
    assert _votes(server, n) == {"Code-Review": {"bob": 1}, "Verified": {}, "Workflow": {}}

    # Rebased onto a change of the same file, with the conflict resolved by
    # hand: the new tree is not what the old patch applied cleanly gives.
    review(server, n, {"labels": {"Code-Review": 1}}, auth=team.bob)
    seed_change(
        server.services,
        "team/demo",
        owner="bob",
        subject="Same file",
        files={"f.txt": "zero\n"},
        status=ChangeStatus.MERGED,
    )
    git(alice.work, "fetch", "-q", "origin")
    git(alice.work, "rebase", "-q", "origin/master", check=False)
    (alice.work / "f.txt").write_text("one\n")
    git(alice.work, "add", "f.txt")
    git(alice.work, "-c", "core.editor=true", "rebase", "--continue")
    assert alice.push("HEAD:refs/for/master").ok
    current = get(server, f"changes/{n}", o="CURRENT_REVISION")
    assert current["revisions"][current["current_revision"]]["kind"] == "REWORK"
    assert _votes(server, n) == {"Code-Review": {}, "Verified": {}, "Workflow": {}}


def test_a_voter_signed_in_from_the_cache_votes_as_the_account_now_is(
    server: LiveServer,
) -> None:
    team = make_team(server)
    n = team.number
    review(server, n, {"labels": {"Code-Review": 1}}, auth=team.bob)
    # Changed since the server remembered bob's sign-in: by another process, or an
    # administrator.
    with server.services.engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET full_name = 'Robert' WHERE username = 'bob'"))
    accounts = server.services.accounts
    administrators = accounts.group(ADMINISTRATORS)
    accounts.add_member(administrators, accounts.get("bob"))

    assert review(server, n, {"labels": {"Code-Review": 2}}, auth=team.bob)["labels"] == {
        "Code-Review": 2
    }
    assert events(server, "comment-added", n)[-1]["author"]["name"] == "Robert"

    accounts.remove_member(administrators, accounts.get("bob"))
    refused = post_review(server, n, {"labels": {"Code-Review": -2}}, auth=team.bob)
    assert refused.status_code == 403, refused.text

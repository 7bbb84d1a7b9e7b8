"""Changing a change through the REST API: abandon, restore, topic, hashtags, WIP,
private and reviewers. Each write is read back three ways: the change message
it added, the ChangeInfo after it, and the stream event it appended to the
durable log. Each refusal is shown to have changed nothing: no message, no
event, the same change."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from lockgate.adapters.db import approval_store, change_store
from lockgate.adapters.db.engine import write_transaction
from lockgate.adapters.db.event_store import StoredEvent, events_after, last_seq
from lockgate.core.review.labels import Vote
from lockgate.core.review.model import Change, ChangeMessage, ChangeStatus
from lockgate.services.review import LoadOptions
from lockgate.testing.seed import seed_change
from lockgate.testing.server import LiveServer
from tests.gitutil import contributor, git, new_change_id
from tests.system.rest import decode, get, make_user, put

PROJECT = "demo"


@pytest.fixture
def demo(server: LiveServer) -> LiveServer:
    """Project demo with an initial commit; alice owns changes, bob and carol review."""
    put(server, f"projects/{PROJECT}", {"create_empty_commit": True}, auth=server.admin)
    for name in ("alice", "bob", "carol"):
        make_user(server, name)
    return server


def creds(name: str) -> tuple[str, str]:
    return name, f"pw-{name}"


def new_change(server: LiveServer, **kwargs: Any) -> int:
    return seed_change(server.services, PROJECT, owner="alice", **kwargs).change_number


def call(
    server: LiveServer,
    method: str,
    path: str,
    body: Any = None,
    *,
    who: str | None = "alice",
) -> httpx.Response:
    if who is None:
        return httpx.request(method, f"{server.url}{path}", json=body)
    return httpx.request(method, f"{server.url}a/{path}", json=body, auth=creds(who))


def refused(response: httpx.Response, status: int, text: str) -> None:
    assert response.status_code == status, response.text
    assert response.text == text + "\n"


# --- reading what a write left -------------------------------------------------------------


@dataclass(frozen=True)
class State:
    seq: int
    change: Change
    messages: tuple[ChangeMessage, ...]


def state(server: LiveServer, number: int) -> State:
    detail = server.services.review.details([number], LoadOptions(messages=True))[0]
    with server.services.engine.connect() as conn:
        seq = last_seq(conn)
    return State(seq, detail.change, detail.messages)


def new_events(server: LiveServer, before: State) -> list[StoredEvent]:
    with server.services.engine.connect() as conn:
        return events_after(conn, before.seq)


def one_event(server: LiveServer, before: State, kind: str) -> dict[str, Any]:
    [event] = new_events(server, before)
    assert event.type == kind
    assert event.payload["eventCreatedOn"] == event.created_at // 1_000_000
    return event.payload


def last_message(server: LiveServer, before: State) -> ChangeMessage:
    after = state(server, before.change.number)
    [message] = after.messages[len(before.messages) :]
    return message


def assert_unchanged(server: LiveServer, before: State) -> None:
    assert state(server, before.change.number) == before


def assert_merged_change_refuses(server: LiveServer, *endpoints: str) -> None:
    merged = new_change(server, subject="Landed", status=ChangeStatus.MERGED)
    landed = state(server, merged)
    for endpoint in endpoints:
        refused(call(server, "POST", f"changes/{merged}/{endpoint}"), 409, "change is merged")
    assert_unchanged(server, landed)


def account_attr(name: str) -> dict[str, str]:
    return {"name": name.title(), "email": f"{name}@example.com", "username": name}


def change_attr(server: LiveServer, number: int, **extra: Any) -> dict[str, Any]:
    """The event's `change` attribute as json.txt defines it, from what the REST API shows."""
    info = get(server, f"changes/{number}", o=["CURRENT_REVISION", "CURRENT_COMMIT"])
    revision = info["revisions"][info["current_revision"]]
    attr = {
        "project": PROJECT,
        "branch": "master",
        "id": info["change_id"],
        "number": number,
        "subject": info["subject"],
        "owner": account_attr("alice"),
        "url": f"{server.url}c/{PROJECT}/+/{number}",
        "commitMessage": revision["commit"]["message"],
        "status": info["status"],
    }
    attr.update(extra)
    return attr


def vote(server: LiveServer, number: int, voter: str, label: str, value: int) -> None:
    account = server.services.accounts.get(voter)
    with write_transaction(server.services.engine) as conn:
        change = change_store.get_change(conn, number)
        assert change is not None
        approval_store.set_vote(
            conn,
            number,
            Vote(account.id, label, value, change.current_patch_set, server.services.clock()),
        )


def make_reviewer(server: LiveServer, number: int, name: str, state_: str = "REVIEWER") -> None:
    account = server.services.accounts.get(name)
    with write_transaction(server.services.engine) as conn:
        change_store.set_reviewer(conn, number, account.id, state_)


# --- abandon and restore ---------------------------------------------------------------------


def test_abandon_then_restore_with_messages_and_events(demo: LiveServer) -> None:
    server = demo
    n = new_change(server, subject="Try an idea")
    before = state(server, n)

    info = decode(call(server, "POST", f"changes/{n}/abandon", {"message": " Superseded \n"}))
    assert info["status"] == "ABANDONED" and info["_number"] == n
    assert info["owner"] == {"_account_id": before.change.owner_id}  # no options: ids only
    message = last_message(server, before)
    assert message.message == "Abandoned\n\nSuperseded"
    assert message.tag == "autogenerated:gerrit:abandon"
    assert message.author_id == before.change.owner_id and message.patch_set == 1

    event = one_event(server, before, "change-abandoned")
    created = before.change.created_at // 1_000_000
    patch_set = event.pop("patchSet")
    assert patch_set["number"] == 1 and patch_set["ref"] == f"refs/changes/{n % 100:02d}/{n}/1"
    assert patch_set["uploader"] == account_attr("alice")
    assert event == {
        "type": "change-abandoned",
        "eventCreatedOn": event["eventCreatedOn"],
        "project": PROJECT,
        "refName": "refs/heads/master",
        "changeKey": {"id": before.change.change_key},
        "change": change_attr(server, n, createdOn=created),
        "abandoner": account_attr("alice"),
        "reason": " Superseded \n",
    }
    assert event["change"]["status"] == "ABANDONED"

    # Abandoning an abandoned change, or restoring an open one, is a conflict.
    abandoned = state(server, n)
    refused(call(server, "POST", f"changes/{n}/abandon"), 409, "change is abandoned")
    assert_unchanged(server, abandoned)

    info = decode(call(server, "POST", f"changes/{n}/restore", {}))
    assert info["status"] == "NEW"
    assert last_message(server, abandoned).message == "Restored"
    restored = one_event(server, abandoned, "change-restored")
    assert restored["restorer"] == account_attr("alice") and restored["reason"] == ""
    assert restored["change"]["status"] == "NEW"

    again = state(server, n)
    refused(call(server, "POST", f"changes/{n}/restore"), 409, "change is new")
    assert_unchanged(server, again)


def test_abandon_is_refused_to_others_to_anonymous_and_for_merged_changes(
    demo: LiveServer,
) -> None:
    server = demo
    n = new_change(server)
    before = state(server, n)
    response = call(server, "POST", f"changes/{n}/abandon", who="bob")
    assert response.status_code == 403
    assert response.text.startswith(f"abandon change {n} not permitted: bob lacks abandon")
    response = call(server, "POST", f"changes/{n}/abandon", who=None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    refused(call(server, "POST", "changes/99999/abandon"), 404, "Not found: 99999")
    assert_unchanged(server, before)

    assert_merged_change_refuses(server, "abandon", "restore", "ready")

    # An administrator may abandon anyone's change.
    response = httpx.post(f"{server.url}a/changes/{n}/abandon", auth=server.admin)
    assert decode(response)["status"] == "ABANDONED"
    assert one_event(server, before, "change-abandoned")["abandoner"]["username"] == "admin"


# --- topic -------------------------------------------------------------------------------


def test_topic_set_changed_kept_and_removed(demo: LiveServer) -> None:
    server = demo
    n = new_change(server)
    assert get(server, f"changes/{n}/topic") == ""

    before = state(server, n)
    assert decode(call(server, "PUT", f"changes/{n}/topic", {"topic": " feature "})) == "feature"
    assert get(server, f"changes/{n}")["topic"] == "feature"
    message = last_message(server, before)
    assert (message.message, message.tag) == (
        "Topic set to feature",
        "autogenerated:gerrit:setTopic",
    )
    event = one_event(server, before, "topic-changed")
    assert "oldTopic" not in event and "patchSet" not in event
    assert event["changer"] == account_attr("alice")
    assert event["change"]["topic"] == "feature"

    before = state(server, n)
    assert decode(call(server, "PUT", f"changes/{n}/topic", {"topic": "other"})) == "other"
    assert last_message(server, before).message == "Topic changed from feature to other"
    event = one_event(server, before, "topic-changed")
    assert event["oldTopic"] == "feature" and event["change"]["topic"] == "other"

    # The same topic again is no change: no message, no event.
    same = state(server, n)
    assert decode(call(server, "PUT", f"changes/{n}/topic", {"topic": "other"})) == "other"
    assert_unchanged(server, same)

    refused_state = state(server, n)
    response = call(server, "PUT", f"changes/{n}/topic", {"topic": "mine"}, who="bob")
    assert response.status_code == 403 and "editTopicName" in response.text
    response = call(server, "PUT", f"changes/{n}/topic", {"topic": "x" * 2049})
    assert response.status_code == 400 and "topic length exceeds the limit" in response.text
    assert_unchanged(server, refused_state)

    response = call(server, "DELETE", f"changes/{n}/topic")
    assert response.status_code == 204 and response.content == b""
    assert last_message(server, refused_state).message == "Topic other removed"
    event = one_event(server, refused_state, "topic-changed")
    assert event["oldTopic"] == "other" and "topic" not in event["change"]
    assert "topic" not in get(server, f"changes/{n}")

    # PUT with an empty topic removes it too, and answers 204.
    decode(call(server, "PUT", f"changes/{n}/topic", {"topic": "again"}))
    assert call(server, "PUT", f"changes/{n}/topic", {"topic": ""}).status_code == 204
    assert get(server, f"changes/{n}/topic") == ""


# --- hashtags -------------------------------------------------------------------------------


def test_hashtags_added_and_removed_sorted_with_events(demo: LiveServer) -> None:
    server = demo
    n = new_change(server)
    assert get(server, f"changes/{n}/hashtags") == []

    before = state(server, n)
    tags = decode(call(server, "POST", f"changes/{n}/hashtags", {"add": ["zeta", "#alpha"]}))
    assert tags == ["alpha", "zeta"]
    message = last_message(server, before)
    assert message.message == "Hashtags added: alpha, zeta"
    assert message.tag == "autogenerated:gerrit:setHashtag"
    event = one_event(server, before, "hashtags-changed")
    assert event["editor"] == account_attr("alice")
    assert event["added"] == ["alpha", "zeta"] and "removed" not in event
    assert event["hashtags"] == ["alpha", "zeta"] and "patchSet" not in event
    assert event["change"]["hashtags"] == ["alpha", "zeta"]

    before = state(server, n)
    body = {"add": ["beta", "zeta"], "remove": ["alpha", "missing"]}
    assert decode(call(server, "POST", f"changes/{n}/hashtags", body)) == ["beta", "zeta"]
    assert last_message(server, before).message == "Hashtag added: beta\nHashtag removed: alpha"
    event = one_event(server, before, "hashtags-changed")
    assert (event["added"], event["removed"]) == (["beta"], ["alpha"])
    assert event["hashtags"] == ["beta", "zeta"]
    assert get(server, f"changes/{n}")["hashtags"] == ["beta", "zeta"]

    unchanged = state(server, n)
    assert decode(call(server, "POST", f"changes/{n}/hashtags", {"add": ["beta"]})) == [
        "beta",
        "zeta",
    ]
    for bad, problem in (("a,b", "commas"), ("two words", "whitespace")):
        response = call(server, "POST", f"changes/{n}/hashtags", {"add": ["ok", bad]})
        refused(
            response,
            400,
            f"invalid hashtag {bad!r}: hashtags may not contain {problem}; remove it and try again",
        )
    response = call(server, "POST", f"changes/{n}/hashtags", {"add": ["theirs"]}, who="bob")
    assert response.status_code == 403 and "editHashtags" in response.text
    assert_unchanged(server, unchanged)


# --- work in progress -------------------------------------------------------------------------


def test_wip_and_ready_toggle_with_messages_events_and_conflicts(demo: LiveServer) -> None:
    server = demo
    n = new_change(server)
    before = state(server, n)
    response = call(server, "POST", f"changes/{n}/wip", {"message": "Not yet"})
    assert decode(response) == ""
    assert get(server, f"changes/{n}")["work_in_progress"] is True
    message = last_message(server, before)
    assert message.message == "Set Work In Progress\n\nNot yet"
    assert message.tag == "autogenerated:gerrit:setWorkInProgress"
    event = one_event(server, before, "wip-state-changed")
    assert event["changer"] == account_attr("alice") and event["change"]["wip"] is True
    assert event["patchSet"]["number"] == 1

    wip = state(server, n)
    refused(call(server, "POST", f"changes/{n}/wip"), 409, "change is already work in progress")
    response = call(server, "POST", f"changes/{n}/ready", who="bob")
    assert response.status_code == 403 and "toggleWipState" in response.text
    assert_unchanged(server, wip)

    decode(call(server, "POST", f"changes/{n}/ready", {}))
    message = last_message(server, wip)
    assert (message.message, message.tag) == (
        "Set Ready For Review",
        "autogenerated:gerrit:setReadyForReview",
    )
    assert "wip" not in one_event(server, wip, "wip-state-changed")["change"]
    assert "work_in_progress" not in get(server, f"changes/{n}")

    ready = state(server, n)
    refused(call(server, "POST", f"changes/{n}/ready"), 409, "change is not work in progress")
    assert_unchanged(server, ready)

    assert_merged_change_refuses(server, "wip")


# --- private --------------------------------------------------------------------------------


def test_private_changes_are_marked_unmarked_and_hidden_from_others(demo: LiveServer) -> None:
    server = demo
    n = new_change(server, subject="Secret")
    refused_state = state(server, n)
    response = call(server, "POST", f"changes/{n}/private", who="bob")
    assert response.status_code == 403
    assert response.text.startswith(f"not allowed to mark change {n} private")
    assert_unchanged(server, refused_state)

    before = state(server, n)
    response = call(server, "POST", f"changes/{n}/private", {"message": "embargo"})
    assert response.status_code == 201
    message = last_message(server, before)
    assert (message.message, message.tag) == (
        "Set private\n\nembargo",
        "autogenerated:gerrit:setPrivate",
    )
    event = one_event(server, before, "private-state-changed")
    assert event["changer"] == account_attr("alice") and event["change"]["private"] is True
    assert decode(call(server, "GET", f"changes/{n}"))["is_private"] is True

    # Only the owner, reviewers and administrators see it now.
    for path in (f"changes/{n}/topic", f"changes/{n}/hashtags", f"changes/{n}/reviewers/"):
        refused(call(server, "GET", path, who="bob"), 404, f"Not found: {n}")
        refused(call(server, "GET", path, who=None), 404, f"Not found: {n}")
    assert get(server, "changes/", q=f"change:{n}", auth=creds("bob")) == []
    assert get(server, f"changes/{n}/topic", auth=server.admin) == ""
    make_reviewer(server, n, "bob")
    assert get(server, f"changes/{n}/topic", auth=creds("bob")) == ""

    # Marking it again is fine and changes nothing.
    private = state(server, n)
    response = call(server, "POST", f"changes/{n}/private")
    assert response.status_code == 200
    assert_unchanged(server, private)

    response = call(server, "DELETE", f"changes/{n}/private")
    assert response.status_code == 204
    assert last_message(server, private).message == "Unset private"
    assert "private" not in one_event(server, private, "private-state-changed")["change"]

    public = state(server, n)
    refused(call(server, "POST", f"changes/{n}/private.delete"), 409, "change is not private")
    assert_unchanged(server, public)

    assert_merged_change_refuses(server, "private")


# --- reviewers ----------------------------------------------------------------------------------


def reviewer_info(server: LiveServer, name: str, approvals: dict[str, str]) -> dict[str, Any]:
    account = server.services.accounts.get(name)
    return {
        "approvals": approvals,
        "_account_id": account.id,
        "name": name.title(),
        "email": f"{name}@example.com",
        "username": name,
    }


def test_add_reviewers_and_ccs_as_gerrit_answers(demo: LiveServer) -> None:
    server = demo
    n = new_change(server)
    before = state(server, n)
    response = call(server, "POST", f"changes/{n}/reviewers", {"reviewer": "bob"}, who="carol")
    assert decode(response) == {
        "input": "bob",
        "reviewers": [reviewer_info(server, "bob", {"Code-Review": " 0"})],
    }
    event = one_event(server, before, "reviewer-added")
    assert event["reviewer"] == account_attr("bob") and event["adder"] == account_attr("carol")
    assert event["patchSet"]["number"] == 1 and event["change"]["number"] == n
    assert state(server, n).messages == before.messages  # Gerrit writes no message for it

    # Already a reviewer, or the owner: nobody is added, nothing is written.
    added = state(server, n)
    for who in ("bob", "alice", "alice@example.com"):
        response = call(server, "POST", f"changes/{n}/reviewers", {"reviewer": who})
        assert decode(response) == {"input": who, "reviewers": []}
    assert_unchanged(server, added)

    # A CC by email: in `ccs`, and no reviewer-added event (as in Gerrit).
    response = call(
        server, "POST", f"changes/{n}/reviewers/", {"reviewer": "carol@example.com", "state": "CC"}
    )
    assert decode(response) == {
        "input": "carol@example.com",
        "ccs": [reviewer_info(server, "carol", {"Code-Review": " 0"})],
    }
    assert new_events(server, added) == []
    info = get(server, f"changes/{n}", o=["LABELS", "DETAILED_ACCOUNTS"])
    assert [r["username"] for r in info["reviewers"]["REVIEWER"]] == ["bob"]
    assert [r["username"] for r in info["reviewers"]["CC"]] == ["carol"]

    vote(server, n, "bob", "Code-Review", 1)
    listed = get(server, f"changes/{n}/reviewers/")
    assert listed == [
        reviewer_info(server, "bob", {"Code-Review": "+1"}),
        reviewer_info(server, "carol", {"Code-Review": " 0"}),
    ]
    assert get(server, f"changes/{n}/reviewers/bob") == [listed[0]]
    refused(
        call(server, "GET", f"changes/{n}/reviewers/alice"),
        404,
        f"Not found: alice is not a reviewer of change {n}",
    )

    # Nobody by that name: 400 with the AddReviewerResult (Gerrit 3.9 and later).
    nobody = state(server, n)
    response = call(server, "POST", f"changes/{n}/reviewers", {"reviewer": "nobody"})
    assert decode(response, 400) == {
        "input": "nobody",
        "error": "Account 'nobody' not found\nnobody does not identify a registered user or group",
    }
    response = call(server, "POST", f"changes/{n}/reviewers", {"reviewer": "bob", "state": "X"})
    assert response.status_code == 400 and "use REVIEWER or CC" in response.text
    response = call(server, "POST", f"changes/{n}/reviewers", {"reviewer": "bob"}, who=None)
    assert response.status_code == 401
    assert_unchanged(server, nobody)


def test_a_group_adds_its_members_and_a_big_one_needs_confirming(demo: LiveServer) -> None:
    server = demo
    accounts = server.services.accounts
    n = new_change(server)
    small = accounts.create_group("Reviewers-Small")
    for name in ("alice", "bob", "carol"):
        accounts.add_member(small, accounts.get(name))
    before = state(server, n)
    result = decode(call(server, "POST", f"changes/{n}/reviewers", {"reviewer": "Reviewers-Small"}))
    assert [r["username"] for r in result["reviewers"]] == ["bob", "carol"]  # not the owner
    assert [e.payload["reviewer"]["username"] for e in new_events(server, before)] == [
        "bob",
        "carol",
    ]

    big = accounts.create_group("Reviewers-Big")
    for i in range(11):
        accounts.add_member(big, accounts.create_account(f"user{i}", email=f"u{i}@example.com"))
    asked = state(server, n)
    response = call(server, "POST", f"changes/{n}/reviewers", {"reviewer": "Reviewers-Big"})
    assert decode(response, 400) == {
        "input": "Reviewers-Big",
        "error": (
            "The group Reviewers-Big has 11 members. Do you want to add them all as reviewers?"
        ),
        "confirm": True,
    }
    assert_unchanged(server, asked)
    body = {"reviewer": "Reviewers-Big", "confirmed": True}
    assert len(decode(call(server, "POST", f"changes/{n}/reviewers", body))["reviewers"]) == 11
    assert len(new_events(server, asked)) == 11


def test_remove_reviewer_with_votes_and_who_may(demo: LiveServer) -> None:
    server = demo
    n = new_change(server)
    make_reviewer(server, n, "bob")
    make_reviewer(server, n, "carol")
    vote(server, n, "bob", "Code-Review", -1)
    vote(server, n, "bob", "Verified", 1)

    before = state(server, n)
    response = call(server, "DELETE", f"changes/{n}/reviewers/bob", who="carol")
    assert response.status_code == 403 and "removeReviewer" in response.text
    refused(
        call(server, "DELETE", f"changes/{n}/reviewers/nobody"),
        404,
        f"Not found: nobody is not a reviewer of change {n}",
    )
    assert_unchanged(server, before)

    response = call(server, "DELETE", f"changes/{n}/reviewers/bob", {"notify": "NONE"})
    assert response.status_code == 204
    expected = (
        "Removed reviewer Bob <bob@example.com> with the following votes:\n\n"
        "* Code-Review-1 by Bob <bob@example.com>\n"
        "* Verified+1 by Bob <bob@example.com>\n"
    )
    message = last_message(server, before)
    assert (message.message, message.tag) == (expected, "autogenerated:gerrit:deleteReviewer")
    event = one_event(server, before, "reviewer-deleted")
    assert event["reviewer"] == account_attr("bob") and event["remover"] == account_attr("alice")
    assert event["comment"] == expected
    assert event["approvals"] == [
        {"type": "Code-Review", "description": "Code-Review", "value": "0", "oldValue": "-1"},
        {"type": "Verified", "description": "Verified", "value": "0", "oldValue": "1"},
        {"type": "Workflow", "description": "Workflow", "value": "0"},
    ]
    assert [r["username"] for r in get(server, f"changes/{n}/reviewers/")] == ["carol"]
    with server.services.engine.connect() as conn:
        assert approval_store.current_votes(conn, [n]) == {}

    # A reviewer may always remove themself, by POST too.
    removed = state(server, n)
    response = call(server, "POST", f"changes/{n}/reviewers/carol/delete", {}, who="carol")
    assert response.status_code == 204
    assert last_message(server, removed).message == "Removed reviewer Carol <carol@example.com>."
    assert one_event(server, removed, "reviewer-deleted")["remover"] == account_attr("carol")


def test_votes_listed_and_one_deleted(demo: LiveServer) -> None:
    server = demo
    n = new_change(server)
    make_reviewer(server, n, "bob")
    vote(server, n, "bob", "Code-Review", 1)
    vote(server, n, "bob", "Verified", -1)
    assert get(server, f"changes/{n}/reviewers/bob/votes/") == {"Code-Review": 1, "Verified": -1}

    before = state(server, n)
    response = call(server, "DELETE", f"changes/{n}/reviewers/bob/votes/Code-Review", who="carol")
    assert response.status_code == 403
    refused(
        call(server, "DELETE", f"changes/{n}/reviewers/bob/votes/Workflow"),
        404,
        f"Not found: bob has no Workflow vote on the current patch set of change {n}",
    )
    assert_unchanged(server, before)

    response = call(server, "DELETE", f"changes/{n}/reviewers/bob/votes/Code-Review")
    assert response.status_code == 204
    message = last_message(server, before)
    assert message.message == "Removed Code-Review+1 by Bob <bob@example.com>\n"
    assert message.tag == "autogenerated:gerrit:deleteVote"
    event = one_event(server, before, "vote-deleted")
    assert event["reviewer"] == account_attr("bob") and event["remover"] == account_attr("alice")
    assert event["comment"] == "Removed Code-Review+1 by Bob <bob@example.com>\n"
    assert event["approvals"] == [
        {"type": "Code-Review", "description": "Code-Review", "value": "0", "oldValue": "1"},
        {"type": "Verified", "description": "Verified", "value": "-1"},
    ]
    assert get(server, f"changes/{n}/reviewers/bob/votes/") == {"Verified": -1}
    # The voter stays a reviewer; only the vote went.
    assert [r["username"] for r in get(server, f"changes/{n}/reviewers/")] == ["bob"]

    deleted = state(server, n)
    response = call(
        server, "POST", f"changes/{n}/reviewers/bob/votes/Verified/delete", {}, who="bob"
    )
    assert response.status_code == 204
    assert one_event(server, deleted, "vote-deleted")["remover"] == account_attr("bob")


# --- pushes --------------------------------------------------------------------------------------


def test_push_options_record_topic_wip_and_reviewer_events(
    demo: LiveServer, tmp_path: Path
) -> None:
    server = demo
    alice = contributor(server, tmp_path, PROJECT, "alice")
    key = new_change_id()

    def amend(version: str) -> None:
        (alice.work / "pushed.txt").write_text(version + "\n")
        git(alice.work, "add", "pushed.txt")
        git(alice.work, "commit", "-q", "--amend", "-m", f"Pushed change\n\nChange-Id: {key}\n")

    alice.commit("Pushed change", change_id=key)
    with server.services.engine.connect() as conn:
        start = last_seq(conn)
    pushed = alice.push("HEAD:refs/for/master%r=bob,cc=carol")
    assert pushed.ok, pushed.output
    n = server.services.review.lookup(key).number
    with server.services.engine.connect() as conn:
        first = events_after(conn, start)
    assert [e.type for e in first] == ["patchset-created", "reviewer-added"]  # the CC gets none
    assert first[1].payload["reviewer"] == account_attr("bob")
    assert first[1].payload["adder"] == account_attr("alice")

    before = state(server, n)
    amend("two")
    pushed = alice.push("HEAD:refs/for/master%topic=push-topic,wip")
    assert pushed.ok, pushed.output
    found = new_events(server, before)
    assert [e.type for e in found] == ["patchset-created", "topic-changed", "wip-state-changed"]
    topic, wip = found[1].payload, found[2].payload
    assert "oldTopic" not in topic and topic["change"]["topic"] == "push-topic"
    assert topic["changer"] == account_attr("alice")
    assert wip["change"]["wip"] is True and wip["patchSet"]["number"] == 2
    assert wip["changer"] == account_attr("alice")

    # The same topic is no change; `ready` is.
    before = state(server, n)
    amend("three")
    pushed = alice.push("HEAD:refs/for/master%topic=push-topic,ready")
    assert pushed.ok, pushed.output
    found = new_events(server, before)
    assert [e.type for e in found] == ["patchset-created", "wip-state-changed"]
    assert "wip" not in found[1].payload["change"]

    before = state(server, n)
    amend("four")
    assert alice.push("HEAD:refs/for/master%topic=renamed").ok
    [_, renamed] = new_events(server, before)
    assert renamed.type == "topic-changed" and renamed.payload["oldTopic"] == "push-topic"

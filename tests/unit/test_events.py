"""Gerrit stream-events JSON built from review values."""

from __future__ import annotations

import dataclasses

from lockgate.core.review import events
from lockgate.core.review.model import (
    Account,
    Change,
    ChangeStatus,
    CommitInfo,
    FileChange,
    FileStatus,
    PatchSet,
    Person,
)

URL = "https://review.example/"
NOW = 1_700_000_123_456_789
ALICE = Account(1, "alice", full_name="Alice", email="alice@example.com")
AUTHOR = Person("Alice", "alice@example.com", 1_700_000_000, 60)
COMMIT = CommitInfo("c" * 40, ("p" * 40,), AUTHOR, AUTHOR, "Subject\n\nChange-Id: I" + "a" * 40)
CHANGE = Change(
    number=123,
    project="team/app",
    branch="master",
    change_key="I" + "a" * 40,
    owner_id=1,
    subject="Subject",
    status=ChangeStatus.NEW,
    created_at=NOW,
    updated_at=NOW,
    current_patch_set=2,
    topic="frob",
    work_in_progress=True,
)
PATCH_SET = PatchSet(
    change_number=123,
    number=2,
    commit=COMMIT,
    uploader_id=1,
    created_at=NOW,
    files=(FileChange("a.txt", FileStatus.MODIFIED, lines_inserted=3, lines_deleted=1),),
)


def test_patchset_created_has_the_shape_ci_systems_read() -> None:
    event = events.patchset_created(
        change=CHANGE,
        patch_set=PATCH_SET,
        owner=ALICE,
        uploader=ALICE,
        public_url=URL,
        now=NOW,
    )
    assert event["type"] == "patchset-created"
    assert event["eventCreatedOn"] == 1_700_000_123
    assert event["refName"] == "refs/heads/master"
    assert event["changeKey"] == {"id": CHANGE.change_key}
    assert event["uploader"] == {"name": "Alice", "email": "alice@example.com", "username": "alice"}
    assert event["change"]["url"] == "https://review.example/c/team/app/+/123"
    assert event["change"]["number"] == 123
    assert event["change"]["topic"] == "frob"
    assert event["change"]["wip"] is True
    assert "private" not in event["change"]
    assert event["patchSet"] == {
        "number": 2,
        "revision": "c" * 40,
        "parents": ["p" * 40],
        "ref": "refs/changes/23/123/2",
        "uploader": event["uploader"],
        "createdOn": 1_700_000_123,
        "author": {"name": "Alice", "email": "alice@example.com"},
        "kind": "REWORK",
        "sizeInsertions": 3,
        "sizeDeletions": -1,
    }


def test_change_merged_and_ref_updated() -> None:
    merged = events.change_merged(
        change=CHANGE,
        patch_set=PATCH_SET,
        owner=ALICE,
        uploader=ALICE,
        submitter=None,
        new_rev="c" * 40,
        public_url=URL,
        now=NOW,
    )
    assert merged["type"] == "change-merged"
    assert merged["newRev"] == "c" * 40
    assert merged["submitter"] == {"name": "Anonymous Coward"}
    updated = events.ref_updated(
        project="team/app",
        ref="refs/heads/master",
        old="0" * 40,
        new="c" * 40,
        submitter=ALICE,
        now=NOW,
    )
    assert updated == {
        "type": "ref-updated",
        "eventCreatedOn": 1_700_000_123,
        "submitter": {"name": "Alice", "email": "alice@example.com", "username": "alice"},
        "refUpdate": {
            "oldRev": "0" * 40,
            "newRev": "c" * 40,
            "refName": "refs/heads/master",
            "project": "team/app",
        },
    }


# --- the change-state events: fields as cmd-stream-events.txt documents them ---------------

COMMON = {"type", "eventCreatedOn", "project", "refName", "changeKey", "change"}
BOB = Account(2, "bob", full_name="Bob", email="bob@example.com")
SUBJECT = events.ChangeEventSubject(
    change=CHANGE, patch_set=PATCH_SET, owner=ALICE, uploader=ALICE, public_url=URL, now=NOW
)
ALICE_ATTR = {"name": "Alice", "email": "alice@example.com", "username": "alice"}
BOB_ATTR = {"name": "Bob", "email": "bob@example.com", "username": "bob"}


def test_abandoned_and_restored_carry_who_and_why_with_the_patch_set() -> None:
    abandoned = events.change_abandoned(SUBJECT, abandoner=BOB, reason="Superseded")
    assert set(abandoned) == COMMON | {"patchSet", "abandoner", "reason"}
    assert abandoned["type"] == "change-abandoned"
    assert (abandoned["abandoner"], abandoned["reason"]) == (BOB_ATTR, "Superseded")
    assert abandoned["patchSet"]["number"] == 2
    assert abandoned["change"]["commitMessage"] == COMMIT.message
    restored = events.change_restored(SUBJECT, restorer=ALICE, reason="")
    assert set(restored) == COMMON | {"patchSet", "restorer", "reason"}
    assert restored["type"] == "change-restored" and restored["restorer"] == ALICE_ATTR


def test_topic_changed_names_the_old_topic_only_when_there_was_one() -> None:
    changed = events.topic_changed(SUBJECT, changer=BOB, old_topic="old")
    # json.txt's topic-changed has no patchSet.
    assert set(changed) == COMMON | {"changer", "oldTopic"}
    assert changed["type"] == "topic-changed"
    assert (changed["changer"], changed["oldTopic"]) == (BOB_ATTR, "old")
    assert changed["change"]["topic"] == "frob"
    assert "oldTopic" not in events.topic_changed(SUBJECT, changer=BOB, old_topic=None)


def test_hashtags_changed_lists_added_removed_and_all() -> None:
    tagged = dataclasses.replace(SUBJECT, change=dataclasses.replace(CHANGE, hashtags=("a", "b")))
    event = events.hashtags_changed(tagged, editor=ALICE, added=["b"], removed=["c"])
    assert set(event) == COMMON | {"editor", "added", "removed", "hashtags"}
    assert event["type"] == "hashtags-changed"
    assert (event["added"], event["removed"], event["hashtags"]) == (["b"], ["c"], ["a", "b"])
    assert event["change"]["hashtags"] == ["a", "b"]
    only_added = events.hashtags_changed(tagged, editor=ALICE, added=["b"], removed=[])
    assert "removed" not in only_added


def test_wip_and_private_state_changes_name_the_changer() -> None:
    wip = events.wip_state_changed(SUBJECT, changer=ALICE)
    assert set(wip) == COMMON | {"patchSet", "changer"}
    assert wip["type"] == "wip-state-changed" and wip["change"]["wip"] is True
    private = dataclasses.replace(SUBJECT, change=dataclasses.replace(CHANGE, private=True))
    event = events.private_state_changed(private, changer=BOB)
    assert set(event) == COMMON | {"patchSet", "changer"}
    assert event["type"] == "private-state-changed" and event["change"]["private"] is True
    assert event["changer"] == BOB_ATTR


def test_reviewer_added_and_deleted_and_vote_deleted() -> None:
    added = events.reviewer_added(SUBJECT, reviewer=BOB, adder=ALICE)
    assert set(added) == COMMON | {"patchSet", "reviewer", "adder"}
    assert (added["type"], added["reviewer"], added["adder"]) == (
        "reviewer-added",
        BOB_ATTR,
        ALICE_ATTR,
    )
    approvals = [
        events.ApprovalChange("Code-Review", 0, -1),
        events.ApprovalChange("Verified", 0, None),
    ]
    deleted = events.reviewer_deleted(
        SUBJECT, reviewer=BOB, remover=ALICE, approvals=approvals, comment="Removed reviewer Bob."
    )
    assert set(deleted) == COMMON | {"patchSet", "reviewer", "remover", "approvals", "comment"}
    assert deleted["type"] == "reviewer-deleted"
    # Values are strings; oldValue only where the vote went away.
    assert deleted["approvals"] == [
        {"type": "Code-Review", "description": "Code-Review", "value": "0", "oldValue": "-1"},
        {"type": "Verified", "description": "Verified", "value": "0"},
    ]
    vote = events.vote_deleted(
        SUBJECT,
        reviewer=BOB,
        remover=BOB,
        approvals=[events.ApprovalChange("Code-Review", 0, 2)],
        comment="Removed Code-Review+2 by Bob <bob@example.com>\n",
    )
    assert set(vote) == COMMON | {"patchSet", "reviewer", "remover", "approvals", "comment"}
    assert vote["type"] == "vote-deleted" and vote["remover"] == BOB_ATTR
    assert vote["approvals"][0]["oldValue"] == "2"

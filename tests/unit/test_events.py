"""Gerrit stream-events JSON built from review values."""

from __future__ import annotations

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

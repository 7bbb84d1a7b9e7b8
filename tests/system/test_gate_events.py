"""The event log read as the pipelines' triggers see it: each kind of event
made by a real action on the server (a push, a review, an abandon, a submit,
a tag push), translated into a trigger event with the change as it is now."""

from __future__ import annotations

from pathlib import Path

from lockgate.adapters.db.event_store import StoredEvent, encode_payload
from lockgate.core.gating.events import EventApproval, TriggerEvent
from lockgate.testing.server import LiveServer
from tests.gitutil import admin, contributor, git
from tests.system.gating import call, last, log_after, project, push
from tests.system.reviewing import review
from tests.system.submitting import approve, submit, tip

APP = "team/app"


def _translated(server: LiveServer, after: int) -> list[TriggerEvent]:
    inputs = server.services.gate_inputs
    found = []
    for stored in log_after(server, after):
        event = inputs.trigger_event(stored, "gerrit")
        if event is not None:
            found.append(event)
    return found


def _one(events: list[TriggerEvent], kind: str) -> TriggerEvent:
    [event] = [e for e in events if e.type == kind]
    return event


def test_every_kind_of_review_event_becomes_a_trigger_event(
    server: LiveServer, tmp_path: Path
) -> None:
    alice = project(server, tmp_path, APP)
    contributor(server, tmp_path, APP, "bob")
    start = last(server)
    pushed = push(alice, "Add a feature", files={"feature.py": "x = 1\n"})
    number = pushed.number
    review(
        server, number, {"message": "Looks good", "labels": {"Code-Review": 2}}, auth=server.admin
    )
    call(server, "PUT", f"changes/{number}/topic", {"topic": "features"})
    call(server, "POST", f"changes/{number}/hashtags", {"add": ["ux"]})
    call(server, "POST", f"changes/{number}/reviewers", {"reviewer": "bob"})
    call(server, "POST", f"changes/{number}/wip", {})
    call(server, "POST", f"changes/{number}/ready", {})
    call(server, "DELETE", f"changes/{number}/reviewers/admin/votes/Code-Review", {}, status=204)
    call(server, "POST", f"changes/{number}/abandon", {"message": "not now"})
    call(server, "POST", f"changes/{number}/restore", {"message": "now"})
    call(server, "POST", f"changes/{number}/private", {}, status=201)
    call(server, "DELETE", f"changes/{number}/private", {}, status=204)

    events = _translated(server, start)

    kinds = [e.type for e in events]
    assert kinds == [
        "patchset-created",
        "comment-added",
        "topic-changed",
        "hashtags-changed",
        "reviewer-added",
        "wip-state-changed",
        "wip-state-changed",
        "vote-deleted",
        "change-abandoned",
        "change-restored",
    ]  # private-state-changed is no trigger's: left out
    for event in events:
        assert event.connection == "gerrit"
        assert (event.project, event.branch) == (APP, "master")
        assert event.change is not None and event.change.number == number
        assert event.ref == event.change.ref == f"refs/changes/{number % 100:02d}/{number}/1"
        assert event.seq > start

    created = _one(events, "patchset-created")
    assert (created.username, created.email) == ("alice", "alice@example.com")
    assert created.change is not None and created.change.files == ("feature.py",)

    commented = _one(events, "comment-added")
    assert (commented.username, commented.email) == ("admin", "admin@localhost")
    assert "Looks good" in commented.comment
    # Every label of the change, as Gerrit sends them; the old value only on
    # the one this review changed.
    assert commented.approvals == (
        EventApproval("Code-Review", 2, 0),
        EventApproval("Verified", 0),
        EventApproval("Workflow", 0),
    )

    assert _one(events, "topic-changed").username == "admin"
    assert _one(events, "reviewer-added").username == "bob"
    deleted = _one(events, "vote-deleted")
    assert deleted.username == "admin"
    assert EventApproval("Code-Review", 0, 2) in deleted.approvals
    abandoned = _one(events, "change-abandoned")
    assert abandoned.username == "admin"
    # The change as it is now, not as it was: restored, open again.
    assert abandoned.change is not None and abandoned.change.status == "NEW"
    assert abandoned.change.topic == "features" and abandoned.change.hashtags == ("ux",)

    # A page of the log read at once says what each event read alone says.
    page = log_after(server, start)
    inputs = server.services.gate_inputs
    assert inputs.trigger_events(page, "gerrit") == [
        inputs.trigger_event(e, "gerrit") for e in page
    ]


def test_a_submit_gives_change_merged_and_the_branch_update(
    server: LiveServer, tmp_path: Path
) -> None:
    alice = project(server, tmp_path, APP)
    pushed = push(alice, "Ship it")
    before = tip(server, APP)
    approve(server, pushed.number)
    start = last(server)

    assert submit(server, pushed.number).status == 200
    events = _translated(server, start)

    merged = _one(events, "change-merged")
    assert merged.change is not None and merged.change.status == "MERGED"
    assert merged.username == "admin"
    assert merged.needed_by == () and merged.dependencies == {}
    updated = _one(events, "ref-updated")
    assert (updated.ref, updated.branch, updated.change) == ("refs/heads/master", "master", None)
    assert updated.ref_update is not None
    assert (updated.ref_update.oldrev, updated.ref_update.newrev) == (before, tip(server, APP))
    assert not updated.ref_update.is_tag


def test_a_pushed_tag_is_a_ref_update_of_no_branch(server: LiveServer, tmp_path: Path) -> None:
    server.services.projects.create(APP, create_empty_commit=True)
    owner = admin(server, tmp_path, APP)
    git(owner.work, "tag", "-a", "1.0", "-m", "Release 1.0")
    start = last(server)

    assert owner.push("refs/tags/1.0").ok
    [event] = _translated(server, start)

    assert (event.type, event.ref, event.branch) == ("ref-updated", "refs/tags/1.0", "")
    assert event.ref_update is not None and event.ref_update.is_tag
    assert event.ref_update.oldrev == "0" * 40
    assert event.ref_update.newrev == git(owner.work, "rev-parse", "1.0").strip()
    assert event.username == "admin"


def test_a_change_event_carries_what_the_change_needs_and_what_needs_it(
    server: LiveServer, tmp_path: Path
) -> None:
    alice = project(server, tmp_path, APP)
    base = push(alice, "Base")
    start = last(server)
    top = push(alice, "Top", on="HEAD")
    review(server, base.number, {"labels": {"Code-Review": 2}}, auth=server.admin)

    events = _translated(server, start)

    created = _one(events, "patchset-created")
    assert created.change is not None and created.change.number == top.number
    assert list(created.dependencies) == [f"{base.number},1"]
    commented = _one(events, "comment-added")
    assert [c.number for c in commented.needed_by] == [top.number]


def test_events_no_trigger_knows_are_left_out(sqlite_server: LiveServer, tmp_path: Path) -> None:
    server = sqlite_server
    alice = project(server, tmp_path, APP)
    pushed = push(alice, "Known")
    inputs = server.services.gate_inputs

    def stored(kind: str, payload: dict[str, object], number: int | None = None) -> StoredEvent:
        return StoredEvent(1, kind, 0, encode_payload({"type": kind, **payload}), APP, number)

    unknown = stored("private-state-changed", {"change": {"number": pushed.number}})
    review_ref = stored(
        "ref-updated",
        {"refUpdate": {"refName": "refs/changes/01/1/1", "project": APP, "newRev": "a" * 40}},
    )
    gone = stored("comment-added", {"change": {"number": 424242}, "patchSet": {"number": 1}})
    no_change = stored("comment-added", {})
    old_style = stored(
        "ref-updated",
        {
            "refUpdate": {
                "refName": "master",
                "project": APP,
                "oldRev": "a" * 40,
                "newRev": "b" * 40,
            }
        },
    )
    odd_votes = stored(
        "comment-added",
        {
            "change": {"number": pushed.number},
            "approvals": [{"type": "Code-Review", "value": "x"}, "junk", {"value": "1"}],
        },
    )

    found = inputs.trigger_events([unknown, review_ref, gone, no_change, old_style, odd_votes], "g")

    assert found[:4] == [None, None, None, None]
    branch = found[4]
    assert branch is not None and (branch.ref, branch.branch) == ("refs/heads/master", "master")
    votes = found[5]
    assert votes is not None and votes.change is not None and votes.approvals == ()
    assert votes.change.key == f"{pushed.number},1"

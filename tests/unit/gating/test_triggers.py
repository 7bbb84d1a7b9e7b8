"""Which events a pipeline's triggers let in."""

from __future__ import annotations

from lockgate.core.config.objects import ApprovalMatch, PipelineDef, TriggerDef
from lockgate.core.gating.changes import Approval, Change, Ref
from lockgate.core.gating.events import EventApproval, TriggerEvent
from lockgate.core.gating.triggers import ZERO_SHA, pipeline_triggered, trigger_matches

NOW = 1_000_000.0


def change(**fields: object) -> Change:
    base: dict[str, object] = dict(
        project="org/app",
        branch="master",
        number=1,
        patchset=1,
        commit="c" * 40,
        ref="refs/changes/01/1/1",
        url="https://review.example/c/org/app/+/1",
        owner="alice",
        subject="Fix",
        message="Fix\n",
    )
    base.update(fields)
    return Change(**base)  # type: ignore[arg-type]


def event(type: str = "comment-added", **fields: object) -> TriggerEvent:
    base: dict[str, object] = dict(
        seq=1, type=type, connection="gerrit", project="org/app", branch="master", change=change()
    )
    base.update(fields)
    return TriggerEvent(**base)  # type: ignore[arg-type]


def gerrit(**fields: object) -> TriggerDef:
    return TriggerDef("gerrit", "gerrit", **fields)  # type: ignore[arg-type]


WORKFLOW = ApprovalMatch({"Workflow": (1,)})


def test_the_event_type_must_be_listed() -> None:
    assert trigger_matches(
        gerrit(events=("patchset-created",)), event("patchset-created"), "p", NOW
    )
    assert not trigger_matches(gerrit(events=("patchset-created",)), event(), "p", NOW)


def test_another_connection_does_not_match() -> None:
    assert not trigger_matches(gerrit(), event(connection="other"), "p", NOW)


def test_an_approval_matches_only_when_the_event_changed_it_to_a_listed_value() -> None:
    trigger = gerrit(events=("comment-added",), approvals=(WORKFLOW,))
    added = event(approvals=(EventApproval("Workflow", 1, old_value=0),))
    unchanged = event(approvals=(EventApproval("Workflow", 1, old_value=None),))
    removed = event(approvals=(EventApproval("Workflow", 0, old_value=1),))
    assert trigger_matches(trigger, added, "gate", NOW)
    assert not trigger_matches(trigger, unchanged, "gate", NOW)
    assert not trigger_matches(trigger, removed, "gate", NOW)


def test_an_approval_entry_can_name_the_account_that_must_cast_it() -> None:
    trigger = gerrit(approvals=(ApprovalMatch({"Workflow": (1,)}, username="^core-"),))
    vote = (EventApproval("Workflow", 1, old_value=0),)
    assert trigger_matches(trigger, event(approvals=vote, username="core-bob"), "gate", NOW)
    assert not trigger_matches(trigger, event(approvals=vote, username="alice"), "gate", NOW)


def test_comment_regexes_search_the_comment() -> None:
    trigger = gerrit(comments=(r"(?im)^\s*recheck\s*$",))
    assert trigger_matches(trigger, event(comment="Patch Set 1:\n\nrecheck"), "check", NOW)
    assert not trigger_matches(trigger, event(comment="please do not recheck this"), "check", NOW)


def test_branch_and_ref_regexes() -> None:
    assert trigger_matches(gerrit(branches=("^stable/",)), event(branch="stable/2024"), "p", NOW)
    assert not trigger_matches(gerrit(branches=("^stable/",)), event(branch="master"), "p", NOW)
    tag = Ref("org/app", "refs/tags/1.0", "a" * 40, "b" * 40)
    ref_event = event("ref-updated", change=None, ref="refs/tags/1.0", ref_update=tag)
    assert trigger_matches(gerrit(refs=(r"^refs/tags/",)), ref_event, "release", NOW)
    assert not trigger_matches(gerrit(refs=(r"^refs/heads/",)), ref_event, "release", NOW)


def test_usernames_and_emails_filter_on_the_events_author() -> None:
    assert trigger_matches(gerrit(usernames=("^alice$",)), event(username="alice"), "p", NOW)
    assert not trigger_matches(gerrit(usernames=("^alice$",)), event(username="bob"), "p", NOW)
    assert trigger_matches(
        gerrit(emails=("@example.org$",)), event(email="a@example.org"), "p", NOW
    )
    assert not trigger_matches(gerrit(emails=("@example.org$",)), event(email="a@x.com"), "p", NOW)


def test_require_and_reject_approval_look_at_the_change() -> None:
    reviewed = change(approvals=(Approval("Code-Review", 2, "bob", "bob@example.org", NOW),))
    needs_review = gerrit(require_approvals=(ApprovalMatch({"Code-Review": (2,)}),))
    assert trigger_matches(needs_review, event(change=reviewed), "p", NOW)
    assert not trigger_matches(needs_review, event(), "p", NOW)
    vetoed = change(approvals=(Approval("Verified", -1, "ci", "ci@example.org", NOW),))
    no_veto = gerrit(reject_approvals=(ApprovalMatch({"Verified": (-1, -2)}),))
    assert not trigger_matches(no_veto, event(change=vetoed), "p", NOW)
    assert trigger_matches(no_veto, event(change=reviewed), "p", NOW)


def test_a_deleted_ref_is_ignored_unless_asked_for() -> None:
    gone = Ref("org/app", "refs/heads/old", "a" * 40, ZERO_SHA)
    deleted = event("ref-updated", change=None, ref="refs/heads/old", ref_update=gone)
    assert not trigger_matches(gerrit(events=("ref-updated",)), deleted, "post", NOW)
    assert trigger_matches(
        gerrit(events=("ref-updated",), ignore_deletes=False), deleted, "post", NOW
    )


def test_a_timer_trigger_matches_its_own_pipelines_timer_event() -> None:
    timer = TriggerDef("timer", "timer", times=("0 0 * * *",))
    tick = event("timer", change=None, connection="timer", pipeline="periodic")
    assert trigger_matches(timer, tick, "periodic", NOW)
    assert not trigger_matches(timer, tick, "other", NOW)
    assert not trigger_matches(gerrit(), tick, "periodic", NOW)


def test_a_pipeline_is_triggered_when_any_of_its_triggers_matches() -> None:
    pipeline = PipelineDef(
        name="check",
        manager="independent",
        triggers=(gerrit(events=("patchset-created",)), gerrit(comments=("^recheck",))),
    )
    assert pipeline_triggered(pipeline, event(comment="recheck"), NOW)
    assert pipeline_triggered(pipeline, event("patchset-created"), NOW)
    assert not pipeline_triggered(pipeline, event(comment="lgtm"), NOW)

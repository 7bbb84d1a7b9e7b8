"""Gerrit stream-events JSON, built from review values.

The shapes are those of Gerrit's `Documentation/json.txt`: what Zuul, Jenkins
and webhook listeners parse. Times are epoch seconds, as Gerrit sends them;
callers pass "now" in microseconds, as the rest of the core counts time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lockgate.core.review.model import Account, Change, PatchSet, Person
from lockgate.core.review.refs import HEADS

Json = dict[str, Any]


def seconds(micros: int) -> int:
    return micros // 1_000_000


def change_url(public_url: str, project: str, number: int) -> str:
    """The web address of a change: `<public url>c/<project>/+/<N>`."""
    return f"{public_url}c/{project}/+/{number}"


def account_attr(account: Account | None) -> Json:
    """`{name, email, username}`, leaving out what the account does not have."""
    if account is None:
        return {"name": "Anonymous Coward"}
    attr: Json = {}
    if account.full_name:
        attr["name"] = account.full_name
    if account.email:
        attr["email"] = account.email
    attr["username"] = account.username
    return attr


def person_attr(person: Person) -> Json:
    return {"name": person.name, "email": person.email}


def change_attr(change: Change, *, owner: Account | None, public_url: str, message: str) -> Json:
    """The `change` attribute; `message` is the current patch set's commit message."""
    attr: Json = {
        "project": change.project,
        "branch": change.branch,
        "id": change.change_key,
        "number": change.number,
        "subject": change.subject,
        "owner": account_attr(owner),
        "url": change_url(public_url, change.project, change.number),
        "commitMessage": message,
        "createdOn": seconds(change.created_at),
        "status": change.status.value,
    }
    if change.topic:
        attr["topic"] = change.topic
    if change.hashtags:
        attr["hashtags"] = list(change.hashtags)
    if change.work_in_progress:
        attr["wip"] = True
    if change.private:
        attr["private"] = True
    return attr


def patch_set_attr(patch_set: PatchSet, *, uploader: Account | None) -> Json:
    commit = patch_set.commit
    return {
        "number": patch_set.number,
        "revision": commit.sha,
        "parents": list(commit.parents),
        "ref": patch_set.ref,
        "uploader": account_attr(uploader),
        "createdOn": seconds(patch_set.created_at),
        "author": person_attr(commit.author),
        "kind": patch_set.kind,
        "sizeInsertions": sum(f.lines_inserted for f in patch_set.files),
        "sizeDeletions": -sum(f.lines_deleted for f in patch_set.files),
    }


def _change_event(kind: str, change: Change, now: int) -> Json:
    return {
        "type": kind,
        "eventCreatedOn": seconds(now),
        "project": change.project,
        "refName": HEADS + change.branch,
        "changeKey": {"id": change.change_key},
    }


def patchset_created(
    *,
    change: Change,
    patch_set: PatchSet,
    owner: Account | None,
    uploader: Account | None,
    public_url: str,
    now: int,
) -> Json:
    event = _change_event("patchset-created", change, now)
    event["uploader"] = account_attr(uploader)
    event["patchSet"] = patch_set_attr(patch_set, uploader=uploader)
    event["change"] = change_attr(
        change, owner=owner, public_url=public_url, message=patch_set.commit.message
    )
    return event


def change_merged(
    *,
    change: Change,
    patch_set: PatchSet,
    owner: Account | None,
    uploader: Account | None,
    submitter: Account | None,
    new_rev: str,
    public_url: str,
    now: int,
) -> Json:
    event = _change_event("change-merged", change, now)
    event["submitter"] = account_attr(submitter)
    event["newRev"] = new_rev
    event["patchSet"] = patch_set_attr(patch_set, uploader=uploader)
    event["change"] = change_attr(
        change, owner=owner, public_url=public_url, message=patch_set.commit.message
    )
    return event


def ref_updated(
    *, project: str, ref: str, old: str, new: str, submitter: Account | None, now: int
) -> Json:
    return {
        "type": "ref-updated",
        "eventCreatedOn": seconds(now),
        "submitter": account_attr(submitter),
        "refUpdate": {"oldRev": old, "newRev": new, "refName": ref, "project": project},
    }


@dataclass(frozen=True, slots=True)
class ChangeEventSubject:
    """What every change event names: the change as it is after the fact, its
    current patch set, and the accounts those show."""

    change: Change
    patch_set: PatchSet
    owner: Account | None
    uploader: Account | None
    public_url: str
    now: int


def _about(kind: str, subject: ChangeEventSubject, *, with_patch_set: bool = True) -> Json:
    event = _change_event(kind, subject.change, subject.now)
    if with_patch_set:
        event["patchSet"] = patch_set_attr(subject.patch_set, uploader=subject.uploader)
    event["change"] = change_attr(
        subject.change,
        owner=subject.owner,
        public_url=subject.public_url,
        message=subject.patch_set.commit.message,
    )
    return event


@dataclass(frozen=True, slots=True)
class ApprovalChange:
    """One label of a `comment-added` event: the voter's vote after the review,
    and the vote before it when this review changed it."""

    label: str
    value: int
    old_value: int | None = None


def approval_attr(approval: ApprovalChange) -> Json:
    # Values are strings, and oldValue is present only when this review changed
    # the vote: Zuul's approval triggers rely on both.
    attr: Json = {
        "type": approval.label,
        "description": approval.label,
        "value": str(approval.value),
    }
    if approval.old_value is not None and approval.old_value != approval.value:
        attr["oldValue"] = str(approval.old_value)
    return attr


def comment_added(
    subject: ChangeEventSubject,
    *,
    author: Account | None,
    approvals: Sequence[ApprovalChange],
    comment: str,
) -> Json:
    event = _about("comment-added", subject)
    event["author"] = account_attr(author)
    event["approvals"] = [approval_attr(a) for a in approvals]
    event["comment"] = comment
    return event


def change_abandoned(
    subject: ChangeEventSubject, *, abandoner: Account | None, reason: str
) -> Json:
    event = _about("change-abandoned", subject)
    event["abandoner"] = account_attr(abandoner)
    event["reason"] = reason
    return event


def change_restored(subject: ChangeEventSubject, *, restorer: Account | None, reason: str) -> Json:
    event = _about("change-restored", subject)
    event["restorer"] = account_attr(restorer)
    event["reason"] = reason
    return event


def topic_changed(
    subject: ChangeEventSubject, *, changer: Account | None, old_topic: str | None
) -> Json:
    event = _about("topic-changed", subject, with_patch_set=False)
    event["changer"] = account_attr(changer)
    if old_topic:
        event["oldTopic"] = old_topic
    return event


def wip_state_changed(subject: ChangeEventSubject, *, changer: Account | None) -> Json:
    event = _about("wip-state-changed", subject)
    event["changer"] = account_attr(changer)
    return event


def private_state_changed(subject: ChangeEventSubject, *, changer: Account | None) -> Json:
    event = _about("private-state-changed", subject)
    event["changer"] = account_attr(changer)
    return event


def hashtags_changed(
    subject: ChangeEventSubject,
    *,
    editor: Account | None,
    added: Sequence[str],
    removed: Sequence[str],
) -> Json:
    event = _about("hashtags-changed", subject, with_patch_set=False)
    event["editor"] = account_attr(editor)
    if added:
        event["added"] = list(added)
    if removed:
        event["removed"] = list(removed)
    event["hashtags"] = list(subject.change.hashtags)
    return event


def reviewer_added(
    subject: ChangeEventSubject, *, reviewer: Account | None, adder: Account | None
) -> Json:
    event = _about("reviewer-added", subject)
    event["reviewer"] = account_attr(reviewer)
    event["adder"] = account_attr(adder)
    return event


def _removal(
    kind: str,
    subject: ChangeEventSubject,
    *,
    reviewer: Account | None,
    remover: Account | None,
    approvals: Sequence[ApprovalChange],
    comment: str,
) -> Json:
    event = _about(kind, subject)
    event["reviewer"] = account_attr(reviewer)
    event["remover"] = account_attr(remover)
    event["approvals"] = [approval_attr(a) for a in approvals]
    event["comment"] = comment
    return event


def reviewer_deleted(
    subject: ChangeEventSubject,
    *,
    reviewer: Account | None,
    remover: Account | None,
    approvals: Sequence[ApprovalChange],
    comment: str,
) -> Json:
    return _removal(
        "reviewer-deleted",
        subject,
        reviewer=reviewer,
        remover=remover,
        approvals=approvals,
        comment=comment,
    )


def vote_deleted(
    subject: ChangeEventSubject,
    *,
    reviewer: Account | None,
    remover: Account | None,
    approvals: Sequence[ApprovalChange],
    comment: str,
) -> Json:
    return _removal(
        "vote-deleted",
        subject,
        reviewer=reviewer,
        remover=remover,
        approvals=approvals,
        comment=comment,
    )

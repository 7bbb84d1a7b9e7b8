"""What ChangeInfo shows of a change's labels, for a page of changes at once:
the votes on each current patch set (one query), what they add up to, the
legacy submit requirements, and what the viewer may vote and do.

Permission answers are asked once per (account, project, branch, label), so
a page of 500 changes on a few branches asks only a few questions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from lockgate.adapters.db.account_store import accounts_by_ids
from lockgate.adapters.db.approval_store import current_votes
from lockgate.adapters.db.engine import read_transaction
from lockgate.core.review.acl import Permission
from lockgate.core.review.labels import LabelType, SubmitRecord, Vote, submit_record
from lockgate.core.review.model import Account, Change, ChangeStatus, Project
from lockgate.core.review.refs import HEADS
from lockgate.core.review.review_input import Range, clip_range
from lockgate.core.review.submit_requirements import (
    RequirementResult,
    is_submittable,
    legacy_requirements,
)
from lockgate.services.labels import LabelConfig
from lockgate.services.permissions import Caller, Permissions


@dataclass(frozen=True, slots=True)
class LabelSummary:
    """One change's labels as ChangeInfo renders them."""

    labels: tuple[LabelType, ...]
    votes: tuple[Vote, ...]  # on the current patch set, zeros included
    record: SubmitRecord
    submittable: bool
    requirements: tuple[RequirementResult, ...]
    permitted: Mapping[str, Range]  # the viewer's range per label (open changes)
    ranges: Mapping[tuple[int, str], Range]  # (reviewer, label) -> range, detailed only
    removable: tuple[int, ...]  # reviewers the viewer may remove
    change_actions: tuple[str, ...]
    revision_actions: tuple[str, ...]

    @property
    def account_ids(self) -> set[int]:
        return {v.account_id for v in self.votes}


class LabelViews:
    def __init__(self, engine: Engine, labels: LabelConfig, permissions: Permissions) -> None:
        self.engine = engine
        self.labels = labels
        self.permissions = permissions

    def votes(self, numbers: Sequence[int]) -> dict[int, tuple[Vote, ...]]:
        """The votes on each change's current patch set, zeros included: what a
        list of changes shows, without the submit records a summary works out."""
        with read_transaction(self.engine) as conn:
            return {n: tuple(vs) for n, vs in current_votes(conn, list(numbers)).items()}

    def summaries(
        self,
        changes: Sequence[Change],
        projects: Mapping[str, Project],
        viewer: Account | None,
        *,
        detailed: bool = False,
        actions: bool = False,
    ) -> dict[int, LabelSummary]:
        with read_transaction(self.engine) as conn:
            votes = current_votes(conn, [c.number for c in changes])
            people: dict[int, Account] = {}
            if detailed:
                ids = {v.account_id for vs in votes.values() for v in vs}
                ids |= {r for c in changes for r in c.reviewers}
                people = accounts_by_ids(conn, sorted(ids))
        ask = _Questions(self.permissions, projects)
        result: dict[int, LabelSummary] = {}
        for change in changes:
            types = self.labels.for_project(change.project)
            on_change = tuple(votes.get(change.number, ()))
            record = submit_record(types, on_change)
            is_open = change.status is ChangeStatus.NEW
            submittable = is_submittable(
                record, open=is_open, work_in_progress=change.work_in_progress
            )
            permitted: dict[str, Range] = {}
            if is_open and viewer is not None:
                for label in types:
                    allowed = ask.range(viewer, change, label)
                    if allowed is not None:
                        permitted[label.name] = allowed
            ranges: dict[tuple[int, str], Range] = {}
            if detailed and is_open:
                for account_id in {*change.reviewers, *(v.account_id for v in on_change)}:
                    for label in types:
                        ranges[(account_id, label.name)] = ask.range(
                            people.get(account_id), change, label
                        )
            result[change.number] = LabelSummary(
                labels=types,
                votes=on_change,
                record=record,
                submittable=submittable,
                requirements=tuple(legacy_requirements(record)),
                permitted=permitted,
                ranges=ranges,
                removable=ask.removable(viewer, change) if detailed else (),
                change_actions=ask.change_actions(viewer, change) if actions else (),
                revision_actions=(
                    ask.revision_actions(viewer, change, submittable) if actions else ()
                ),
            )
        return result


class _Questions:
    """The permission questions of one page of changes, each asked once: the
    answers depend on the account, project, branch and ownership, not on the
    change itself."""

    def __init__(self, permissions: Permissions, projects: Mapping[str, Project]) -> None:
        self.permissions = permissions
        self.projects = projects
        self._ranges: dict[tuple[int, str, str, str, bool], Range] = {}
        self._callers: dict[int, Caller] = {}
        self._checks: dict[tuple[int, str, str, str, bool], bool] = {}

    def range(self, account: Account | None, change: Change, label: LabelType) -> Range:
        project = self.projects.get(change.project)
        if account is None or project is None:
            return None
        # Grants to Change Owner make the owner's range differ from others'.
        owner = account.id == change.owner_id
        key = (account.id, change.project, change.branch, label.name, owner)
        if key not in self._ranges:
            found = self.permissions.label_range(
                self.caller(account), project, label.name, HEADS + change.branch, change=change
            )
            self._ranges[key] = clip_range(label, found)
        return self._ranges[key]

    def caller(self, account: Account) -> Caller:
        """The account with its groups resolved, once per page."""
        if account.id not in self._callers:
            self._callers[account.id] = self.permissions.caller(account)
        return self._callers[account.id]

    def may(self, viewer: Account | None, change: Change, permission: str) -> bool:
        project = self.projects.get(change.project)
        if viewer is None or project is None:
            return False
        key = (viewer.id, change.project, change.branch, permission, viewer.id == change.owner_id)
        if key not in self._checks:
            self._checks[key] = self.permissions.check_change(
                self.caller(viewer), project, change, permission
            )
        return self._checks[key]

    def removable(self, viewer: Account | None, change: Change) -> tuple[int, ...]:
        if viewer is None or not change.is_open:
            return ()
        may_remove = self.may(viewer, change, Permission.REMOVE_REVIEWER)
        people = (*change.reviewers, *change.ccs)
        return tuple(a for a in people if may_remove or a == viewer.id)

    def change_actions(self, viewer: Account | None, change: Change) -> tuple[str, ...]:
        def may(permission: str) -> bool:
            return self.may(viewer, change, permission)

        found: list[str] = []
        if change.is_open and may(Permission.ABANDON):
            found.append("abandon")
        if change.status is ChangeStatus.ABANDONED and may(Permission.ABANDON):
            found.append("restore")
        if may(Permission.EDIT_TOPIC_NAME):
            found.append("topic")
        if may(Permission.EDIT_HASHTAGS):
            found.append("hashtags")
        if change.is_open and may(Permission.TOGGLE_WIP_STATE):
            found.append("ready" if change.work_in_progress else "wip")
        return tuple(found)

    def revision_actions(
        self, viewer: Account | None, change: Change, submittable: bool
    ) -> tuple[str, ...]:
        found: list[str] = []
        if submittable and self.may(viewer, change, Permission.SUBMIT):
            found.append("submit")
        if change.is_open and self.may(viewer, change, Permission.REBASE):
            found.append("rebase")
        return tuple(found)

"""The "reviews at a glance" table: one row per change, with the best and the
worst vote of Verified, Code-Review and Workflow as Gerrit's V, R and A columns.

A page of rows costs two reads however many changes it holds: the changes with
their owners (ReviewService.details) and the votes on their current patch sets
(LabelViews.summaries, asked without a viewer: the table shows votes, not what
the viewer may do).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from lockgate.core.review.labels import CODE_REVIEW, VERIFIED, WORKFLOW, LabelType
from lockgate.core.review.model import Account, Change, Project
from lockgate.services.bootstrap import Services
from lockgate.services.label_views import LabelSummary
from lockgate.services.review import LoadOptions

# (column heading, label name): Gerrit's V, R and A.
COLUMNS = (("V", VERIFIED.name), ("R", CODE_REVIEW.name), ("A", WORKFLOW.name))


@dataclass(frozen=True, slots=True)
class VoteCell:
    """The extremes of one label's votes on a change: the worst negative and the
    best positive vote, each None when there is none; `low` and `high` are the
    label's range, which decides the colours (its max approved, min rejected)."""

    label: str
    worst: int | None
    best: int | None
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class ChangeRow:
    change: Change
    owner: Account | None
    updated: str  # short, as Gerrit's list shows it
    updated_full: str
    votes: tuple[VoteCell | None, ...]  # one per COLUMNS entry; None: no such label


def vote_cell(label: LabelType, summary: LabelSummary | None) -> VoteCell:
    values = [
        v.value
        for v in (summary.votes if summary else ())
        if v.label.lower() == label.name.lower() and v.value
    ]
    worst = min((v for v in values if v < 0), default=None)
    best = max((v for v in values if v > 0), default=None)
    return VoteCell(label.name, worst, best, label.min, label.max)


def short_time(micros: int, now: int) -> str:
    """Gerrit's way: the time for today, the day for this year, else the date."""
    moment = dt.datetime.fromtimestamp(micros / 1_000_000, tz=dt.UTC)
    today = dt.datetime.fromtimestamp(now / 1_000_000, tz=dt.UTC)
    if moment.date() == today.date():
        return moment.strftime("%H:%M")
    if moment.year == today.year:
        return moment.strftime("%b %d").replace(" 0", " ")
    return moment.strftime("%Y-%m-%d")


def change_rows(services: Services, numbers: Sequence[int]) -> list[ChangeRow]:
    """The rows of `numbers`, in their order. The numbers must come from a search
    run for the viewer: rows show whatever they are given."""
    if not numbers:
        return []
    details = services.review.details(list(numbers), LoadOptions(comment_counts=False))
    projects: dict[str, Project] = {}
    for name in {d.change.project for d in details}:
        found = services.projects.find(name)
        if found is not None:
            projects[name] = found
    summaries = services.label_views.summaries(
        [d.change for d in details], projects, None, detailed=False, actions=False
    )
    now = services.clock()
    rows = []
    for detail in details:
        change = detail.change
        summary = summaries.get(change.number)
        types = {t.name.lower(): t for t in summary.labels} if summary else {}
        cells = tuple(
            vote_cell(types[name.lower()], summary) if name.lower() in types else None
            for _, name in COLUMNS
        )
        rows.append(
            ChangeRow(
                change=change,
                owner=detail.accounts.get(change.owner_id),
                updated=short_time(change.updated_at, now),
                updated_full=dt.datetime.fromtimestamp(
                    change.updated_at / 1_000_000, tz=dt.UTC
                ).strftime("%Y-%m-%d %H:%M:%S UTC"),
                votes=cells,
            )
        )
    return rows

"""The "reviews at a glance" table: one row per change, with the best and the
worst vote of Verified, Code-Review and Workflow as Gerrit's V, R and A columns.

A page of rows costs two reads however many changes it holds: the changes with
their owners (ReviewService.details) and the votes on their current patch sets
(LabelViews.votes). Each vote's chip (its colour class and text) is worked out
here rather than in the template: a dashboard shows hundreds of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from lockgate.core.review.labels import CODE_REVIEW, VERIFIED, WORKFLOW, LabelType, Vote
from lockgate.core.review.model import Account, Change
from lockgate.services.bootstrap import Services
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

    @property
    def chips(self) -> tuple[tuple[str, str], ...]:
        """(class, text) of each vote shown, worst first, as macros.html's `vote`
        colours them."""
        return tuple(
            (vote_class(value, self.low, self.high), f"{value:+d}")
            for value in (self.worst, self.best)
            if value is not None
        )


def vote_class(value: int, low: int, high: int) -> str:
    if value >= high:
        return "approved"
    if value > 0:
        return "recommended"
    if value <= low:
        return "rejected"
    return "disliked"


@dataclass(frozen=True, slots=True)
class ChangeRow:
    change: Change
    owner: Account | None
    updated: str  # short, as Gerrit's list shows it
    updated_full: str
    votes: tuple[VoteCell | None, ...]  # one per COLUMNS entry; None: no such label


def vote_cell(label: LabelType, votes: tuple[Vote, ...]) -> VoteCell:
    wanted = label.name.lower()
    values = [v.value for v in votes if v.value and v.label.lower() == wanted]
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
    votes = services.label_views.votes(numbers)
    types_of: dict[str, dict[str, LabelType]] = {}
    now = services.clock()
    rows = []
    for detail in details:
        change = detail.change
        if change.project not in types_of:
            types_of[change.project] = {
                t.name.lower(): t for t in services.labels.for_project(change.project)
            }
        types = types_of[change.project]
        on_change = votes.get(change.number, ())
        cells = tuple(
            vote_cell(types[name.lower()], on_change) if name.lower() in types else None
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

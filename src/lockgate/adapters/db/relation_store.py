"""Patch sets linked by their commits' parents: the SQL behind relation chains."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, or_, select

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.rows import commit_from_row
from lockgate.core.review.model import ChangeStatus, CommitInfo


@dataclass(frozen=True, slots=True)
class LinkedPatchSet:
    """A patch set with what a relation chain needs of its change."""

    change_number: int
    number: int
    commit: CommitInfo
    created_at: int
    project: str
    branch: str
    change_key: str
    status: ChangeStatus
    current_patch_set: int
    submitted_at: int | None


def _select() -> Select[Any]:
    return select(
        t.patch_sets,
        t.changes.c.project,
        t.changes.c.branch,
        t.changes.c.change_key,
        t.changes.c.status,
        t.changes.c.current_patch_set,
        t.changes.c.submitted_at,
    ).join(t.changes, t.changes.c.number == t.patch_sets.c.change_number)


def _linked(conn: Connection, query: Select[Any]) -> list[LinkedPatchSet]:
    rows = conn.execute(query.order_by(t.patch_sets.c.change_number, t.patch_sets.c.number))
    return [
        LinkedPatchSet(
            change_number=row.change_number,
            number=row.number,
            commit=commit_from_row(row),
            created_at=row.created_at,
            project=row.project,
            branch=row.branch,
            change_key=row.change_key,
            status=ChangeStatus(row.status),
            current_patch_set=row.current_patch_set,
            submitted_at=row.submitted_at,
        )
        for row in rows
    ]


def patch_sets_with_commits(
    conn: Connection, project: str, shas: Sequence[str], statuses: Sequence[ChangeStatus]
) -> list[LinkedPatchSet]:
    """Patch sets of `project` whose commit is one of `shas`, of changes in `statuses`."""
    if not shas:
        return []
    return _linked(
        conn,
        _select().where(
            t.changes.c.project == project,
            t.changes.c.status.in_([s.value for s in statuses]),
            t.patch_sets.c.commit_sha.in_(list(shas)),
        ),
    )


def patch_sets_with_parents(
    conn: Connection, project: str, shas: Sequence[str], statuses: Sequence[ChangeStatus]
) -> list[LinkedPatchSet]:
    """Patch sets of `project` with a parent among `shas`, of changes in `statuses`.

    Parents are stored space separated; the LIKE narrows the rows (the changes'
    project and status index picks the candidates) and the exact test is done here.
    """
    if not shas:
        return []
    matches: list[ColumnElement[bool]] = [t.patch_sets.c.parents.like(f"%{sha}%") for sha in shas]
    found = _linked(
        conn,
        _select().where(
            t.changes.c.project == project,
            t.changes.c.status.in_([s.value for s in statuses]),
            or_(*matches),
        ),
    )
    wanted = set(shas)
    return [ps for ps in found if wanted.intersection(ps.commit.parents)]


def patch_sets_of_changes(conn: Connection, numbers: Sequence[int]) -> list[LinkedPatchSet]:
    if not numbers:
        return []
    return _linked(conn, _select().where(t.patch_sets.c.change_number.in_(list(numbers))))

"""Votes (approvals) in the database: one row per patch set, voter and label.

A change's votes are those recorded on its current patch set; votes that
carry over to a new patch set are written again for it, marked `copied`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from lockgate.adapters.db import tables as t
from lockgate.core.review.labels import Vote

_a = t.approvals.c


def _vote(row: Any) -> Vote:
    return Vote(
        account_id=row.account_id,
        label=row.label,
        value=row.value,
        patch_set=row.patch_set,
        date=row.granted_at,
        tag=row.tag,
        post_submit=bool(row.post_submit),
    )


def set_vote(conn: Connection, change_number: int, vote: Vote, *, copied: bool = False) -> int:
    """Record `vote` as the voter's vote on its patch set; returns the value it
    replaces (0 when there was none)."""
    key = and_(
        _a.change_number == change_number,
        _a.patch_set == vote.patch_set,
        _a.account_id == vote.account_id,
        _a.label == vote.label,
    )
    old = conn.execute(select(_a.value).where(key)).scalar()
    values = {
        "value": vote.value,
        "granted_at": vote.date,
        "tag": vote.tag,
        "post_submit": vote.post_submit,
        "copied": copied,
    }
    if old is None:
        conn.execute(
            insert(t.approvals).values(
                change_number=change_number,
                patch_set=vote.patch_set,
                account_id=vote.account_id,
                label=vote.label,
                **values,
            )
        )
        return 0
    conn.execute(update(t.approvals).where(key).values(**values))
    return int(old)


def delete_votes(
    conn: Connection, change_number: int, patch_set: int, account_id: int, labels: Iterable[str]
) -> None:
    conn.execute(
        delete(t.approvals).where(
            _a.change_number == change_number,
            _a.patch_set == patch_set,
            _a.account_id == account_id,
            _a.label.in_(list(labels)),
        )
    )


def votes_on(conn: Connection, change_number: int, patch_set: int) -> list[Vote]:
    """Every vote recorded on one patch set, zeros included, oldest first."""
    rows = conn.execute(
        select(t.approvals)
        .where(_a.change_number == change_number, _a.patch_set == patch_set)
        .order_by(_a.granted_at, _a.account_id, _a.label)
    ).all()
    return [_vote(r) for r in rows]


def current_votes(conn: Connection, numbers: Sequence[int]) -> dict[int, list[Vote]]:
    """The votes on each change's current patch set, zeros included, oldest first."""
    if not numbers:
        return {}
    c = t.changes.c
    rows = conn.execute(
        select(t.approvals)
        .join(
            t.changes,
            and_(c.number == _a.change_number, c.current_patch_set == _a.patch_set),
        )
        .where(_a.change_number.in_(list(numbers)))
        .order_by(_a.change_number, _a.granted_at, _a.account_id, _a.label)
    ).all()
    found: dict[int, list[Vote]] = defaultdict(list)
    for row in rows:
        found[row.change_number].append(_vote(row))
    return dict(found)


def all_votes(conn: Connection, change_number: int) -> list[Vote]:
    """The votes on every patch set of a change, oldest first."""
    rows = conn.execute(
        select(t.approvals)
        .where(_a.change_number == change_number)
        .order_by(_a.patch_set, _a.granted_at, _a.account_id, _a.label)
    ).all()
    return [_vote(r) for r in rows]

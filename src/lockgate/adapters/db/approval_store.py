"""Votes (approvals) in the database: one row per patch set, voter and label.

A change's votes are those recorded on its current patch set; votes that
carry over to a new patch set are written again for it, marked `copied`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.driver_sql import DriverStatement
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


# Statements on the review hot path are built once and run on the driver (see
# driver_sql). Key parameters are not named for their columns: an UPDATE
# reserves those for its SET clause.
_vote_key = and_(
    _a.change_number == bindparam("key_change"),
    _a.patch_set == bindparam("key_patch_set"),
    _a.account_id == bindparam("key_account"),
    _a.label == bindparam("key_label"),
)
_OLD_VALUE = DriverStatement(select(_a.value).where(_vote_key))
_INSERT_VOTE = DriverStatement(insert(t.approvals))
_VOTE_VALUES = ("value", "granted_at", "tag", "post_submit", "copied")
_UPDATE_VOTE = DriverStatement(
    update(t.approvals)
    .where(_vote_key)
    .values({name: bindparam(f"new_{name}") for name in _VOTE_VALUES})
)
_VOTES_ON = DriverStatement(
    select(t.approvals)
    .where(_a.change_number == bindparam("key_change"), _a.patch_set == bindparam("key_patch_set"))
    .order_by(_a.granted_at, _a.account_id, _a.label)
)


def _key(change_number: int, vote: Vote) -> dict[str, Any]:
    return {
        "key_change": change_number,
        "key_patch_set": vote.patch_set,
        "key_account": vote.account_id,
        "key_label": vote.label,
    }


def set_vote(conn: Connection, change_number: int, vote: Vote, *, copied: bool = False) -> int:
    """Record `vote` as the voter's vote on its patch set; returns the value it
    replaces (0 when there was none)."""
    old = _OLD_VALUE.scalar(conn, _key(change_number, vote))
    write_vote(conn, change_number, vote, exists=old is not None, copied=copied)
    return 0 if old is None else int(old)


def write_vote(
    conn: Connection, change_number: int, vote: Vote, *, exists: bool, copied: bool = False
) -> None:
    """`set_vote` for a caller that has read the voter's votes in this transaction
    already: `exists` says whether a row (a zero one included) is there."""
    values = {
        "value": vote.value,
        "granted_at": vote.date,
        "tag": vote.tag,
        "post_submit": vote.post_submit,
        "copied": copied,
    }
    if exists:
        new = {f"new_{name}": value for name, value in values.items()}
        _UPDATE_VOTE.run(conn, {**_key(change_number, vote), **new})
        return
    _INSERT_VOTE.run(
        conn,
        {
            "change_number": change_number,
            "patch_set": vote.patch_set,
            "account_id": vote.account_id,
            "label": vote.label,
            **values,
        },
    )


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
    rows = _VOTES_ON.rows(conn, {"key_change": change_number, "key_patch_set": patch_set})
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

"""The durable event log: appended in the transaction that records a fact."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.locks import lock_name


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    type: str
    created_at: int
    payload: dict[str, Any]
    project: str | None = None
    change_number: int | None = None


_INSERT_EVENT = insert(t.events)


def append_event(
    conn: Connection,
    payload: Mapping[str, Any],
    *,
    now: int,
    project: str | None = None,
    change_number: int | None = None,
) -> int:
    # Sequence numbers must be visible in commit order, or a consumer that has
    # read up to N could later miss an event N-1 committed after N. SQLite's
    # writers are serial already; on PostgreSQL the lock, held to commit, makes
    # them serial for the part of the transaction after the append.
    lock_name(conn, "event-log")
    result = conn.execute(
        _INSERT_EVENT,
        {
            "type": payload["type"],
            "created_at": now,
            "project": project,
            "change_number": change_number,
            "payload": json.dumps(payload, separators=(",", ":"), sort_keys=False),
        },
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def events_after(
    conn: Connection, seq: int, limit: int = 1000, *, types: Collection[str] = ()
) -> list[StoredEvent]:
    """The events after `seq`, oldest first; only those of `types` when given."""
    query = select(t.events).where(t.events.c.seq > seq)
    if types:
        query = query.where(t.events.c.type.in_(sorted(types)))
    rows = conn.execute(query.order_by(t.events.c.seq).limit(limit)).all()
    return [
        StoredEvent(r.seq, r.type, r.created_at, json.loads(r.payload), r.project, r.change_number)
        for r in rows
    ]


def last_seq(conn: Connection) -> int:
    """The sequence number of the newest event, 0 when there is none."""
    from sqlalchemy import func

    value = conn.execute(select(func.max(t.events.c.seq))).scalar()
    return int(value or 0)

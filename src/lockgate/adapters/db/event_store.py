"""The durable event log: appended in the transaction that records a fact."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.driver_sql import DriverStatement
from lockgate.adapters.db.event_signal import mark_appended
from lockgate.adapters.db.locks import lock_name


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as the log holds it. `data` is its JSON as stored, which the
    event stream sends as it is; `payload` decodes it when first asked."""

    seq: int
    type: str
    created_at: int
    data: str
    project: str | None = None
    change_number: int | None = None
    _payload: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def payload(self) -> dict[str, Any]:
        if self._payload is None:
            # Frozen for its readers; the decoded form is only a cache of `data`.
            object.__setattr__(self, "_payload", json.loads(self.data))
        assert self._payload is not None
        return self._payload


def encode_payload(payload: Mapping[str, Any]) -> str:
    """An event's JSON as stored, and so as the event stream sends it: compact,
    with non-ASCII text as it is."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


_EVENT_VALUES = ("type", "created_at", "project", "change_number", "payload")
# Every fact appends one, and every reader reads them: run on the driver (see driver_sql).
_INSERT_EVENT = DriverStatement(
    insert(t.events)
    .values({name: bindparam(f"e_{name}") for name in _EVENT_VALUES})
    .returning(t.events.c.seq)
)


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
    seq = _INSERT_EVENT.scalar(
        conn,
        {
            "e_type": payload["type"],
            "e_created_at": now,
            "e_project": project,
            "e_change_number": change_number,
            "e_payload": encode_payload(payload),
        },
    )
    assert seq is not None
    mark_appended(conn)
    return int(seq)


_e = t.events.c
_EVENTS_AFTER = DriverStatement(
    select(t.events).where(_e.seq > bindparam("seq")).order_by(_e.seq).limit(bindparam("limit"))
)
_EVENTS_OF_TYPES_AFTER = (
    select(t.events)
    .where(_e.seq > bindparam("seq"), _e.type.in_(bindparam("types", expanding=True)))
    .order_by(_e.seq)
    .limit(bindparam("limit"))
)


def events_after(
    conn: Connection, seq: int, limit: int = 1000, *, types: Collection[str] = ()
) -> list[StoredEvent]:
    """The events after `seq`, oldest first; only those of `types` when given."""
    if types:
        args = {"seq": seq, "limit": limit, "types": sorted(types)}
        rows: Sequence[Any] = conn.execute(_EVENTS_OF_TYPES_AFTER, args).all()
    else:
        rows = _EVENTS_AFTER.rows(conn, {"seq": seq, "limit": limit})
    return [
        StoredEvent(r.seq, r.type, r.created_at, r.payload, r.project, r.change_number)
        for r in rows
    ]


_LAST_SEQ = DriverStatement(select(func.max(_e.seq)))


def last_seq(conn: Connection) -> int:
    """The sequence number of the newest event, 0 when there is none."""
    return int(_LAST_SEQ.scalar(conn, {}) or 0)

"""Webhook cursors and the delivery log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from lockgate.adapters.db import tables as t

_cur = t.webhook_cursors.c
_del = t.webhook_deliveries.c


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    webhook: str
    event_seq: int
    attempt: int
    attempted_at: int
    status_code: int | None
    error: str | None
    succeeded: bool
    duration_ms: int | None


def cursor(conn: Connection, webhook: str) -> int | None:
    """The seq up to which `webhook` has delivered the log, None for a new webhook."""
    value = conn.execute(select(_cur.delivered_seq).where(_cur.webhook == webhook)).scalar()
    return None if value is None else int(value)


def cursors(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(_cur.webhook, _cur.delivered_seq)).all()
    return {row.webhook: int(row.delivered_seq) for row in rows}


def start_cursor(conn: Connection, webhook: str, seq: int) -> None:
    conn.execute(insert(t.webhook_cursors).values(webhook=webhook, delivered_seq=seq))


def advance_cursor(conn: Connection, webhook: str, seq: int) -> None:
    """Move the cursor forward to `seq`; never back."""
    conn.execute(
        update(t.webhook_cursors)
        .where(_cur.webhook == webhook, _cur.delivered_seq < seq)
        .values(delivered_seq=seq)
    )


def record_attempt(
    conn: Connection,
    *,
    webhook: str,
    event_seq: int,
    attempt: int,
    attempted_at: int,
    status_code: int | None,
    error: str | None,
    succeeded: bool,
    duration_ms: int,
) -> None:
    conn.execute(
        insert(t.webhook_deliveries).values(
            webhook=webhook,
            event_seq=event_seq,
            attempt=attempt,
            attempted_at=attempted_at,
            status_code=status_code,
            error=error,
            succeeded=succeeded,
            duration_ms=duration_ms,
        )
    )


def deliveries(conn: Connection, webhook: str, *, limit: int, start: int) -> list[Delivery]:
    """The webhook's attempts, newest first."""
    rows = conn.execute(
        select(t.webhook_deliveries)
        .where(_del.webhook == webhook)
        .order_by(_del.id.desc())
        .limit(limit)
        .offset(start)
    ).all()
    return [
        Delivery(
            id=r.id,
            webhook=r.webhook,
            event_seq=r.event_seq,
            attempt=r.attempt,
            attempted_at=r.attempted_at,
            status_code=r.status_code,
            error=r.error,
            succeeded=bool(r.succeeded),
            duration_ms=r.duration_ms,
        )
        for r in rows
    ]

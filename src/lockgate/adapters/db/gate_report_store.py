"""The reports the CI account has carried out, by the gating core's report id."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from lockgate.adapters.db import tables as t

_r = t.gate_reports.c


@dataclass(frozen=True, slots=True)
class DoneReport:
    report_id: str
    done_at: int
    merged: bool | None  # None: not submitted (yet, or ever)
    error: str | None


def done_report(conn: Connection, report_id: str) -> DoneReport | None:
    row = conn.execute(select(t.gate_reports).where(_r.report_id == report_id)).one_or_none()
    if row is None:
        return None
    merged = None if row.merged is None else bool(row.merged)
    return DoneReport(row.report_id, row.done_at, merged, row.error)


def record_report(conn: Connection, report_id: str, now: int) -> None:
    """Raises IntegrityError when the report is recorded already."""
    conn.execute(insert(t.gate_reports).values(report_id=report_id, done_at=now))


def record_submit(conn: Connection, report_id: str, *, merged: bool, error: str | None) -> None:
    conn.execute(
        update(t.gate_reports)
        .where(_r.report_id == report_id)
        .values(merged=merged, error=error or None)
    )

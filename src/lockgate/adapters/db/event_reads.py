"""What of the event log a reader may see: the changes its events are about."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, select

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.change_search import visible_to


def visible_changes(
    conn: Connection,
    numbers: Collection[int],
    viewer_id: int | None,
    *,
    sees_private: bool = False,
) -> set[int]:
    """Those of `numbers` that the viewer (None: anonymous) may see, by the rule
    searches use (a private change only by its owner and reviewers, or by
    anyone who `sees_private`)."""
    if not numbers:
        return set()
    query = select(t.changes.c.number).where(
        t.changes.c.number.in_(sorted(numbers)), visible_to(viewer_id, sees_private=sees_private)
    )
    return set(conn.execute(query).scalars())

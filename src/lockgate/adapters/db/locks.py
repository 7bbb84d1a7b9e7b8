"""Named locks held until the end of a write transaction.

On PostgreSQL a transaction-scoped advisory lock; on SQLite nothing, since a
write transaction there (BEGIN IMMEDIATE) already excludes every other writer.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, text

_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def lock_name(conn: Connection, *parts: str) -> None:
    """Wait for, then hold until commit or rollback, the lock named by `parts`."""
    if conn.dialect.name == "sqlite":
        return
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    conn.execute(_ADVISORY_LOCK, {"key": key})

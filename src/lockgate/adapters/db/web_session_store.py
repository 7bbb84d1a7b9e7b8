"""Web sessions in the database: a cookie's token (hashed) to its account."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, delete, insert, select

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.rows import account_from_row
from lockgate.core.review.model import Account

_s = t.web_sessions.c
_SESSION = (
    select(t.accounts, _s.csrf_token, _s.expires)
    .select_from(t.web_sessions.join(t.accounts, t.accounts.c.id == _s.account_id))
    .where(_s.id == bindparam("id"))
)


def insert_session(
    conn: Connection, *, key: str, account_id: int, csrf_token: str, now: int, expires: int
) -> None:
    conn.execute(
        insert(t.web_sessions).values(
            id=key, account_id=account_id, csrf_token=csrf_token, created=now, expires=expires
        )
    )


def session(conn: Connection, key: str) -> tuple[Account, str, int] | None:
    """(account, CSRF token, expiry) of the session, or None."""
    row = conn.execute(_SESSION, {"id": key}).first()
    if row is None:
        return None
    return account_from_row(row), row.csrf_token, int(row.expires)


def delete_session(conn: Connection, key: str) -> None:
    conn.execute(delete(t.web_sessions).where(_s.id == key))


def delete_expired(conn: Connection, now: int) -> int:
    return conn.execute(delete(t.web_sessions).where(_s.expires <= now)).rowcount or 0

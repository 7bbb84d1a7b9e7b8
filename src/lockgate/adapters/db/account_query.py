"""Account search: the SQL behind `GET /accounts/?q=`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.rows import account_from_row
from lockgate.core.review.model import Account


def _contains(column: ColumnElement[Any], text: str) -> ColumnElement[bool]:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def find_accounts(
    conn: Connection,
    *,
    usernames: Sequence[str] = (),
    emails: Sequence[str] = (),
    names: Sequence[str] = (),
    texts: Sequence[str] = (),
    active: bool | None = None,
    limit: int,
    start: int = 0,
) -> list[Account]:
    """Accounts matching every condition, by id; one more than `limit` tells the
    caller that more follow."""
    a = t.accounts.c
    conditions: list[ColumnElement[bool]] = []
    conditions += [func.lower(a.username) == u.lower() for u in usernames]
    conditions += [func.lower(a.email) == e.lower() for e in emails]
    conditions += [_contains(a.full_name, n) for n in names]
    conditions += [
        or_(_contains(a.username, x), _contains(a.full_name, x), _contains(a.email, x))
        for x in texts
    ]
    if active is not None:
        conditions.append(a.inactive.is_(not active))
    query = select(t.accounts).order_by(a.id).offset(start).limit(limit + 1)
    if conditions:
        query = query.where(and_(*conditions))
    return [account_from_row(row) for row in conn.execute(query)]

"""Accounts, groups and memberships in the database."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, delete, insert, or_, select, update

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.driver_sql import DriverStatement
from lockgate.adapters.db.rows import account_from_row, group_from_row
from lockgate.core.review.model import Account, Group


def insert_account(
    conn: Connection,
    *,
    username: str,
    full_name: str | None,
    email: str | None,
    password_hash: str | None,
    now: int,
) -> Account:
    result = conn.execute(
        insert(t.accounts).values(
            username=username,
            full_name=full_name,
            email=email,
            http_password_hash=password_hash,
            inactive=False,
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return Account(int(key[0]), username, full_name, email, False, now)


# Statements every request runs are built once, and run on the driver.
_ACCOUNT_BY_ID = DriverStatement(select(t.accounts).where(t.accounts.c.id == bindparam("id")))
_ACCOUNTS_BY_IDS = select(t.accounts).where(t.accounts.c.id.in_(bindparam("ids", expanding=True)))
_GROUPS_OF = DriverStatement(
    select(t.groups)
    .join(t.group_members, t.group_members.c.group_id == t.groups.c.id)
    .where(t.group_members.c.account_id == bindparam("account_id"))
    .order_by(t.groups.c.name)
)

_gm = t.group_members.c
_ACCOUNT_WITH_GROUPS = DriverStatement(
    select(t.accounts, t.groups.c.uuid.label("group_uuid"), t.groups.c.name.label("group_name"))
    .select_from(
        t.accounts.outerjoin(t.group_members, _gm.account_id == t.accounts.c.id).outerjoin(
            t.groups, t.groups.c.id == _gm.group_id
        )
    )
    .where(t.accounts.c.id == bindparam("id"))
    .order_by(t.groups.c.name)
)


def account_with_groups(
    conn: Connection, account_id: int
) -> tuple[Account, list[tuple[str, str]]] | None:
    """The account and the (uuid, name) of each group it is a member of, in one
    statement; None when there is no such account."""
    rows = _ACCOUNT_WITH_GROUPS.rows(conn, {"id": account_id})
    if not rows:
        return None
    groups = [(r.group_uuid, r.group_name) for r in rows if r.group_uuid is not None]
    return account_from_row(rows[0]), groups


def account_by_id(conn: Connection, account_id: int) -> Account | None:
    row = _ACCOUNT_BY_ID.one_or_none(conn, {"id": account_id})
    return account_from_row(row) if row else None


def account_by_username(conn: Connection, username: str) -> Account | None:
    row = conn.execute(select(t.accounts).where(t.accounts.c.username == username)).one_or_none()
    return account_from_row(row) if row else None


def account_by_email(conn: Connection, email: str) -> list[Account]:
    rows = conn.execute(select(t.accounts).where(t.accounts.c.email == email)).all()
    return [account_from_row(r) for r in rows]


def accounts_by_ids(conn: Connection, ids: Sequence[int]) -> dict[int, Account]:
    wanted = sorted(set(ids))
    if len(wanted) == 1:
        # One account (a change whose owner uploaded it) is the usual case: an
        # expanding IN costs more to render than the query costs to run.
        one = account_by_id(conn, wanted[0])
        return {} if one is None else {one.id: one}
    if not wanted:
        return {}
    rows = conn.execute(_ACCOUNTS_BY_IDS, {"ids": wanted}).all()
    return {r.id: account_from_row(r) for r in rows}


def password_hash(conn: Connection, username: str) -> tuple[int, str | None] | None:
    row = conn.execute(
        select(t.accounts.c.id, t.accounts.c.http_password_hash, t.accounts.c.inactive).where(
            t.accounts.c.username == username
        )
    ).one_or_none()
    if row is None or row.inactive:
        return None
    return row.id, row.http_password_hash


def set_password_hash(conn: Connection, account_id: int, password_hash: str | None) -> None:
    conn.execute(
        update(t.accounts)
        .where(t.accounts.c.id == account_id)
        .values(http_password_hash=password_hash)
    )


def search_accounts(conn: Connection, text: str, limit: int) -> list[Account]:
    pattern = f"%{text}%"
    rows = conn.execute(
        select(t.accounts)
        .where(
            or_(
                t.accounts.c.username.like(pattern),
                t.accounts.c.full_name.like(pattern),
                t.accounts.c.email.like(pattern),
            )
        )
        .order_by(t.accounts.c.id)
        .limit(limit)
    ).all()
    return [account_from_row(r) for r in rows]


def all_accounts(conn: Connection, limit: int) -> list[Account]:
    rows = conn.execute(select(t.accounts).order_by(t.accounts.c.id).limit(limit)).all()
    return [account_from_row(r) for r in rows]


# --- groups --------------------------------------------------------------------


def insert_group(
    conn: Connection,
    *,
    uuid: str,
    name: str,
    description: str | None,
    owner_uuid: str | None,
    visible_to_all: bool,
    now: int,
) -> Group:
    result = conn.execute(
        insert(t.groups).values(
            uuid=uuid,
            name=name,
            description=description,
            owner_uuid=owner_uuid,
            visible_to_all=visible_to_all,
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return Group(int(key[0]), uuid, name, description, owner_uuid, visible_to_all, now)


def group_by_name(conn: Connection, name: str) -> Group | None:
    row = conn.execute(select(t.groups).where(t.groups.c.name == name)).one_or_none()
    return group_from_row(row) if row else None


def group_by_uuid(conn: Connection, uuid: str) -> Group | None:
    row = conn.execute(select(t.groups).where(t.groups.c.uuid == uuid)).one_or_none()
    return group_from_row(row) if row else None


def group_by_id(conn: Connection, group_id: int) -> Group | None:
    row = conn.execute(select(t.groups).where(t.groups.c.id == group_id)).one_or_none()
    return group_from_row(row) if row else None


def all_groups(conn: Connection) -> list[Group]:
    return [group_from_row(r) for r in conn.execute(select(t.groups).order_by(t.groups.c.name))]


def add_member(conn: Connection, group_id: int, account_id: int) -> bool:
    exists = conn.execute(
        select(t.group_members).where(
            t.group_members.c.group_id == group_id, t.group_members.c.account_id == account_id
        )
    ).one_or_none()
    if exists is not None:
        return False
    conn.execute(insert(t.group_members).values(group_id=group_id, account_id=account_id))
    return True


def remove_member(conn: Connection, group_id: int, account_id: int) -> bool:
    result = conn.execute(
        delete(t.group_members).where(
            t.group_members.c.group_id == group_id, t.group_members.c.account_id == account_id
        )
    )
    return bool(result.rowcount)


def members(conn: Connection, group_id: int) -> list[Account]:
    rows = conn.execute(
        select(t.accounts)
        .join(t.group_members, t.group_members.c.account_id == t.accounts.c.id)
        .where(t.group_members.c.group_id == group_id)
        .order_by(t.accounts.c.id)
    ).all()
    return [account_from_row(r) for r in rows]


_IN_GROUP_NAMED = DriverStatement(
    select(t.group_members.c.group_id)
    .join(t.groups, t.groups.c.id == t.group_members.c.group_id)
    .where(t.group_members.c.account_id == bindparam("account_id"))
    .where(t.groups.c.name == bindparam("name"))
)


def in_group_named(conn: Connection, account_id: int, name: str) -> bool:
    """Whether the account is a stored member of the group called `name`."""
    args = {"account_id": account_id, "name": name}
    return bool(_IN_GROUP_NAMED.rows(conn, args))


def groups_of(conn: Connection, account_id: int) -> list[Group]:
    rows = _GROUPS_OF.rows(conn, {"account_id": account_id})
    return [group_from_row(r) for r in rows]

"""Accounts, HTTP passwords, groups and the built-in groups."""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from lockgate.adapters.db import account_store as store
from lockgate.adapters.db.engine import read_transaction, write_transaction
from lockgate.adapters.passwords import generate_password, hash_password, verify_password
from lockgate.core.review.model import Account, Group
from lockgate.services.clock import Clock
from lockgate.services.errors import BadRequest, Conflict, NotFound

ADMINISTRATORS = "Administrators"
REGISTERED_USERS = "Registered Users"
ANONYMOUS_USERS = "Anonymous Users"
SERVICE_USERS = "Service Users"
BUILT_IN_GROUPS = {
    ADMINISTRATORS: "Gerrit Site Administrators",
    REGISTERED_USERS: "Any signed-in user",
    ANONYMOUS_USERS: "Any user, signed-in or not",
    SERVICE_USERS: "Accounts of bots and CI systems",
}
# Membership of these two is implied, never stored.
SYSTEM_GROUPS = {
    REGISTERED_USERS: "global:Registered-Users",
    ANONYMOUS_USERS: "global:Anonymous-Users",
}

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,254}$")
_AUTH_CACHE_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class NewPassword:
    account: Account
    password: str


class AccountService:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        # Checking a slow hash on every git request would cost ~50 ms each;
        # a verified (user, password digest) is remembered for a few minutes.
        self._auth_cache: dict[tuple[str, bytes], tuple[Account, float]] = {}
        self._lock = threading.Lock()

    # --- accounts -----------------------------------------------------------

    def create_account(
        self,
        username: str,
        *,
        full_name: str | None = None,
        email: str | None = None,
        http_password: str | None = None,
        groups: list[str] | None = None,
    ) -> Account:
        if not _USERNAME.match(username) or username == "self":
            raise BadRequest(
                f"invalid username {username!r}: use letters, digits, '.', '_', '-', '@', "
                "starting with a letter or digit"
            )
        now = self._clock()
        hashed = hash_password(http_password) if http_password else None
        try:
            with write_transaction(self._engine) as conn:
                account = store.insert_account(
                    conn,
                    username=username,
                    full_name=full_name,
                    email=email,
                    password_hash=hashed,
                    now=now,
                )
                for name in groups or []:
                    group = store.group_by_name(conn, name) or store.group_by_uuid(conn, name)
                    if group is None:
                        raise NotFound(f"group {name} not found; create it first")
                    store.add_member(conn, group.id, account.id)
        except IntegrityError as error:
            raise Conflict(f"username {username!r} already exists") from error
        return account

    def get(self, ref: str) -> Account:
        """An account by numeric id, username or email."""
        with read_transaction(self._engine) as conn:
            found: Account | None = None
            if ref.isdigit():
                found = store.account_by_id(conn, int(ref))
            if found is None:
                found = store.account_by_username(conn, ref)
            if found is None and "@" in ref:
                by_email = store.account_by_email(conn, ref)
                found = by_email[0] if len(by_email) == 1 else None
        if found is None:
            raise NotFound(f"Account '{ref}' not found")
        return found

    def find(self, ref: str) -> Account | None:
        try:
            return self.get(ref)
        except NotFound:
            return None

    def by_ids(self, ids: list[int]) -> dict[int, Account]:
        with read_transaction(self._engine) as conn:
            return store.accounts_by_ids(conn, ids)

    def search(self, text: str, limit: int = 25) -> list[Account]:
        with read_transaction(self._engine) as conn:
            if not text:
                return store.all_accounts(conn, limit)
            return store.search_accounts(conn, text, limit)

    def authenticate(self, username: str, password: str) -> Account | None:
        """The account whose HTTP password this is, or None."""
        found = self._sign_in(username, password)
        if found is None:
            return None
        account, cached = found
        return self._by_id(account.id) if cached else account

    def sign_in(self, username: str, password: str) -> Account | None:
        """`authenticate` for a caller that reads the account again in its own
        transaction (`Permissions.current_caller`): a cached sign-in answers with
        the account as it was last read, without reading the database."""
        found = self._sign_in(username, password)
        return None if found is None else found[0]

    def _sign_in(self, username: str, password: str) -> tuple[Account, bool] | None:
        """The account, and whether it comes from the cache rather than a read."""
        if not username or not password:
            return None
        key = (username, hashlib.sha256(password.encode()).digest())
        with self._lock:
            cached = self._auth_cache.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0], True
        with read_transaction(self._engine) as conn:
            found = store.password_hash(conn, username)
        if found is None or found[1] is None or not verify_password(password, found[1]):
            return None
        account = self._by_id(found[0])
        if account is None:
            return None
        with self._lock:
            self._auth_cache[key] = (account, time.monotonic() + _AUTH_CACHE_SECONDS)
        return account, False

    def _by_id(self, account_id: int) -> Account | None:
        with read_transaction(self._engine) as conn:
            return store.account_by_id(conn, account_id)

    def set_http_password(
        self, account: Account, password: str | None = None, *, generate: bool = False
    ) -> str | None:
        """Set, generate (returned) or delete (None, None) the account's HTTP password."""
        if generate:
            password = generate_password()
        with write_transaction(self._engine) as conn:
            store.set_password_hash(conn, account.id, hash_password(password) if password else None)
        with self._lock:
            self._auth_cache = {
                k: v for k, v in self._auth_cache.items() if k[0] != account.username
            }
        return password

    # --- groups -------------------------------------------------------------

    def ensure_built_in_groups(self) -> None:
        with write_transaction(self._engine) as conn:
            for name, description in BUILT_IN_GROUPS.items():
                if store.group_by_name(conn, name) is None:
                    store.insert_group(
                        conn,
                        uuid=SYSTEM_GROUPS.get(name, uuid.uuid4().hex),
                        name=name,
                        description=description,
                        owner_uuid=None,
                        visible_to_all=name != ADMINISTRATORS,
                        now=self._clock(),
                    )

    def create_group(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        visible_to_all: bool = False,
        creator: Account | None = None,
    ) -> Group:
        if not name.strip():
            raise BadRequest("group name must not be empty")
        try:
            with write_transaction(self._engine) as conn:
                owner_uuid = None
                if owner:
                    owner_group = store.group_by_name(conn, owner) or store.group_by_uuid(
                        conn, owner
                    )
                    if owner_group is None:
                        raise BadRequest(f"owner group {owner} not found")
                    owner_uuid = owner_group.uuid
                group = store.insert_group(
                    conn,
                    uuid=uuid.uuid4().hex,
                    name=name,
                    description=description,
                    owner_uuid=owner_uuid,
                    visible_to_all=visible_to_all,
                    now=self._clock(),
                )
                if creator is not None:
                    store.add_member(conn, group.id, creator.id)
        except IntegrityError as error:
            raise Conflict(f"group '{name}' already exists") from error
        return group

    def group(self, ref: str) -> Group:
        with read_transaction(self._engine) as conn:
            found = store.group_by_name(conn, ref) or store.group_by_uuid(conn, ref)
            if found is None and ref.isdigit():
                found = store.group_by_id(conn, int(ref))
        if found is None:
            raise NotFound(f"Group Not Found: {ref}")
        return found

    def groups(self) -> list[Group]:
        with read_transaction(self._engine) as conn:
            return store.all_groups(conn)

    def add_member(self, group: Group, account: Account) -> bool:
        if group.uuid in SYSTEM_GROUPS.values():
            raise BadRequest(f"membership of {group.name} is implied and cannot be changed")
        with write_transaction(self._engine) as conn:
            return store.add_member(conn, group.id, account.id)

    def remove_member(self, group: Group, account: Account) -> bool:
        with write_transaction(self._engine) as conn:
            return store.remove_member(conn, group.id, account.id)

    def members(self, group: Group) -> list[Account]:
        with read_transaction(self._engine) as conn:
            return store.members(conn, group.id)

    def groups_of(self, account: Account | None, *, conn: Connection | None = None) -> list[str]:
        """Names of the groups the account is in, the implied ones included; read in
        `conn` when the caller has a transaction open."""
        names = [ANONYMOUS_USERS]
        if account is None:
            return names
        names.append(REGISTERED_USERS)
        if conn is not None:
            return names + [g.name for g in store.groups_of(conn, account.id)]
        with read_transaction(self._engine) as own:
            names += [g.name for g in store.groups_of(own, account.id)]
        return names

    def is_admin(self, account: Account | None, *, conn: Connection | None = None) -> bool:
        # Asked for every page of the event stream: one membership, not all groups.
        if account is None:
            return False
        if conn is not None:
            return store.in_group_named(conn, account.id, ADMINISTRATORS)
        with read_transaction(self._engine) as own:
            return store.in_group_named(own, account.id, ADMINISTRATORS)

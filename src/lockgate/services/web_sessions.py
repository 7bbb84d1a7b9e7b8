"""Sign-in for the web interface: a session per browser, by cookie.

The cookie carries a random token; the database keeps only its SHA-256, so a
copy of the database signs no one in. Each session has its own CSRF token,
which every form the session posts must carry.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine

from lockgate.adapters.db import web_session_store as store
from lockgate.adapters.db.engine import read_transaction, write_transaction
from lockgate.core.review.model import Account
from lockgate.services.accounts import AccountService
from lockgate.services.clock import Clock
from lockgate.services.errors import Forbidden

_MICROS_PER_DAY = 86_400 * 1_000_000


@dataclass(frozen=True, slots=True)
class WebSession:
    account: Account
    csrf_token: str


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str  # goes into the cookie, and nowhere else
    session: WebSession
    max_age: int  # seconds, for the cookie


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WebSessions:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        accounts: AccountService,
        *,
        session_days: float = 7.0,
        self_signup: bool = False,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._accounts = accounts
        self._lifetime = int(session_days * _MICROS_PER_DAY)
        self.self_signup = self_signup

    def sign_in(self, username: str, password: str) -> NewSession | None:
        """A new session for the account whose HTTP password this is, or None."""
        account = self._accounts.authenticate(username, password)
        if account is None or account.inactive:
            return None
        return self.open(account)

    def open(self, account: Account) -> NewSession:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        now = self._clock()
        with write_transaction(self._engine) as conn:
            # Expired sessions go when someone signs in: no timer needed.
            store.delete_expired(conn, now)
            store.insert_session(
                conn,
                key=_key(token),
                account_id=account.id,
                csrf_token=csrf,
                now=now,
                expires=now + self._lifetime,
            )
        return NewSession(token, WebSession(account, csrf), self._lifetime // 1_000_000)

    def lookup(self, token: str) -> WebSession | None:
        """The live session of a cookie's token, or None (unknown, expired, inactive)."""
        if not token:
            return None
        with read_transaction(self._engine) as conn:
            found = store.session(conn, _key(token))
        if found is None:
            return None
        account, csrf, expires = found
        if expires <= self._clock() or account.inactive:
            return None
        return WebSession(account, csrf)

    def sign_out(self, token: str) -> None:
        with write_transaction(self._engine) as conn:
            store.delete_session(conn, _key(token))

    def sign_up(
        self, username: str, *, full_name: str | None, email: str | None
    ) -> tuple[NewSession, str]:
        """A new account (Registered Users, as every account) with a generated HTTP
        password, signed in; the password is returned to be shown once."""
        if not self.self_signup:
            raise Forbidden(
                "this site does not allow signing up: ask an administrator for an account "
                "(or set `self_signup = true` under [web] in lockgate.toml)"
            )
        account = self._accounts.create_account(username, full_name=full_name, email=email)
        password = self._accounts.set_http_password(account, generate=True)
        assert password is not None
        return self.open(account), password

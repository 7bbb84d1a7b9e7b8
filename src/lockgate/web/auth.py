"""Who is asking: HTTP Basic with the account's HTTP password.

Under `/a/` credentials are required (401 with a Basic challenge otherwise).
Elsewhere a valid Authorization header identifies the caller, and an invalid
one is ignored, as Gerrit does for public reads: git-review sends the user
name from the remote URL with an empty password.

A browser signs in with the web interface's session cookie instead. A cookie
is sent by the browser whoever made the page that asks, so a request that
writes counts the cookie only with the session's CSRF token: in the
`X-CSRF-Token` header (scripts) or, for the web interface's forms, checked
from the form before the account is asked for (`csrf_checked`).
"""

from __future__ import annotations

import base64
import binascii
import secrets

from starlette.requests import HTTPConnection

from lockgate.core.review.model import Account
from lockgate.services.bootstrap import Services
from lockgate.services.errors import Unauthorized
from lockgate.services.permissions import Caller
from lockgate.services.web_sessions import WebSession

AUTH_REQUIRED = "lockgate.auth_required"
REALM = 'Basic realm="lockgate"'
SESSION_COOKIE = "lockgate_session"
CSRF_HEADER = "x-csrf-token"
_CSRF_CHECKED = "lockgate.csrf_checked"
_WEB_SESSION = "lockgate.web_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def services_of(conn: HTTPConnection) -> Services:
    services: Services = conn.app.state.services
    return services


def request_account(conn: HTTPConnection) -> Account | None:
    """The caller's account; raises Unauthorized under /a/ when there is none."""
    if "lockgate.account" in conn.scope:
        cached: Account | None = conn.scope["lockgate.account"]
        return cached
    account = _signed_in(conn, fresh=True)
    conn.scope["lockgate.account"] = account
    return account


def require_account(conn: HTTPConnection) -> Account:
    account = request_account(conn)
    if account is None:
        raise Unauthorized("Unauthorized: this needs authentication; use the /a/ prefix")
    return account


def require_signed_in(conn: HTTPConnection) -> Account:
    """`require_account` for an endpoint whose service reads the account again in
    its own transaction (`Permissions.current_caller`): a sign-in the server
    remembers costs no read of the database here."""
    if "lockgate.account" in conn.scope:
        return require_account(conn)
    account = _signed_in(conn, fresh=False)
    if account is None:
        raise Unauthorized("Unauthorized: this needs authentication; use the /a/ prefix")
    return account


def web_session(conn: HTTPConnection) -> WebSession | None:
    """The browser's session from its cookie, whatever the method (None without one)."""
    if _WEB_SESSION not in conn.scope:
        token = conn.cookies.get(SESSION_COOKIE)
        sessions = services_of(conn).web_sessions
        found = sessions.lookup(token) if token and sessions is not None else None
        conn.scope[_WEB_SESSION] = found
    session: WebSession | None = conn.scope[_WEB_SESSION]
    return session


def adopt_session(conn: HTTPConnection, session: WebSession) -> None:
    """Answer this request as the session just opened (its cookie comes next time)."""
    conn.scope[_WEB_SESSION] = session
    conn.scope["lockgate.account"] = session.account
    conn.scope.pop("lockgate.caller", None)


def csrf_checked(conn: HTTPConnection) -> None:
    """Say that this request's CSRF token was checked (by the form that carried it)."""
    conn.scope[_CSRF_CHECKED] = True


def _cookie_account(conn: HTTPConnection) -> Account | None:
    session = web_session(conn)
    if session is None:
        return None
    method = conn.scope.get("method", "GET")
    if method in _SAFE_METHODS or conn.scope.get(_CSRF_CHECKED):
        return session.account
    header = conn.headers.get(CSRF_HEADER, "")
    if header and secrets.compare_digest(header, session.csrf_token):
        return session.account
    return None


def _signed_in(conn: HTTPConnection, *, fresh: bool) -> Account | None:
    account = None
    credentials = basic_credentials(conn.headers.get("authorization"))
    if credentials is not None:
        accounts = services_of(conn).accounts
        account = (accounts.authenticate if fresh else accounts.sign_in)(*credentials)
    elif SESSION_COOKIE in conn.cookies:
        account = _cookie_account(conn)
    if account is None and conn.scope.get(AUTH_REQUIRED):
        raise Unauthorized("Unauthorized: sign in with your username and HTTP password")
    return account


def request_caller(conn: HTTPConnection) -> Caller:
    """The caller with its groups resolved once per request: pass it to every
    `Permissions` question a request asks (a change list asks thousands)."""
    if "lockgate.caller" not in conn.scope:
        account = request_account(conn)
        conn.scope["lockgate.caller"] = services_of(conn).permissions.caller(account)
    caller: Caller = conn.scope["lockgate.caller"]
    return caller

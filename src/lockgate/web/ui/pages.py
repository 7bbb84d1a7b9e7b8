"""What every page of the web interface shares: templates, the viewer, CSRF,
errors shown as pages, and the headers that keep a page's content inert.

Pages are Jinja2 templates with autoescaping on, so whatever a user wrote
(a commit message, a comment, a file name, a job's output) is text. The
Content-Security-Policy allows scripts only from `/static/`, so markup that
slipped through still could not run.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from lockgate.core.gating.reports import elapsed_text
from lockgate.core.query.errors import QueryError
from lockgate.core.review.model import Account
from lockgate.services.errors import Forbidden, ServiceError, Unauthorized
from lockgate.web.auth import (
    csrf_checked,
    request_account,
    request_caller,
    services_of,
    web_session,
)

ANON_CSRF_COOKIE = "lockgate_csrf"
CSRF_FIELD = "csrf_token"
STATIC = Path(__file__).parent / "static"
_NEW_ANON_CSRF = "lockgate.new_anon_csrf"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

Endpoint = Callable[[Request], Awaitable[Response]]


def _time(micros: int | None) -> str:
    if not micros:
        return ""
    moment = dt.datetime.fromtimestamp(micros / 1_000_000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M")


def _iso(micros: int | None) -> str:
    if not micros:
        return ""
    return dt.datetime.fromtimestamp(micros / 1_000_000, tz=dt.UTC).isoformat()


def _account_name(account: Account | None) -> str:
    if account is None:
        return "anonymous"
    return account.full_name or account.username


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _duration(seconds: float | None) -> str:
    return "" if seconds is None else elapsed_text(seconds)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lockgate.web.ui", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = _time
    env.filters["iso"] = _iso
    env.filters["account_name"] = _account_name
    env.filters["quote"] = _quote
    env.filters["duration"] = _duration
    return env


templates = _environment()


def viewer(request: Request) -> Account | None:
    """Who is looking: the session's account or HTTP Basic's; None for anonymous."""
    try:
        return request_account(request)
    except Unauthorized:
        return None


def csrf_token(request: Request) -> str:
    """The token this page's forms carry: the session's, or for an anonymous
    visitor (the sign-in form) one kept in a cookie of its own."""
    session = web_session(request)
    if session is not None:
        return session.csrf_token
    token = request.cookies.get(ANON_CSRF_COOKIE)
    if not token:
        token = request.scope.get(_NEW_ANON_CSRF)
        if token is None:
            token = secrets.token_urlsafe(24)
            request.scope[_NEW_ANON_CSRF] = token
    return token


def secure(response: Response, request: Request | None = None) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request is not None:
        new = request.scope.get(_NEW_ANON_CSRF)
        if new is not None:
            response.set_cookie(
                ANON_CSRF_COOKIE,
                new,
                httponly=True,
                samesite="lax",
                path="/",
                secure=request.url.scheme == "https",
            )
    return response


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    services = services_of(request)
    base: dict[str, Any] = {
        "request": request,
        "viewer": viewer(request),
        "csrf_token": csrf_token(request),
        "csrf_field": CSRF_FIELD,
        "site_name": services.settings.server.name,
        "site_url": services.public_url,
        "tenants": [tenant.name for tenant in services.tenants.tenants()],
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        # asked only by the pages that show admin links: a read of the groups
        "viewer_is_admin": lambda: request_caller(request).admin,
    }
    base.update(context)
    html = templates.get_template(template).render(base)
    response = HTMLResponse(html, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return secure(response, request)  # type: ignore[return-value]


def redirect(url: str) -> Response:
    return secure(RedirectResponse(url, status_code=303))


def safe_next(target: str | None, default: str = "/") -> str:
    """A place on this site to go back to: never another site's address."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matched this browser's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = (
        csrf_token(request)
        if (web_session(request) is not None or request.cookies.get(ANON_CSRF_COOKIE))
        else None
    )
    if not isinstance(sent, str) or expected is None or not secrets.compare_digest(sent, expected):
        raise Forbidden(
            "this form's security token is missing or out of date: reload the page and try again"
        )
    csrf_checked(request)
    return form


def page(endpoint: Endpoint) -> Endpoint:
    """A page endpoint: a refusal becomes an error page (or, for someone not
    signed in, the sign-in page that comes back here)."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        try:
            response = await endpoint(request)
        except Unauthorized:
            if viewer(request) is None:
                back = request.url.path if request.method == "GET" else "/"
                return redirect(f"/login?next={_quote(back)}")
            return error_page(request, "You are not allowed to do this.", 403)
        except ServiceError as error:
            return error_page(request, str(error), error.status)
        except QueryError as error:
            return error_page(request, str(error), 400)
        return secure(response, request)

    return wrapped


def error_page(request: Request, message: str, status: int) -> Response:
    return render(request, "error.html", status=status, message=message, status_code=status)

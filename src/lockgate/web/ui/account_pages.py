"""Signing in and out, signing up, and one's own settings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lockgate.core.review.model import Account
from lockgate.services.errors import BadRequest, Conflict, Unauthorized
from lockgate.services.web_sessions import NewSession, WebSessions
from lockgate.web.auth import SESSION_COOKIE, adopt_session, services_of
from lockgate.web.ui.pages import checked_form, page, redirect, render, safe_next, viewer


def _sessions(request: Request) -> WebSessions:
    sessions = services_of(request).web_sessions
    assert sessions is not None
    return sessions


def _signed_in(request: Request, new: NewSession, target: str) -> Response:
    response = redirect(target)
    _set_session_cookie(request, response, new)
    return response


def _set_session_cookie(request: Request, response: Response, new: NewSession) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        max_age=new.max_age,
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.url.scheme == "https",
    )


@page
async def login_form(request: Request) -> Response:
    return render(
        request,
        "login.html",
        next=safe_next(request.query_params.get("next")),
        error=None,
        username="",
        self_signup=_sessions(request).self_signup,
    )


@page
async def login(request: Request) -> Response:
    form = await checked_form(request)
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")) or None)
    new = _sessions(request).sign_in(username, password)
    if new is None:
        return render(
            request,
            "login.html",
            status=401,
            next=target,
            error="The username or HTTP password is wrong.",
            username=username,
            self_signup=_sessions(request).self_signup,
        )
    return _signed_in(request, new, target)


@page
async def logout(request: Request) -> Response:
    await checked_form(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        _sessions(request).sign_out(token)
    response = redirect("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@page
async def register_form(request: Request) -> Response:
    return render(
        request,
        "register.html",
        allowed=_sessions(request).self_signup,
        error=None,
        values={},
    )


@page
async def register(request: Request) -> Response:
    form = await checked_form(request)
    values = {name: str(form.get(name, "")).strip() for name in ("username", "full_name", "email")}
    try:
        new, password = _sessions(request).sign_up(
            values["username"],
            full_name=values["full_name"] or None,
            email=values["email"] or None,
        )
    except (BadRequest, Conflict) as error:
        return render(
            request,
            "register.html",
            status=error.status,
            allowed=True,
            error=str(error),
            values=values,
        )
    # The new password is shown once, on this answer; the cookie signs them in,
    # and this answer is already theirs (their CSRF token in its forms).
    adopt_session(request, new.session)
    response = _settings_page(request, new.session.account, new_password=password)
    _set_session_cookie(request, response, new)
    return response


def _settings_page(request: Request, account: Account, *, new_password: str | None) -> Response:
    return render(
        request,
        "settings.html",
        account=account,
        groups=services_of(request).accounts.groups_of(account),
        new_password=new_password,
    )


@page
async def settings(request: Request) -> Response:
    account = viewer(request)
    if account is None:
        raise Unauthorized("sign in to see your settings")
    return _settings_page(request, account, new_password=None)


@page
async def new_http_password(request: Request) -> Response:
    await checked_form(request)
    account = viewer(request)
    if account is None:
        raise Unauthorized("sign in to change your HTTP password")
    password = services_of(request).accounts.set_http_password(account, generate=True)
    return _settings_page(request, account, new_password=password)


routes = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/register", register_form, methods=["GET"]),
    Route("/register", register, methods=["POST"]),
    Route("/settings", settings, methods=["GET"]),
    Route("/settings/http-password", new_http_password, methods=["POST"]),
]

"""The ASGI application: git smart HTTP and the Gerrit REST API on one server.

`/a/` is stripped here and remembered as "authentication required", so every
endpoint answers both with and without it, as Gerrit's do.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from lockgate.core.query.errors import QueryError
from lockgate.services.bootstrap import Services
from lockgate.services.errors import ServiceError, Unauthorized
from lockgate.web import autohold_api, console, events, keys_api, logs, zuul_api
from lockgate.web.auth import AUTH_REQUIRED, REALM
from lockgate.web.gerrit import (
    access,
    accounts,
    change_edits,
    changes,
    config,
    diffs,
    drafts,
    groups,
    projects,
    review,
    submit,
    tools,
)
from lockgate.web.gerrit.responses import plain_error
from lockgate.web.git import GitHttp, is_git_path
from lockgate.web.hooks import routes as hook_routes
from lockgate.web.routing import RouteIndex
from lockgate.web.ui.routes import routes as ui_routes

log = logging.getLogger(__name__)


def _routes() -> list[BaseRoute]:
    return [
        *changes.routes,
        *review.routes,
        *drafts.routes,
        *change_edits.routes,
        *submit.routes,
        *diffs.routes,
        *access.routes,
        *events.routes,
        *accounts.routes,
        *groups.routes,
        *projects.routes,
        *config.routes,
        *tools.routes,
        *hook_routes,
        *console.routes,
        *zuul_api.routes,
        *keys_api.routes,
        *logs.routes,
        *autohold_api.routes,
        *ui_routes,
    ]


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    response = plain_error(str(exc), exc.status)
    if isinstance(exc, Unauthorized):
        response.headers["WWW-Authenticate"] = REALM
    return response


async def _query_error(request: Request, exc: Exception) -> Response:
    return plain_error(str(exc), 400)


class LockgateApp:
    """Routes git traffic to git's http-backend and everything else to Starlette."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.api = Starlette(
            routes=[RouteIndex(_routes())],
            exception_handlers={ServiceError: _service_error, QueryError: _query_error},
            lifespan=self._lifespan,
        )
        self.api.state.services = services
        self.git = GitHttp(services)

    @asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        # Background work (webhook deliveries) runs while the server does.
        await self.services.start_background()
        try:
            yield
        finally:
            await self.services.stop_background()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            scope = dict(scope)
            # Routes see the path still percent-encoded, as Gerrit's do: a
            # project `a/b` arrives as `a%2Fb` in one segment, and endpoints
            # unquote their parameters themselves.
            raw = scope.get("raw_path")
            path = raw.decode("latin-1") if raw else path
            if path == "/a" or path.startswith("/a/"):
                path = path[2:] or "/"
                scope[AUTH_REQUIRED] = True
            scope["path"] = path
            scope["raw_path"] = path.encode("latin-1")
            if is_git_path(scope["path"]):
                await self.git(scope, receive, send)
                return
        await self.api(scope, receive, send)


def create_app(services: Services) -> LockgateApp:
    return LockgateApp(services)

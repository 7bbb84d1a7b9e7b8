"""Every page of the web interface, and the static files they use."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.staticfiles import StaticFiles

from lockgate.web.ui import (
    account_pages,
    builds_page,
    change_actions,
    change_page,
    dashboard_routes,
    diff_pages,
    status_page,
)
from lockgate.web.ui.pages import STATIC, redirect, viewer

_static_files = StaticFiles(directory=STATIC)


async def static(request: Request) -> Response:
    """The pages' scripts and style sheets (ETag and Last-Modified from Starlette)."""
    return await _static_files.get_response(request.path_params["path"], request.scope)


async def start(request: Request) -> Response:
    """Gerrit's start page: one's dashboard when signed in, else the open changes."""
    return redirect("/dashboard/self" if viewer(request) else "/q/status:open")


routes: list[BaseRoute] = [
    Route("/", start, methods=["GET"]),
    *account_pages.routes,
    *diff_pages.routes,
    *builds_page.routes,
    *status_page.routes,
    *change_page.routes,
    *change_actions.routes,
    *dashboard_routes.routes,
    Route("/static/{path:path}", static, methods=["GET", "HEAD"]),
]

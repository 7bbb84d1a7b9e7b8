"""Autoholds in Zuul's REST shapes: list and show for anyone, add and delete
for administrators (HTTP Basic, where Zuul uses a JWT)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.services.autoholds import AutoholdService
from lockgate.services.errors import Forbidden, NotFound
from lockgate.web.auth import require_account, services_of
from lockgate.web.gerrit.params import parse_json_body, path_param
from lockgate.web.zuul_api import api_json


def _autoholds(request: Request) -> AutoholdService:
    found = services_of(request).autoholds
    if found is None:
        raise NotFound("this site keeps no test nodes, so it has no autoholds")
    return found


def _admin(request: Request) -> None:
    account = require_account(request)
    if not services_of(request).accounts.is_admin(account):
        raise Forbidden("adding and deleting autoholds is for administrators")


async def list_autoholds(request: Request) -> Response:
    tenant = path_param(request, "tenant")
    views = await run_in_threadpool(lambda: _autoholds(request).list(tenant))
    return api_json([view.to_json() for view in views])


async def add_autohold(request: Request) -> Response:
    body = parse_json_body(await request.body())
    tenant, project = path_param(request, "tenant"), path_param(request, "project")

    def act() -> None:
        _admin(request)
        _autoholds(request).add_from(tenant, project, body)

    await run_in_threadpool(act)
    return api_json(True)


async def show_autohold(request: Request) -> Response:
    tenant, hold = path_param(request, "tenant"), path_param(request, "id")
    view = await run_in_threadpool(lambda: _autoholds(request).get(tenant, hold))
    return api_json(view.to_json())


async def delete_autohold(request: Request) -> Response:
    tenant, hold = path_param(request, "tenant"), path_param(request, "id")

    def act() -> None:
        _admin(request)
        _autoholds(request).delete(tenant, hold)

    await run_in_threadpool(act)
    return Response(status_code=204, headers={"Access-Control-Allow-Origin": "*"})


routes: list[BaseRoute] = [
    Route("/api/tenant/{tenant}/autohold", list_autoholds),
    Route("/api/tenant/{tenant}/project/{project:path}/autohold", add_autohold, methods=["POST"]),
    Route("/api/tenant/{tenant}/autohold/{id}", show_autohold),
    Route("/api/tenant/{tenant}/autohold/{id}", delete_autohold, methods=["DELETE"]),
]

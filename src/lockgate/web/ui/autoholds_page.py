"""Autoholds in the browser: `/t/<tenant>/autoholds` lists them for anyone (of
the projects they may read) and, for administrators (as the REST API's add and
delete), a form to add one and a button to delete each."""

from __future__ import annotations

import re
import urllib.parse

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lockgate.services.autoholds import AutoholdService, AutoholdView
from lockgate.services.errors import BadRequest, Forbidden, NotFound, Unauthorized
from lockgate.web.auth import request_caller, services_of
from lockgate.web.gerrit.params import path_param
from lockgate.web.ui.build_links import Links, helpers, views
from lockgate.web.ui.pages import checked_form, page, redirect, render, viewer

FIELDS = ("project", "job", "change", "ref", "count", "expiry", "reason")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.I)
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _service(request: Request) -> AutoholdService:
    found = services_of(request).autoholds
    if found is None:
        raise NotFound("this site keeps no test nodes, so it has no autoholds")
    return found


def _is_admin(request: Request) -> bool:
    account = viewer(request)
    return account is not None and services_of(request).accounts.is_admin(account)


def _require_admin(request: Request) -> None:
    if viewer(request) is None:
        raise Unauthorized("sign in to manage autoholds")
    if not _is_admin(request):
        raise Forbidden("adding and deleting autoholds is for administrators")


def seconds(text: str) -> int:
    """`3600`, `90m`, `12h` or `2d` as seconds; empty or 0: until deleted."""
    if not text.strip():
        return 0
    found = _DURATION.match(text)
    if found is None:
        raise BadRequest(
            f"keep the nodes for {text!r}: write a number of seconds, or with a unit "
            "(90m, 12h, 2d); 0 keeps them until the autohold is deleted"
        )
    return int(found.group(1)) * _UNIT[found.group(2).lower()]


def expiry(seconds: int) -> str:
    if not seconds:
        return "until deleted"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _visible(request: Request, tenant: str) -> list[AutoholdView]:
    holds = _service(request).list(tenant)
    readable = views(request).readable_projects(request_caller(request), tenant)
    if readable is None:
        return holds
    return [view for view in holds if view.hold.project in readable]


async def _page(
    request: Request,
    tenant: str,
    *,
    status: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    def read() -> tuple[list[AutoholdView], list[str], list[str]]:
        found = views(request)
        found.gate.require_tenant(tenant)
        choices = found.choices(request_caller(request), tenant)
        return _visible(request, tenant), choices.projects, choices.jobs

    holds, projects, jobs = await run_in_threadpool(read)
    return render(
        request,
        "autoholds.html",
        status=status,
        holds=holds,
        projects=projects,
        jobs=jobs,
        admin=_is_admin(request),
        error=error,
        values={**dict.fromkeys(FIELDS, ""), "count": "1", "expiry": "0", **(values or {})},
        added=request.query_params.get("added"),
        deleted=request.query_params.get("deleted"),
        expiry=expiry,
        **helpers(tenant),
    )


@page
async def autoholds(request: Request) -> Response:
    return await _page(request, path_param(request, "tenant"))


def _body(form: FormData) -> tuple[str, dict[str, object]]:
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    if not values["project"]:
        raise BadRequest("choose the project whose job's nodes to hold")
    count = values["count"] or "1"
    if not count.isdigit():
        raise BadRequest(f"count {count!r}: how many failed builds to hold, a whole number")
    body: dict[str, object] = {
        "job": values["job"],
        "change": values["change"],
        "ref": values["ref"],
        "reason": values["reason"],
        "count": int(count),
        "node_hold_expiration": seconds(values["expiry"]),
    }
    return values["project"], body


@page
async def add(request: Request) -> Response:
    form = await checked_form(request)
    tenant = path_param(request, "tenant")
    _require_admin(request)
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}

    def act() -> str:
        project, body = _body(form)
        if project not in views(request).choices(request_caller(request), tenant).projects:
            raise BadRequest(f"tenant {tenant} has no project {project!r}")
        return _service(request).add_from(tenant, project, body).id

    try:
        made = await run_in_threadpool(act)
    except BadRequest as error:
        return await _page(request, tenant, status=400, error=str(error), values=values)
    return redirect(f"{Links(tenant).autoholds()}?added={urllib.parse.quote(made)}")


@page
async def delete(request: Request) -> Response:
    await checked_form(request)
    tenant, hold = path_param(request, "tenant"), path_param(request, "id")
    _require_admin(request)
    await run_in_threadpool(_service(request).delete, tenant, hold)
    return redirect(f"{Links(tenant).autoholds()}?deleted={urllib.parse.quote(hold)}")


routes = [
    Route("/t/{tenant}/autoholds", autoholds, methods=["GET"]),
    Route("/t/{tenant}/autoholds", add, methods=["POST"]),
    Route("/t/{tenant}/autohold/{id}/delete", delete, methods=["POST"]),
]

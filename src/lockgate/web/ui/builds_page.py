"""The build history in the browser, in Zuul's web UI shapes: `/t/<tenant>/builds`
and `/buildsets` with their filters, one build and one build set, and the
live console of a running build (`/t/<tenant>/stream/<uuid>`). Its routes
include the log viewer's and the autoholds'."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lockgate.adapters.db.gate_store import HistoryFilter
from lockgate.services.build_views import FilterChoices
from lockgate.services.errors import BadRequest
from lockgate.web.auth import request_caller
from lockgate.web.gerrit.params import path_param
from lockgate.web.ui import autoholds_page, log_viewer
from lockgate.web.ui.build_links import RESULTS, helpers, views
from lockgate.web.ui.pages import page, render

PAGE_SIZE = 50
MAX_PAGE = 500
# The filters of Zuul's builds page, by their query parameter names.
FILTERS = ("project", "pipeline", "job_name", "result", "change", "patchset", "branch")


def _whole(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise BadRequest(f"{name}={raw}: a whole number is needed here (e.g. {name}=12)")
    return int(raw)


def _filters(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "").strip() for name in FILTERS}


def _history_filter(request: Request, tenant: str) -> HistoryFilter:
    q = _filters(request)
    change = q["change"].split(",", 1)
    patchset = _whole(request, "patchset")
    if len(change) == 2 and patchset is None:  # `12,3` as the status page writes it
        patchset = int(change[1]) if change[1].isdigit() else None
    number = change[0]
    if number and not number.isdigit():
        raise BadRequest(f"change={q['change']}: give a change number, or N,P for a patch set")
    limit = min(_whole(request, "limit") or PAGE_SIZE, MAX_PAGE)
    return HistoryFilter(
        tenant=tenant,
        project=q["project"] or None,
        pipeline=q["pipeline"] or None,
        job=q["job_name"] or None,
        change=int(number) if number else None,
        patchset=patchset,
        result=q["result"].upper() or None,
        branch=q["branch"] or None,
        limit=limit + 1,  # one more tells whether there is a next page
        skip=_whole(request, "skip") or 0,
    )


def _paging(request: Request, where: HistoryFilter, shown: int, more: bool) -> dict[str, object]:
    limit = where.limit - 1
    base = {k: v for k, v in _filters(request).items() if v}
    if limit != PAGE_SIZE:
        base["limit"] = str(limit)
    return {
        "skip": where.skip,
        "shown": shown,
        "previous": None if where.skip == 0 else {**base, "skip": max(where.skip - limit, 0)},
        "next": {**base, "skip": where.skip + limit} if more else None,
    }


async def _history_page(
    request: Request, template: str, list_rows: Callable[..., Sequence[Any]]
) -> Response:
    """A builds or buildsets list: the rows the caller may see, filtered and paged."""
    tenant = path_param(request, "tenant")
    where = _history_filter(request, tenant)
    caller = request_caller(request)
    found = views(request)

    def read() -> tuple[Sequence[Any], FilterChoices]:
        return list_rows(found, caller, where), found.choices(caller, tenant)

    rows, choices = await run_in_threadpool(read)
    more = len(rows) >= where.limit
    rows = rows[: where.limit - 1]
    return render(
        request,
        template,
        rows=rows,
        filters=_filters(request),
        choices=choices,
        results=RESULTS,
        paging=_paging(request, where, len(rows), more),
        **helpers(tenant),
    )


@page
async def builds(request: Request) -> Response:
    return await _history_page(request, "builds.html", lambda v, c, w: v.builds(c, w))


@page
async def buildsets(request: Request) -> Response:
    return await _history_page(request, "buildsets.html", lambda v, c, w: v.buildsets(c, w))


@page
async def build(request: Request) -> Response:
    tenant, uuid = path_param(request, "tenant"), path_param(request, "uuid")
    caller = request_caller(request)
    detail = await run_in_threadpool(views(request).build, caller, tenant, uuid)
    return render(request, "build.html", detail=detail, b=detail.build, **helpers(tenant))


@page
async def buildset(request: Request) -> Response:
    tenant, uuid = path_param(request, "tenant"), path_param(request, "uuid")
    caller = request_caller(request)
    row, rows = await run_in_threadpool(views(request).buildset, caller, tenant, uuid)
    return render(request, "buildset.html", bs=row, rows=rows, **helpers(tenant))


@page
async def console(request: Request) -> Response:
    """The live console: the page's script reads the console's event stream and
    appends each line as it comes."""
    tenant, uuid = path_param(request, "tenant"), path_param(request, "uuid")
    caller = request_caller(request)
    row = await run_in_threadpool(views(request).build_row, caller, tenant, uuid)
    return render(request, "console.html", b=row, **helpers(tenant))


# The log viewer and autoholds are part of the tenant's build pages.
routes = [
    *log_viewer.routes,
    *autoholds_page.routes,
    Route("/t/{tenant}/builds", builds, methods=["GET"]),
    Route("/t/{tenant}/buildsets", buildsets, methods=["GET"]),
    Route("/t/{tenant}/build/{uuid}", build, methods=["GET"]),
    Route("/t/{tenant}/buildset/{uuid}", buildset, methods=["GET"]),
    Route("/t/{tenant}/stream/{uuid}", console, methods=["GET"]),
]

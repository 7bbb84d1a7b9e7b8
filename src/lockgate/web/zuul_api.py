"""The scheduler's REST API in Zuul's shapes, under `/api/`, so that Zuul's
status page, zuul-client and scripts written for Zuul read it unchanged.

Plain JSON (no Gerrit `)]}'` prefix). Reads answer what the caller (HTTP
Basic or the web interface's session cookie) may read, by the projects' `read`
permission and private changes (services/build_visibility.py): lists leave
the rest out and a build or build set the caller may not see is a 404.
Enqueue, dequeue and promote need an administrator (HTTP Basic, as the rest
of the server), where Zuul uses a JWT.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.adapters.db.gate_store import BuildRow, BuildsetRow, HistoryFilter
from lockgate.services.build_views import BuildViews
from lockgate.services.errors import BadRequest, Forbidden, NotFound, Unauthorized
from lockgate.services.gate_api import GateApi
from lockgate.web.auth import request_account, request_caller, require_account, services_of
from lockgate.web.gerrit.params import parse_json_body, path_param

_MAX_LIMIT = 1000


def api_json(data: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(data, separators=(",", ":"), ensure_ascii=False),
        status_code=status,
        media_type="application/json",
        headers={"Access-Control-Allow-Origin": "*"},
    )


def _api(request: Request) -> GateApi:
    api = services_of(request).gate_api
    if api is None:
        raise NotFound("gating is disabled on this site ([gating] enabled = false)")
    return api


def _seconds(us: int | None) -> str | None:
    if us is None:
        return None
    import datetime

    return datetime.datetime.fromtimestamp(us / 1e6, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise BadRequest(f"{name}={raw}: expected a whole number")
    return int(raw)


def _filter(request: Request, tenant: str) -> HistoryFilter:
    q = request.query_params
    limit = _int(request, "limit") or 50
    return HistoryFilter(
        tenant=tenant,
        project=q.get("project") or None,
        pipeline=q.get("pipeline") or None,
        job=q.get("job_name") or None,
        change=_int(request, "change"),
        patchset=_int(request, "patchset"),
        result=q.get("result") or None,
        branch=q.get("branch") or None,
        limit=min(limit, _MAX_LIMIT),
        skip=_int(request, "skip") or 0,
    )


def _build(row: BuildRow, *, with_buildset: bool = True) -> dict[str, Any]:
    duration = None
    if row.started is not None and row.ended is not None:
        duration = (row.ended - row.started) / 1e6
    data: dict[str, Any] = {
        "uuid": row.uuid,
        "job_name": row.job,
        "result": row.result,
        "held": False,
        "start_time": _seconds(row.started),
        "end_time": _seconds(row.ended),
        "duration": duration,
        "voting": row.voting,
        "log_url": row.log_url,
        "error_detail": row.error,
        "final": row.result is not None,
        "artifacts": [
            {"name": a.name, "url": a.url, "metadata": dict(a.metadata)} for a in row.artifacts
        ],
        "provides": [],
        "project": row.project,
        "branch": row.branch,
        "pipeline": row.pipeline,
        "change": row.change,
        "patchset": str(row.patchset) if row.patchset is not None else None,
        "ref": row.ref,
        "changes": row.changes,
        "attempt": row.attempt,
    }
    if with_buildset:
        data["buildset"] = {"uuid": row.buildset}
    return data


def _buildset(row: BuildsetRow) -> dict[str, Any]:
    return {
        "uuid": row.uuid,
        "result": row.result,
        "message": row.message,
        "project": row.project,
        "branch": row.branch,
        "pipeline": row.pipeline,
        "change": row.change,
        "patchset": str(row.patchset) if row.patchset is not None else None,
        "ref": row.ref,
        "oldrev": row.oldrev,
        "newrev": row.newrev,
        "event_timestamp": _seconds(row.created),
        "first_build_start_time": None,
        "last_build_end_time": None,
    }


async def tenants(request: Request) -> Response:
    rows = await run_in_threadpool(_api(request).tenants)
    return api_json([{"name": t.name, "projects": t.projects, "queue": t.queue} for t in rows])


async def status(request: Request) -> Response:
    tenant = path_param(request, "tenant")

    def read() -> dict[str, Any]:
        return _api(request).status_for(tenant, request_caller(request))

    return api_json(await run_in_threadpool(read))


async def change_status(request: Request) -> Response:
    tenant = path_param(request, "tenant")
    change = path_param(request, "change")

    def read() -> list[dict[str, Any]]:
        return _api(request).change_status(tenant, change, request_caller(request))

    return api_json(await run_in_threadpool(read))


async def builds(request: Request) -> Response:
    where = _filter(request, path_param(request, "tenant"))

    def read() -> list[BuildRow]:
        return BuildViews(services_of(request)).builds(request_caller(request), where)

    return api_json([_build(r) for r in await run_in_threadpool(read)])


async def build(request: Request) -> Response:
    tenant, uuid = path_param(request, "tenant"), path_param(request, "uuid")

    def read() -> BuildRow:
        return BuildViews(services_of(request)).build_row(request_caller(request), tenant, uuid)

    return api_json(_build(await run_in_threadpool(read)))


async def buildsets(request: Request) -> Response:
    where = _filter(request, path_param(request, "tenant"))

    def read() -> list[BuildsetRow]:
        return BuildViews(services_of(request)).buildsets(request_caller(request), where)

    return api_json([_buildset(r) for r in await run_in_threadpool(read)])


async def buildset(request: Request) -> Response:
    tenant, uuid = path_param(request, "tenant"), path_param(request, "uuid")

    def read() -> tuple[BuildsetRow, list[BuildRow]]:
        return BuildViews(services_of(request)).buildset(request_caller(request), tenant, uuid)

    row, rows = await run_in_threadpool(read)
    data = _buildset(row)
    data["builds"] = [_build(b, with_buildset=False) for b in rows]
    return api_json(data)


async def jobs(request: Request) -> Response:
    tenant = path_param(request, "tenant")

    def read() -> dict[str, list[Any]]:
        return _api(request).jobs_for(tenant, request_caller(request))

    found = await run_in_threadpool(read)
    out = []
    for name in sorted(found):
        variants = found[name]
        out.append(
            {
                "name": name,
                "description": next((v.description for v in variants if v.description), None),
                "tags": sorted({tag for v in variants for tag in (v.tags or ())}),
                "variants": [
                    {
                        "parent": None if v.is_base else (v.parent or "base"),
                        "branches": list(v.branches or ()),
                        "source_context": {
                            "project": v.where.source.project,
                            "branch": v.where.source.branch,
                            "path": v.where.source.path,
                        },
                    }
                    for v in variants
                ],
            }
        )
    return api_json(out)


async def projects(request: Request) -> Response:
    tenant = path_param(request, "tenant")

    def read() -> list[tuple[str, bool]]:
        return _api(request).projects_for(tenant, request_caller(request))

    rows = await run_in_threadpool(read)
    connection = services_of(request).gating_connection
    return api_json(
        [
            {
                "name": name,
                "connection_name": connection,
                "canonical_name": f"{services_of(request).public_host}/{name}",
                "type": "config" if trusted else "untrusted",
            }
            for name, trusted in rows
        ]
    )


async def pipelines(request: Request) -> Response:
    layout = await run_in_threadpool(_api(request).layout, path_param(request, "tenant"))
    out = []
    for name in layout.pipeline_names():
        pipeline = layout.pipeline(name)
        out.append(
            {
                "name": name,
                "manager": pipeline.manager,
                "description": pipeline.description,
                "precedence": pipeline.precedence,
                "triggers": [{"name": t.connection, "driver": t.driver} for t in pipeline.triggers],
            }
        )
    return api_json(out)


async def config_errors(request: Request) -> Response:
    tenant = path_param(request, "tenant")

    def read() -> list[Any]:
        return _api(request).config_errors_for(tenant, request_caller(request))

    errors = await run_in_threadpool(read)
    out = []
    for error in errors:
        source = error.where.source
        out.append(
            {
                "source_context": {
                    "project": source.project,
                    "branch": source.branch,
                    "path": source.path,
                },
                "line": error.where.mark.line,
                "column": error.where.mark.column,
                "name": error.context,
                "attribute": error.attribute,
                "severity": error.severity,
                "short_error": error.message,
                "error": error.render(),
            }
        )
    return api_json(out)


def require_gate_admin(request: Request) -> None:
    """Enqueue, dequeue and promote: for administrators (the REST API's and
    the status page's forms alike). Reads the database: call it in a thread."""
    account = require_account(request)
    if not services_of(request).accounts.is_admin(account):
        raise Forbidden("enqueue, dequeue and promote are for administrators")


def may_admin_gate(request: Request) -> bool:
    """Whether the caller would pass `require_gate_admin` (to offer the buttons)."""
    try:
        account = request_account(request)
    except Unauthorized:
        return False
    return services_of(request).accounts.is_admin(account)


AdminAction = Callable[[GateApi, str, dict[str, Any]], None]


def _admin_endpoint(action: AdminAction) -> Callable[[Request], Awaitable[Response]]:
    """An admin action on the tenant in the path, with the JSON body: checked
    and carried out in the threadpool (it reads the database)."""

    async def endpoint(request: Request) -> Response:
        body = parse_json_body(await request.body())
        tenant = path_param(request, "tenant")

        def act() -> None:
            require_gate_admin(request)
            if "project" in request.path_params:
                body["project"] = path_param(request, "project")
            action(_api(request), tenant, body)

        await run_in_threadpool(act)
        return api_json(True)

    return endpoint


def _enqueue(api: GateApi, tenant: str, body: dict[str, Any]) -> None:
    api.enqueue(
        tenant,
        body["project"],
        _required(body, "pipeline"),
        change=body.get("change"),
        ref=body.get("ref"),
        oldrev=body.get("oldrev"),
        newrev=body.get("newrev"),
    )


def _dequeue(api: GateApi, tenant: str, body: dict[str, Any]) -> None:
    api.dequeue(
        tenant,
        body["project"],
        _required(body, "pipeline"),
        change=body.get("change"),
        ref=body.get("ref"),
    )


def _promote(api: GateApi, tenant: str, body: dict[str, Any]) -> None:
    changes = body.get("changes")
    if not isinstance(changes, list) or not all(isinstance(c, str) for c in changes):
        raise BadRequest('"changes" must be a list of "N,P" strings')
    api.promote(tenant, _required(body, "pipeline"), changes)


enqueue = _admin_endpoint(_enqueue)
dequeue = _admin_endpoint(_dequeue)
promote = _admin_endpoint(_promote)


def _required(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f'the request needs "{name}"')
    return value


routes: list[BaseRoute] = [
    Route("/api/tenants", tenants),
    Route("/api/tenant/{tenant}/status", status),
    Route("/api/tenant/{tenant}/status/change/{change}", change_status),
    Route("/api/tenant/{tenant}/builds", builds),
    Route("/api/tenant/{tenant}/build/{uuid}", build),
    Route("/api/tenant/{tenant}/buildsets", buildsets),
    Route("/api/tenant/{tenant}/buildset/{uuid}", buildset),
    Route("/api/tenant/{tenant}/jobs", jobs),
    Route("/api/tenant/{tenant}/projects", projects),
    Route("/api/tenant/{tenant}/pipelines", pipelines),
    Route("/api/tenant/{tenant}/config-errors", config_errors),
    Route("/api/tenant/{tenant}/project/{project:path}/enqueue", enqueue, methods=["POST"]),
    Route("/api/tenant/{tenant}/project/{project:path}/dequeue", dequeue, methods=["POST"]),
    Route("/api/tenant/{tenant}/promote", promote, methods=["POST"]),
]

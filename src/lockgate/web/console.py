"""The live console of a build: `GET /api/tenant/{tenant}/console-stream/{build}`,
server-sent events of its `job-output.txt` as the build writes it.

Each event carries a batch of whole lines, one `data:` line per console line
(an EventSource joins them with newlines), and `id:` is the byte offset just
after them: a reconnecting EventSource sends it back as `Last-Event-ID` and
resumes there; `?offset=N` does the same for other clients. When the build has
a result the rest of the file comes, then `event: end` with
`{"result": ..., "log_url": ...}` as its data, and the stream closes.

A build the caller may not see (services/build_visibility.py) is a 404, as
an unknown one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from lockgate.services.build_logs import BuildLogs, ConsoleEnd, ConsoleLines, ConsoleWait
from lockgate.services.build_views import BuildViews
from lockgate.services.errors import BadRequest
from lockgate.web.auth import request_caller, services_of
from lockgate.web.gerrit.params import path_param

EVENT_STREAM = "text/event-stream"
RETRY_MS = 2000
HEARTBEAT = 15.0


def _build_logs(request: Request) -> BuildLogs:
    logs = services_of(request).build_logs
    assert logs is not None, "build_services sets the build logs"
    return logs


def _offset(request: Request) -> int:
    """Where to resume: `Last-Event-ID` (an EventSource reconnect), else
    `?offset=N`, else the start of the console."""
    for name, raw in (
        ("Last-Event-ID", request.headers.get("last-event-id")),
        ("offset", request.query_params.get("offset")),
    ):
        if raw is None or not raw.strip():
            continue
        if not raw.strip().isdigit():
            raise BadRequest(
                f"{name}: {raw} is not a console offset; send the id: of the last event "
                "received, a whole number of bytes"
            )
        return int(raw.strip())
    return 0


def sse_lines(item: ConsoleLines) -> str:
    # A bare carriage return would end an SSE line early (progress bars use them).
    data = "".join(f"data: {line.replace(chr(13), '')}\n" for line in item.lines)
    return f"id: {item.offset}\n{data}\n"


def sse_end(item: ConsoleEnd) -> str:
    data = json.dumps({"result": item.result, "log_url": item.log_url}, separators=(",", ":"))
    return f"id: {item.offset}\nevent: end\ndata: {data}\n\n"


async def _frames(logs: BuildLogs, tenant: str, build: str, offset: int) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MS}\n: console of {build} from byte {offset}\n\n"
    follow = logs.console(build, tenant=tenant, offset=offset, heartbeat=HEARTBEAT)
    async with aclosing(follow) as items:
        async for item in items:
            if isinstance(item, ConsoleLines):
                yield sse_lines(item)
            elif isinstance(item, ConsoleWait):
                yield ": keep-alive\n\n"
            elif isinstance(item, ConsoleEnd):
                yield sse_end(item)


async def console_stream(request: Request) -> Response:
    tenant = path_param(request, "tenant")
    build = path_param(request, "build")
    offset = _offset(request)
    logs = _build_logs(request)

    def check() -> None:
        # An unknown build, or one the caller may not see, is a 404 now, not an empty stream.
        BuildViews(services_of(request)).build_row(request_caller(request), tenant, build)

    await run_in_threadpool(check)
    return StreamingResponse(
        _frames(logs, tenant, build, offset),
        media_type=EVENT_STREAM,
        headers={
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            "Access-Control-Allow-Origin": "*",
        },
    )


routes: list[BaseRoute] = [
    Route("/api/tenant/{tenant}/console-stream/{build}", console_stream, methods=["GET"]),
]

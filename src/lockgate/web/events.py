"""The event stream: server-sent events at `/events` (under `/a/`), its JSON
form at `/events/`, and the webhooks' state and delivery log for administrators.

An SSE event is `id: <seq>` and `data: <the stream-events JSON>`, with no
`event:` field, so that an EventSource's `onmessage` gets every event and a
line-based reader needs only the `data:` lines; the JSON names its `type`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from lockgate.adapters.db.event_store import StoredEvent, encode_payload
from lockgate.core.review.model import Account
from lockgate.core.review.timestamps import gerrit_timestamp
from lockgate.services.errors import BadRequest, Forbidden
from lockgate.services.event_stream import EventStream
from lockgate.services.webhooks import WebhookStatus
from lockgate.web.auth import require_account, services_of
from lockgate.web.gerrit.params import int_param, limit_param, path_param, start_param
from lockgate.web.gerrit.responses import gerrit_json

EVENT_STREAM = "text/event-stream"
HEARTBEAT = 15.0
# EventSource clients wait this long before reconnecting.
RETRY_MS = 2000
# The JSON form's page size, by default and at most.
JSON_LIMIT = 100
JSON_MAX = 1000


def _stream(request: Request) -> EventStream:
    return services_of(request).events


def _types(request: Request) -> list[str]:
    """`?type=` filters, repeatable (`-s` of Gerrit's stream-events); empty: all."""
    return [t for t in request.query_params.getlist("type") if t]


def _resume_point(request: Request) -> int | None:
    """Where to resume: `Last-Event-ID` (an EventSource's reconnect sends it with
    the same URL, so it wins over the URL's `?after=`), else `?after=N`."""
    last_id = request.headers.get("last-event-id")
    if last_id is not None and last_id.strip():
        if not last_id.strip().isdigit():
            raise BadRequest(
                f"Last-Event-ID: {last_id} is not an event id; send the id: of the last "
                "event received, a whole number"
            )
        return int(last_id)
    return int_param(request, "after")


def sse_event(event: StoredEvent) -> str:
    # The JSON as stored is one line (see encode_payload), sent without decoding
    # it; a line break would end the `data:` field.
    data = event.data
    if "\n" in data or "\r" in data:
        data = encode_payload(event.payload)
    return f"id: {event.seq}\ndata: {data}\n\n"


async def _frames(
    stream: EventStream, after: int, viewer: Account, types: list[str]
) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MS}\n: events after {after}\n\n"
    follow = stream.follow(after, viewer=viewer, types=types, heartbeat=HEARTBEAT)
    async with aclosing(follow) as batches:
        async for batch in batches:
            if not batch:
                yield ": keep-alive\n\n"
                continue
            yield "".join(sse_event(event) for event in batch)


async def event_stream(request: Request) -> Response:
    """GET /events: the SSE stream, or the JSON page for `/events/` (see below)."""
    wants_stream = EVENT_STREAM in request.headers.get("accept", "")
    if request.url.path.endswith("/") and not wants_stream:
        return await run_in_threadpool(_json_page, request)
    # Checking a password hash takes a while: not on the event loop.
    viewer = await run_in_threadpool(require_account, request)
    after = _resume_point(request)
    types = _types(request)
    stream = _stream(request)
    if after is None:
        # Like Gerrit's stream-events: from now on.
        after = await run_in_threadpool(stream.last_seq)
    return StreamingResponse(
        _frames(stream, after, viewer, types),
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _json_page(request: Request) -> Response:
    """GET /events/?after=N&limit=M: up to M events after N (default: from the
    start of the log), oldest first, as a JSON list."""
    viewer = require_account(request)
    after = _resume_point(request) or 0
    limit = min(int_param(request, "limit", "n") or JSON_LIMIT, JSON_MAX)
    page = _stream(request).page(after, viewer=viewer, limit=limit + 1, types=_types(request))
    events = page.events[:limit]
    items: list[dict[str, Any]] = [
        {
            "seq": e.seq,
            "type": e.type,
            "created": gerrit_timestamp(e.created_at),
            "payload": e.payload,
        }
        for e in events
    ]
    if len(page.events) > limit:
        items[-1]["_more_events"] = True
    return gerrit_json(items)


# --- webhooks, for administrators ----------------------------------------------


def _require_admin(request: Request) -> None:
    account = require_account(request)
    if not services_of(request).accounts.is_admin(account):
        raise Forbidden(
            f"administrate server not permitted: {account.username} is not in Administrators; "
            "only administrators read webhooks"
        )


def _webhook_info(status: WebhookStatus) -> dict[str, Any]:
    hook = status.webhook
    return {
        "name": hook.name,
        "url": hook.url,
        "events": sorted(hook.types),
        "projects": sorted(hook.projects),
        "delivered_seq": status.delivered_seq,
        "last_seq": status.last_seq,
        "lag": status.lag,
        "running": status.running,
    }


def list_webhooks(request: Request) -> Response:
    _require_admin(request)
    return gerrit_json([_webhook_info(s) for s in services_of(request).webhooks.status()])


def webhook_deliveries(request: Request) -> Response:
    _require_admin(request)
    limit = limit_param(request)
    found = services_of(request).webhooks.deliveries(
        path_param(request, "name"), limit=limit + 1, start=start_param(request)
    )
    items: list[dict[str, Any]] = [
        {
            "id": d.id,
            "event_seq": d.event_seq,
            "attempt": d.attempt,
            "attempted": gerrit_timestamp(d.attempted_at),
            "succeeded": d.succeeded,
            "status_code": d.status_code,
            "error": d.error,
            "duration_ms": d.duration_ms,
        }
        for d in found[:limit]
    ]
    if len(found) > limit:
        items[-1]["_more_deliveries"] = True
    return gerrit_json(items)


routes: list[BaseRoute] = [
    Route("/events", event_stream, methods=["GET"]),
    Route("/events/", event_stream, methods=["GET"]),
    Route("/config/server/webhooks", list_webhooks, methods=["GET"]),
    Route("/config/server/webhooks/{name}/deliveries", webhook_deliveries, methods=["GET"]),
]

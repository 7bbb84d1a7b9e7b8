"""The internal endpoint that git hooks of the hosted repositories call back to.

`POST /internal/git-hooks/{hook}` with the JSON that `lockgate.cli.git_hook`
sends. Only git processes this server started know the token; anyone else
gets 403. The service runs in Starlette's thread pool, where it may block on
git and the database while the event loop goes on serving the push itself.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from lockgate.services.push_records import Command, HookReply
from lockgate.web.auth import services_of

TOKEN_HEADER = "x-lockgate-hook-token"


def _commands(data: dict[str, Any]) -> list[Command]:
    return [
        Command(
            old=str(c["old"]),
            new=str(c["new"]),
            ref=str(c["ref"]),
            fast_forward=c["fast_forward"] if isinstance(c.get("fast_forward"), bool) else None,
        )
        for c in data.get("commands", [])
    ]


def _reply(reply: HookReply) -> Response:
    return JSONResponse(
        {"ok": reply.ok, "messages": list(reply.messages), "results": list(reply.results)}
    )


async def git_hook(request: Request) -> Response:
    services = services_of(request)
    token = request.headers.get(TOKEN_HEADER, "")
    if not hmac.compare_digest(token.encode(), services.hook_token.encode()):
        return PlainTextResponse("Forbidden: not a git hook of this server\n", status_code=403)
    hook = request.path_params["hook"]
    try:
        data = json.loads(await request.body())
        project = str(data.get("project", ""))
        user = data.get("user")
        commands = _commands(data)
        options = tuple(str(o) for o in data.get("push_options", []))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        return PlainTextResponse(f"Bad request: malformed hook payload: {error}\n", 400)
    uploads = services.uploads
    if hook == "pre-receive":
        reply = await run_in_threadpool(uploads.check_ref_updates, project, user, commands, options)
    elif hook == "proc-receive":
        reply = await run_in_threadpool(uploads.receive_push, project, user, commands, options)
    elif hook == "post-receive":
        reply = await run_in_threadpool(uploads.after_ref_updates, project, user, commands)
    else:
        return PlainTextResponse(f"Not found: no git hook named {hook}\n", status_code=404)
    return _reply(reply)


routes: list[BaseRoute] = [
    Route("/internal/git-hooks/{hook}", git_hook, methods=["POST"]),
]

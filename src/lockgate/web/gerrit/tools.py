"""Gerrit REST: GET /tools/hooks/commit-msg, the Change-Id hook as a shell script.

git-review (`--remote-hook`) and the setup instructions people copy fetch it
from the host root and save it as `.git/hooks/commit-msg`.
"""

from __future__ import annotations

import functools
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

HOOK_RESOURCE = "commit_msg_hook.sh"


@functools.cache
def hook_script() -> bytes:
    return resources.files("lockgate.web.gerrit").joinpath(HOOK_RESOURCE).read_bytes()


async def get_commit_msg_hook(request: Request) -> Response:
    return Response(hook_script(), media_type="text/plain; charset=utf-8")


routes: list[BaseRoute] = [
    Route("/tools/hooks/commit-msg", get_commit_msg_hook, methods=["GET"]),
]

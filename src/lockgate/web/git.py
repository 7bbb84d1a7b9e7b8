"""Git smart HTTP: authentication and dispatch to git's own http-backend."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from lockgate.services.bootstrap import Services


def is_git_path(path: str) -> bool:
    return path.endswith(("/info/refs", "/git-upload-pack", "/git-receive-pack"))


class GitHttp:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError

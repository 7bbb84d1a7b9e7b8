"""Git smart HTTP: authentication and dispatch to git's own http-backend.

Served at `/<project>`, `/<project>.git` and `/a/<project>` (the app strips
`/a/` and marks the request as needing credentials). Reads are anonymous for
readable projects; pushes and everything under `/a/` need HTTP Basic with the
account's HTTP password.

Pushes reach the review service through the repositories' hooks: the
server writes small scripts into the site's hooks folder at startup and
points git at them with `core.hooksPath`; each script runs
`lockgate.cli.git_hook`, which calls back to `/internal/git-hooks/<hook>` on
the very address this request came in on.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import Receive, Scope, Send

from lockgate.adapters.git.http_backend import run_cgi
from lockgate.core.review.model import Account, Project
from lockgate.services.bootstrap import Services
from lockgate.web.auth import AUTH_REQUIRED, REALM, basic_credentials

SUFFIXES = ("/info/refs", "/git-upload-pack", "/git-receive-pack")
HOOKS = ("pre-receive", "proc-receive", "post-receive")
HOOK_PATH = "/internal/git-hooks"


def is_git_path(path: str) -> bool:
    return path.endswith(SUFFIXES)


@dataclass(frozen=True, slots=True)
class GitRequest:
    project: str  # as named in the URL, without `.git`
    suffix: str  # one of SUFFIXES
    service: str  # git-upload-pack or git-receive-pack


def parse_git_path(path: str, query: str) -> GitRequest | None:
    """The project and service of a smart HTTP path, or None when it is not one."""
    for suffix in SUFFIXES:
        if path.endswith(suffix):
            break
    else:
        return None
    project = urllib.parse.unquote(path[: -len(suffix)]).strip("/")
    project = project.removesuffix(".git")
    if not project:
        return None
    if suffix == "/info/refs":
        service = urllib.parse.parse_qs(query).get("service", [""])[0]
    else:
        service = suffix[1:]
    return GitRequest(project, suffix, service)


def write_hook_scripts(hooks_dir: Path) -> None:
    """The scripts git runs for each push: each hands over to lockgate.cli.git_hook."""
    hooks_dir.mkdir(parents=True, exist_ok=True)
    python = shlex.quote(sys.executable)
    for hook in HOOKS:
        script = (
            "#!/bin/sh\n"
            "# Written by lockgate at startup: hands this hook to the lockgate server\n"
            "# whose git http-backend runs it.\n"
            f"exec {python} -m lockgate.cli.git_hook {hook}\n"
        )
        target = hooks_dir / hook
        if target.is_file() and target.read_text() == script:
            continue
        # Written aside and renamed, so that a push running now never sees half a script.
        fd, temp = tempfile.mkstemp(dir=hooks_dir, prefix=f".{hook}.")
        with os.fdopen(fd, "w") as out:
            out.write(script)
        Path(temp).chmod(0o755)
        Path(temp).replace(target)


class GitHttp:
    def __init__(self, services: Services) -> None:
        self.services = services
        write_hook_scripts(services.site.hooks_dir)
        # The server's own environment, without git variables that would
        # point http-backend at another repository or configuration.
        self._base_env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GIT_", "LOCKGATE_HOOK_")) and k not in ("REMOTE_USER",)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        request = parse_git_path(scope["path"], query)
        if request is None or request.service not in ("git-upload-pack", "git-receive-pack"):
            await _respond(send, 404, "Repository not found\n")
            return
        conn = HTTPConnection(scope)
        credentials = basic_credentials(conn.headers.get("authorization"))
        needs_auth = bool(scope.get(AUTH_REQUIRED)) or request.service == "git-receive-pack"
        account: Account | None = None
        if credentials is not None and (needs_auth or credentials[1]):
            account = await run_in_threadpool(self.services.accounts.authenticate, *credentials)
        if needs_auth and account is None:
            await _respond(
                send,
                401,
                "Unauthorized: use your username and HTTP password\n",
                [(b"www-authenticate", REALM.encode())],
            )
            return
        project = await run_in_threadpool(self._readable_project, request.project, account)
        if project is None:
            await _respond(send, 404, "Repository not found\n")
            return
        env = self._cgi_env(scope, conn, request, project, account)
        await run_cgi(receive, send, argv=["git", "http-backend"], env=env)

    def _readable_project(self, name: str, account: Account | None) -> Project | None:
        project = self.services.projects.find(name)
        if project is None or not self.services.repos.exists(project.name):
            return None
        if not self.services.permissions.can_read(account, project):
            return None
        return project

    def _cgi_env(
        self,
        scope: Scope,
        conn: HTTPConnection,
        request: GitRequest,
        project: Project,
        account: Account | None,
    ) -> dict[str, str]:
        services = self.services
        env = dict(self._base_env)
        env.update(
            {
                "GATEWAY_INTERFACE": "CGI/1.1",
                "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
                "REQUEST_METHOD": scope["method"],
                "PATH_INFO": f"/{project.name}.git{request.suffix}",
                "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
                "GIT_PROJECT_ROOT": str(services.site.git_dir),
                "GIT_HTTP_EXPORT_ALL": "1",
                "LOCKGATE_HOOK_URL": self._hook_url(scope),
                "LOCKGATE_HOOK_TOKEN": services.hook_token,
                "LOCKGATE_PROJECT": project.name,
                # Every git the backend starts runs the server's hooks, whatever
                # the repository's own hooks folder holds.
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "core.hooksPath",
                "GIT_CONFIG_VALUE_0": str(services.site.hooks_dir),
            }
        )
        client = scope.get("client")
        if client:
            env["REMOTE_ADDR"] = str(client[0])
        if account is not None:
            env["REMOTE_USER"] = account.username
        headers = conn.headers
        for header, name in (
            ("content-type", "CONTENT_TYPE"),
            ("content-length", "CONTENT_LENGTH"),
            ("content-encoding", "HTTP_CONTENT_ENCODING"),
            ("git-protocol", "GIT_PROTOCOL"),
        ):
            value = headers.get(header)
            if value is not None:
                env[name] = value
        return env

    def _hook_url(self, scope: Scope) -> str:
        server = scope.get("server")
        if server and server[1] is not None:
            host, port = str(server[0]), int(server[1])
        else:
            listen = self.services.settings.server.listen
            host, _, port_text = listen.rpartition(":")
            port = int(port_text)
        host = host.strip("[]")
        if host in ("0.0.0.0", "", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}{HOOK_PATH}"


async def _respond(
    send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text.encode(), "more_body": False})

"""Helpers for tests that drive the real git client against a live server."""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lockgate.testing.server import LiveServer


def git(cwd: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    """Run git; on failure the assertion shows what git printed."""
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, env=env
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"git {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


@dataclass(frozen=True)
class Pushed:
    code: int
    output: str  # stderr then stdout, as a person sees them

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def lines(self) -> list[str]:
        """The output's lines without the blanks git pads `remote:` lines with."""
        return [line.rstrip() for line in self.output.splitlines()]


def push(cwd: Path, url: str, *refspecs: str, options: tuple[str, ...] = ()) -> Pushed:
    args = ["git", "push", url, *refspecs]
    for option in options:
        args[2:2] = ["-o", option]
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    return Pushed(result.returncode, result.stderr + result.stdout)


def new_change_id() -> str:
    return "I" + secrets.token_hex(20)


def commit(
    cwd: Path,
    subject: str,
    *,
    change_id: str | None = None,
    files: dict[str, str] | None = None,
    body: str = "",
) -> str:
    """Commit `files` (default: one file named after the subject); returns the sha."""
    for name, text in (files or {subject.replace(" ", "_") + ".txt": subject + "\n"}).items():
        path = cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(cwd, "add", name)
    message = subject + "\n"
    if body:
        message += "\n" + body + "\n"
    if change_id:
        message += f"\nChange-Id: {change_id}\n"
    git(cwd, "commit", "-q", "--allow-empty", "-m", message)
    return git(cwd, "rev-parse", "HEAD").strip()


@dataclass
class Contributor:
    """An account with an HTTP password and a clone of one project."""

    server: LiveServer
    username: str
    password: str
    work: Path
    project: str

    @property
    def url(self) -> str:
        return self.server.git_url(self.project, user=self.username, password=self.password)

    def push(self, *refspecs: str, options: tuple[str, ...] = ()) -> Pushed:
        return push(self.work, self.url, *refspecs, options=options)

    def commit(self, subject: str, **kwargs: object) -> str:
        return commit(self.work, subject, **kwargs)  # type: ignore[arg-type]


def contributor(
    server: LiveServer,
    tmp_path: Path,
    project: str,
    username: str = "alice",
    *,
    groups: list[str] | None = None,
) -> Contributor:
    password = f"pw-{username}-{secrets.token_hex(4)}"
    if server.services.accounts.find(username) is None:
        server.services.accounts.create_account(
            username,
            full_name=username.title(),
            email=f"{username}@example.com",
            http_password=password,
            groups=groups,
        )
    else:
        account = server.services.accounts.get(username)
        server.services.accounts.set_http_password(account, password)
    work = tmp_path / f"{username}-{project.replace('/', '-')}"
    git(tmp_path, "clone", "-q", server.git_url(project), str(work))
    return Contributor(server, username, password, work, project)


def admin(server: LiveServer, tmp_path: Path, project: str) -> Contributor:
    work = tmp_path / f"admin-{project.replace('/', '-')}"
    git(tmp_path, "clone", "-q", server.git_url(project), str(work))
    name, password = server.admin
    return Contributor(server, name, password, work, project)

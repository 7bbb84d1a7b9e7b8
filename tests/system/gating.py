"""Helpers for tests of the scheduler's port to the review server: projects
with contributors, changes pushed with git (with Depends-On footers in their
messages), REST calls as the admin, and the event log read back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from lockgate.adapters.db.event_store import StoredEvent, events_after
from lockgate.services.accounts import SERVICE_USERS
from lockgate.testing.server import LiveServer
from tests.gitutil import Contributor, contributor, git, new_change_id
from tests.system.submitting import newest_change

CI = "zuul-ci"


@dataclass(frozen=True)
class Pushed:
    number: int
    sha: str
    change_id: str


def push(
    who: Contributor,
    subject: str,
    *,
    on: str = "origin/master",
    body: str = "",
    change_id: str | None = None,
    files: dict[str, str] | None = None,
    branch: str = "master",
) -> Pushed:
    """One commit on `on` (a revision of the clone) pushed for review on `branch`."""
    git(who.work, "fetch", "-q", "origin")
    git(who.work, "checkout", "-q", "--detach", on)
    key = change_id or new_change_id()
    sha = who.commit(subject, change_id=key, files=files, body=body)
    pushed = who.push(f"HEAD:refs/for/{branch}")
    assert pushed.ok, pushed.output
    return Pushed(newest_change(who.server, who.project), sha, key)


def amend(who: Contributor, number: int, files: dict[str, str]) -> str:
    """A new patch set of the change at the clone's HEAD, with `files` changed."""
    for name, text in files.items():
        (who.work / name).write_text(text)
        git(who.work, "add", name)
    git(who.work, "commit", "-q", "--amend", "--no-edit")
    pushed = who.push("HEAD:refs/for/master")
    assert pushed.ok, pushed.output
    return git(who.work, "rev-parse", "HEAD").strip()


def project(server: LiveServer, tmp_path: Path, name: str, user: str = "alice") -> Contributor:
    server.services.projects.create(name, create_empty_commit=True)
    return contributor(server, tmp_path, name, user)


def ci_account(server: LiveServer) -> None:
    if server.services.accounts.find(CI) is None:
        server.services.accounts.create_account(
            CI, full_name="Zuul", email="zuul@example.com", groups=[SERVICE_USERS]
        )


def call(server: LiveServer, method: str, path: str, body: Any = None, status: int = 200) -> Any:
    response = httpx.request(
        method, f"{server.url}a/{path}", json=body, auth=server.admin, timeout=60
    )
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response


def log_after(server: LiveServer, seq: int) -> list[StoredEvent]:
    with server.services.engine.connect() as conn:
        return events_after(conn, seq, limit=100_000)


def last(server: LiveServer) -> int:
    found = log_after(server, 0)
    return found[-1].seq if found else 0

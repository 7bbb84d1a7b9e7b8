"""Helpers for tests of submit and rebase against a live server: changes pushed
with git, votes recorded through the server's own stores, the history read
back from the bare repository with git."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import text

from lockgate.adapters.db.approval_store import set_vote
from lockgate.adapters.db.engine import write_transaction
from lockgate.core.review.labels import Vote
from lockgate.services.review import LoadOptions
from lockgate.testing.server import LiveServer
from tests.gitutil import Contributor, git, new_change_id
from tests.system.rest import XSSI

APPROVED = (("Code-Review", 2), ("Verified", 2), ("Workflow", 1))


def push_change(who: Contributor, subject: str, files: dict[str, str], *, on: str) -> int:
    """A change made of one commit on `on` (a revision of the clone); returns its number."""
    git(who.work, "fetch", "-q", "origin")
    git(who.work, "checkout", "-q", "--detach", on)
    who.commit(subject, change_id=new_change_id(), files=files)
    pushed = who.push("HEAD:refs/for/master")
    assert pushed.ok, pushed.output
    return newest_change(who.server, who.project)


def newest_change(server: LiveServer, project: str) -> int:
    with server.services.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT max(number) FROM changes WHERE project = :p"), {"p": project}
            ).scalar_one()
        )


def vote(
    server: LiveServer, number: int, votes: tuple[tuple[str, int], ...], by: str = "admin"
) -> None:
    """Votes on the change's current patch set, written as the review endpoint would."""
    services = server.services
    account = services.accounts.get(by)
    change = services.review.lookup(str(number))
    now = services.clock()
    with write_transaction(services.engine) as conn:
        for label, value in votes:
            set_vote(
                conn,
                number,
                Vote(account.id, label, value, change.current_patch_set, date=now),
            )


def approve(server: LiveServer, *numbers: int) -> None:
    for number in numbers:
        vote(server, number, APPROVED)


@dataclass(frozen=True)
class Answer:
    status: int
    text: str

    def json(self) -> Any:
        assert self.text.startswith(XSSI), self.text
        return json.loads(self.text[len(XSSI) :])


def post(
    server: LiveServer,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    auth: tuple[str, str] | None = None,
) -> Answer:
    response = httpx.post(f"{server.url}a/{path}", json=body or {}, auth=auth or server.admin)
    return Answer(response.status_code, response.text)


def submit(server: LiveServer, number: int, **kwargs: Any) -> Answer:
    return post(server, f"changes/{number}/submit", **kwargs)


def bare(server: LiveServer, project: str, *args: str) -> str:
    """git in the project's bare repository on the server."""
    result = subprocess.run(
        ["git", f"--git-dir={server.services.repos.path(project)}", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def tip(server: LiveServer, project: str, branch: str = "master") -> str:
    return bare(server, project, "rev-parse", f"refs/heads/{branch}").strip()


def parents(server: LiveServer, project: str, rev: str) -> list[str]:
    return bare(server, project, "show", "-s", "--format=%P", rev).split()


def message(server: LiveServer, project: str, rev: str) -> str:
    return bare(server, project, "show", "-s", "--format=%B", rev)


def files_at(server: LiveServer, project: str, rev: str) -> dict[str, str]:
    names = bare(server, project, "ls-tree", "-r", "--name-only", rev).split()
    return {name: bare(server, project, "show", f"{rev}:{name}") for name in names}


def events_of(server: LiveServer, kind: str, project: str) -> list[dict[str, Any]]:
    with server.services.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT payload FROM events WHERE type = :t AND project = :p ORDER BY seq"),
            {"t": kind, "p": project},
        ).scalars()
        return [json.loads(row) for row in rows]


def detail(server: LiveServer, number: int):  # type: ignore[no-untyped-def]
    options = LoadOptions(all_revisions=True, messages=True, files=True)
    return server.services.review.details([number], options)[0]


@dataclass(frozen=True)
class Written:
    """What a refused request must leave as it was."""

    refs: dict[str, str]
    messages: int
    events: int
    patch_sets: int
    statuses: list[tuple[int, str]]


def written(server: LiveServer, project: str) -> Written:
    with server.services.engine.connect() as conn:
        count = {
            table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("change_messages", "events", "patch_sets")
        }
        statuses = [
            (row.number, row.status)
            for row in conn.execute(text("SELECT number, status FROM changes ORDER BY number"))
        ]
    return Written(
        server.services.repos.refs(project),
        count["change_messages"],
        count["events"],
        count["patch_sets"],
        statuses,
    )

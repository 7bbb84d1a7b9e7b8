"""Helpers for tests of reviews: a project with a change, accounts with the
ranges the default permissions give, posting reviews, reading the event log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import text

from lockgate.adapters.db.event_store import events_after
from lockgate.services.accounts import ADMINISTRATORS, SERVICE_USERS
from lockgate.testing.seed import SeededPatchSet, seed_change
from lockgate.testing.server import LiveServer
from tests.system.rest import decode, make_user

PROJECT = "team/demo"
FILES = {"a.txt": "one\ntwo\nthree\n", "docs/readme.md": "# Readme\n"}


@dataclass(frozen=True)
class Team:
    """A project with one change by alice; bob is a registered user (Code-Review
    -1..+1), ci a Service User (Verified -2..+2), core an administrator."""

    server: LiveServer
    change: SeededPatchSet
    alice: tuple[str, str]
    bob: tuple[str, str]
    ci: tuple[str, str]
    core: tuple[str, str]

    @property
    def number(self) -> int:
        return self.change.change_number


def make_team(server: LiveServer) -> Team:
    services = server.services
    services.projects.create(PROJECT, create_empty_commit=True)
    alice = make_user(server, "alice")
    bob = make_user(server, "bob")
    services.accounts.create_account(
        "ci", full_name="CI", email="ci@example.com", http_password="pw-ci", groups=[SERVICE_USERS]
    )
    services.accounts.create_account(
        "core",
        full_name="Core",
        email="core@example.com",
        http_password="pw-core",
        groups=[ADMINISTRATORS],
    )
    change = seed_change(services, PROJECT, owner="alice", subject="Add a", files=FILES)
    return Team(server, change, alice, bob, ("ci", "pw-ci"), ("core", "pw-core"))


def post_review(
    server: LiveServer,
    number: int,
    body: dict[str, Any],
    *,
    auth: tuple[str, str] | None,
    revision: str = "current",
) -> httpx.Response:
    prefix = "a/" if auth else ""
    return httpx.post(
        f"{server.url}{prefix}changes/{number}/revisions/{revision}/review",
        json=body,
        auth=auth,
        timeout=60,
    )


def review(
    server: LiveServer,
    number: int,
    body: dict[str, Any],
    *,
    auth: tuple[str, str],
    revision: str = "current",
) -> Any:
    return decode(post_review(server, number, body, auth=auth, revision=revision))


def events(server: LiveServer, kind: str, number: int) -> list[dict[str, Any]]:
    """The change's events of one type from the durable log, oldest first."""
    with server.services.engine.connect() as conn:
        found = events_after(conn, 0, limit=100_000)
    return [
        e.payload
        for e in found
        if e.type == kind and e.payload.get("change", {}).get("number") == number
    ]


def row_counts(server: LiveServer) -> dict[str, int]:
    """How many rows each table a review writes holds: to show a refusal wrote nothing."""
    tables = ("approvals", "comments", "change_messages", "events", "change_reviewers")
    with server.services.engine.connect() as conn:
        return {
            name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one() for name in tables
        }

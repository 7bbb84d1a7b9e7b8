"""Fixtures shared by every test: databases, sites and live servers.

Database-backed tests run on SQLite always, and on PostgreSQL too when
LOCKGATE_TEST_POSTGRES_URL names a server (each test gets its own schema).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lockgate.testing.server import LiveServer, live_server, postgres_schema

POSTGRES_URL = os.environ.get("LOCKGATE_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        yield "sqlite:///db/lockgate.db"
        return
    if not POSTGRES_URL:
        pytest.skip("set LOCKGATE_TEST_POSTGRES_URL to run against PostgreSQL")
    with postgres_schema(POSTGRES_URL) as url:
        yield url


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    """A live server on a loopback port, on each database."""
    with live_server(tmp_path / "site", database_url) as live:
        yield live


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A live server on SQLite only, for tests of behaviour that no database changes."""
    with live_server(tmp_path / "site") as live:
        yield live


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Git and git-review in tests see a home of their own, not the user's."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Author")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Author\n\temail = author@example.com\n"
        "[init]\n\tdefaultBranch = master\n[advice]\n\tdetachedHead = false\n"
    )

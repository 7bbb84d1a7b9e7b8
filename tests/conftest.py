"""Fixtures shared by every test: databases, sites and live servers; and the
session's last check, that no node is left behind.

Database-backed tests run on SQLite always, and on PostgreSQL too when
LOCKGATE_TEST_POSTGRES_URL names a server (each test gets its own schema).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lockgate.testing import leftovers
from lockgate.testing.server import LiveServer, live_server, postgres_schema

POSTGRES_URL = os.environ.get("LOCKGATE_TEST_POSTGRES_URL")
# The session's folder for sandboxes, made by the first process (the xdist
# controller) and inherited by its workers through the environment.
SANDBOXES = "LOCKGATE_TEST_SANDBOXES"


@pytest.hookimpl(tryfirst=True)  # before xdist starts the workers, which inherit it
def pytest_sessionstart(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):
        return
    folder = Path(tempfile.mkdtemp(prefix="lockgate-tests-"))
    folder.chmod(0o711)  # the sandbox user passes through to the node folders
    os.environ[SANDBOXES] = str(folder)


@pytest.fixture
def sandbox_folder() -> Path:
    """A folder for sites and node folders that the sandbox user can pass
    through (pytest's own tmp folders, mode 0700, forbid it). It is kept until
    the session ends, when nothing of a node may be left in it."""
    folder = Path(tempfile.mkdtemp(prefix="t-", dir=os.environ[SANDBOXES]))
    folder.chmod(0o711)
    return folder


def _session_folders(session: pytest.Session) -> list[Path]:
    folders = [Path(os.environ[SANDBOXES])]
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None:  # pytest's own tmp folders, the workers' below it
        folders.append(factory.getbasetemp())
    return folders


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Nothing of a node is left after the whole session: no sandbox process
    runs on, no node folder stays. Checked once, by the process that owns the
    session (the xdist controller, after every worker is done)."""
    if hasattr(session.config, "workerinput"):
        return
    folders = _session_folders(session)
    found = leftovers.leftovers(folders)
    leftovers.kill(int(item.what.split(":")[0]) for item in found if item.kind == "process")
    shutil.rmtree(folders[0], ignore_errors=True)
    if found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["the tests left nodes behind:", *(f"  {item}" for item in found)]
        if reporter is not None:
            reporter.section("nodes left behind", sep="=", red=True, bold=True)
            for line in lines:
                reporter.line(line, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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

"""The real git-review client (2.5.0, from PyPI) against a live lockgate.

A contributor's day: configure the repository with `git review -s`, upload a
change, amend it into a second patch set, upload a stack of two, list the
open changes and download them again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from lockgate.testing.server import LiveServer

GIT_REVIEW = shutil.which("git-review", path=str(Path(sys.executable).parent))


def run(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def review(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert GIT_REVIEW is not None
    return run(cwd, GIT_REVIEW, *args)


def changes(server: LiveServer, query: str, *options: str) -> list[dict[str, object]]:
    params: list[tuple[str, str]] = [("q", query)] + [("o", o) for o in options]
    response = httpx.get(f"{server.url}changes/", params=params)
    assert response.status_code == 200, response.text
    assert response.text.startswith(")]}'\n")
    result: list[dict[str, object]] = json.loads(response.text[5:])
    return result


@pytest.fixture
def workspace(sqlite_server: LiveServer, tmp_path: Path) -> Path:
    """A clone of project `demo` with a `.gitreview`, credentials for alice in the
    git credential store, as a contributor would have it."""
    server = sqlite_server
    server.services.projects.create("demo", create_empty_commit=True)
    server.services.accounts.create_account(
        "alice", full_name="Alice Liddell", email="alice@example.com", http_password="s3cret-alice"
    )
    host_port = server.url.split("://", 1)[1].rstrip("/")
    home = Path(os.environ["HOME"])
    (home / ".git-credentials").write_text(f"http://alice:s3cret-alice@{host_port}\n")
    run(home, "git", "config", "--global", "credential.helper", "store")

    # The project's .gitreview lands on master through a direct push by admin.
    seed = tmp_path / "seed"
    run(tmp_path, "git", "clone", "-q", server.git_url("demo"), str(seed))
    host, port = host_port.split(":")
    (seed / ".gitreview").write_text(
        f"[gerrit]\nhost={host}\nport={port}\nscheme=http\nproject=demo.git\n"
    )
    run(seed, "git", "add", ".gitreview")
    run(seed, "git", "commit", "-q", "-m", "Add .gitreview")
    admin, password = server.admin
    run(
        seed,
        "git",
        "push",
        "-q",
        server.git_url("demo", user=admin, password=password),
        "HEAD:master",
    )

    work = tmp_path / "demo"
    run(tmp_path, "git", "clone", "-q", server.git_url("demo"), str(work))
    run(work, "git", "config", "gitreview.username", "alice")
    return work


def commit(work: Path, name: str, text: str, message: str) -> None:
    (work / name).write_text(text)
    run(work, "git", "add", name)
    run(work, "git", "commit", "-q", "-m", message)


def test_a_contributor_uploads_amends_stacks_and_downloads_changes(
    sqlite_server: LiveServer, workspace: Path
) -> None:
    server = sqlite_server
    setup = review(workspace, "-s")
    assert (workspace / ".git" / "hooks" / "commit-msg").exists(), setup.stdout + setup.stderr
    remote = run(workspace, "git", "remote", "get-url", "gerrit").stdout.strip()
    assert remote.endswith("/demo.git") and "alice@" in remote

    # A new change.
    commit(workspace, "hello.txt", "hello\n", "Say hello")
    uploaded = review(workspace, "-y")
    assert "/c/demo/+/" in uploaded.stdout + uploaded.stderr
    [first] = changes(server, "project:demo status:open", "CURRENT_REVISION")
    assert first["subject"] == "Say hello"
    assert first["owner"] == {"_account_id": server.services.accounts.get("alice").id}
    number = first["_number"]

    # Amend: patch set 2 of the same change.
    (workspace / "hello.txt").write_text("hello, world\n")
    run(workspace, "git", "commit", "-q", "-a", "--amend", "--no-edit")
    review(workspace, "-y")
    [amended] = changes(server, str(number), "ALL_REVISIONS")
    assert sorted(r["_number"] for r in amended["revisions"].values()) == [1, 2]  # type: ignore[attr-defined]

    # A stack of two commits: two related changes.
    commit(workspace, "a.txt", "a\n", "Add a")
    commit(workspace, "b.txt", "b\n", "Add b")
    review(workspace, "-y")
    opened = changes(server, "project:demo status:open")
    by_subject = {c["subject"]: c["_number"] for c in opened}
    assert set(by_subject) == {"Say hello", "Add a", "Add b"}
    related = httpx.get(f"{server.url}changes/{by_subject['Add b']}/revisions/current/related")
    chain = json.loads(related.text[5:])["changes"]
    assert [c["_change_number"] for c in chain][:2] == [by_subject["Add b"], by_subject["Add a"]]

    # List, download, download a given patch set, cherry-pick.
    listing = review(workspace, "-l")
    for subject, n in by_subject.items():
        assert f"{n}" in listing.stdout and subject in listing.stdout

    review(workspace, "-d", str(number))
    branch = run(workspace, "git", "rev-parse", "--abbrev-ref", "HEAD").stdout.strip()
    assert branch == f"review/{number}"
    assert (workspace / "hello.txt").read_text() == "hello, world\n"

    review(workspace, "-d", f"{number},1")
    assert (workspace / "hello.txt").read_text() == "hello\n"

    run(workspace, "git", "checkout", "-q", "master")
    run(workspace, "git", "reset", "-q", "--hard", "origin/master")
    review(workspace, "-X", str(by_subject["Add a"]))
    assert (workspace / "a.txt").read_text() == "a\n"
    log = run(workspace, "git", "log", "-1", "--format=%B").stdout
    assert "cherry picked from commit" in log

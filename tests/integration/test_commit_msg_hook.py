"""The commit-msg hook the server serves, run by real git under /bin/sh: the
Change-Id it writes is one the server's footer parser accepts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lockgate.core.review.footers import change_id_of
from lockgate.web.gerrit.tools import hook_script

CHANGE_ID_LINE = re.compile(r"^Change-Id: I[0-9a-f]{40}$", re.MULTILINE)


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q")
    hook = work / ".git" / "hooks" / "commit-msg"
    hook.write_bytes(hook_script())
    hook.chmod(0o755)
    return work


def commit(repo: Path, message: str, *args: str) -> str:
    (repo / "file.txt").write_text(message)
    git(repo, "add", "file.txt")
    git(repo, "commit", "-q", "--allow-empty", "-m", message, *args)
    return git(repo, "log", "-1", "--format=%B")


def test_the_hook_adds_a_change_id_the_server_accepts(repo: Path) -> None:
    message = commit(repo, "Add a feature\n\nBecause it helps.")
    assert CHANGE_ID_LINE.search(message)
    assert change_id_of(message).change_id is not None
    # Amending keeps the Change-Id: the commit stays the same change.
    git(repo, "commit", "-q", "--amend", "--no-edit")
    assert git(repo, "log", "-1", "--format=%B") == message
    # Each commit gets its own.
    other = commit(repo, "Add another feature")
    assert change_id_of(other).change_id != change_id_of(message).change_id


def test_the_change_id_goes_before_signed_off_by(repo: Path) -> None:
    message = commit(repo, "Fix a bug\n\nBug: 42", "--signoff")
    footer = message.strip().split("\n\n")[-1].splitlines()
    assert footer[0] == "Bug: 42"
    assert CHANGE_ID_LINE.match(footer[1])
    assert footer[2].startswith("Signed-off-by: ")


def test_the_hook_keeps_what_is_there_and_skips_what_it_should(repo: Path) -> None:
    given = f"I{'a' * 40}"
    assert commit(repo, f"Mine\n\nChange-Id: {given}").count("Change-Id") == 1
    assert "Change-Id" not in commit(repo, "fixup! Mine")
    assert "Change-Id" not in commit(repo, "Off", "--no-verify")
    git(repo, "config", "gerrit.createChangeId", "false")
    assert "Change-Id" not in commit(repo, "Disabled")
    git(repo, "config", "gerrit.createChangeId", "always")
    assert "Change-Id" in commit(repo, "squash! Mine")


def test_with_a_review_url_the_hook_writes_a_link(repo: Path) -> None:
    git(repo, "config", "gerrit.reviewUrl", "https://review.example.org/")
    message = commit(repo, "Linked")
    assert re.search(r"^Link: https://review\.example\.org/id/I[0-9a-f]{40}$", message, re.M)
    assert change_id_of(message).change_id is not None


def test_an_empty_message_aborts_the_commit(repo: Path) -> None:
    (repo / "file.txt").write_text("x")
    git(repo, "add", "file.txt")
    result = subprocess.run(
        ["git", "commit", "-q", "--cleanup=verbatim", "-m", "# only a comment"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "empty commit message" in result.stderr


@pytest.mark.skipif(shutil.which("dash") is None, reason="dash is not installed")
def test_the_hook_is_posix_shell(tmp_path: Path) -> None:
    script = tmp_path / "hook.sh"
    script.write_bytes(hook_script())
    subprocess.run(["dash", "-n", str(script)], check=True)

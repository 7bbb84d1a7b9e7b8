"""The walkthrough a new site offers: clone the demo project, set it up with
`git review -s`, upload a change with `git review`, and its own job checks it
on a fresh node, with logs to read."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lockgate.testing.server import LiveServer, live_server
from tests.system.test_jobs_end_to_end import ci_message, job_output, verified

pytestmark = pytest.mark.skipif(
    shutil.which("bwrap") is None or importlib.util.find_spec("ansible") is None,
    reason="local nodes need bubblewrap and jobs ansible-playbook (scripts/setup installs them)",
)
GIT_REVIEW = shutil.which("git-review", path=str(Path(sys.executable).parent))


def run(cwd: Path, *args: str) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def server(sandbox_folder: Path) -> Iterator[LiveServer]:
    with live_server(sandbox_folder / "site", demo=True) as live:
        yield live


def test_a_newcomer_clones_the_demo_and_its_job_checks_their_change(
    server: LiveServer, tmp_path: Path
) -> None:
    assert GIT_REVIEW is not None
    host_port = server.url.split("://", 1)[1].rstrip("/")
    username, password = server.admin
    home = Path(os.environ["HOME"])
    (home / ".git-credentials").write_text(f"http://{username}:{password}@{host_port}\n")
    run(home, "git", "config", "--global", "credential.helper", "store")
    run(home, "git", "config", "--global", "gitreview.username", username)

    run(tmp_path, "git", "clone", "-q", f"{server.url}demo", "demo")
    work = tmp_path / "demo"
    # The clone is ready for git-review: it names this server.
    assert f"port={host_port.split(':')[1]}" in (work / ".gitreview").read_text()
    run(work, GIT_REVIEW, "-s")
    (work / "hi.txt").write_text("hi\n")
    run(work, "git", "add", "hi.txt")
    run(work, "git", "commit", "-q", "-m", "Say hi")
    run(work, GIT_REVIEW)

    message = ci_message(server, 1, "demo-hello")
    assert "Build succeeded" in message, message
    assert verified(server, 1) == 1
    output = job_output(message, "demo-hello")
    assert "hello from demo, change 1" in output
    assert "Say hi" in output  # the workspace holds the change

"""A scheduler killed in the middle of a gate, with builds running, and
started again: every queue goes on where it stood, the running builds run
again, and each change merges exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.engine import read_transaction
from lockgate.testing.gate_harness import GateHarness
from lockgate.testing.gate_layouts import PIPELINES, PROJECTS


def _wait(what: str, done: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _scheduler(site: Path, control: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lockgate.testing.gate_process",
            "--site",
            str(site),
            "--control",
            str(control),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_killed_scheduler_resumes_the_gate_and_merges_each_change_once(
    tmp_path: Path, database_url: str
) -> None:
    site = tmp_path / "site"
    control = tmp_path / "control"
    control.mkdir()
    harness = GateHarness.create(
        site, layout=PIPELINES, projects=PROJECTS, database_url=database_url
    )
    changes = [harness.change("org/project", name) for name in ("A", "B", "C")]
    for change in changes:
        harness.approve(change)
    engine = harness.services.engine

    def running_gate_builds() -> int:
        with read_transaction(engine) as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(t.gate_builds)
                    .where(
                        t.gate_builds.c.pipeline == "gate",
                        t.gate_builds.c.started.is_not(None),
                        t.gate_builds.c.result.is_(None),
                    )
                ).scalar_one()
            )

    def statuses() -> list[str]:
        with read_transaction(engine) as conn:
            rows = conn.execute(
                select(t.changes.c.status)
                .where(t.changes.c.number.in_([c.number for c in changes]))
                .order_by(t.changes.c.number)
            ).scalars()
            return list(rows)

    first = _scheduler(site, control)
    try:
        _wait("the gate's first build", lambda: running_gate_builds() >= 1)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert statuses() == ["NEW", "NEW", "NEW"]

    (control / "release").write_text("go\n")
    (control / "ready").unlink(missing_ok=True)
    second = _scheduler(site, control)
    try:
        _wait("every change to merge", lambda: statuses() == ["MERGED"] * 3)
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait()

    with read_transaction(engine) as conn:
        merged_events = conn.execute(
            select(t.events.c.change_number, func.count())
            .where(t.events.c.type == "change-merged")
            .group_by(t.events.c.change_number)
        ).all()
        lost = conn.execute(
            select(func.count())
            .select_from(t.gate_builds)
            .where(
                t.gate_builds.c.result == "ABORTED",
                t.gate_builds.c.error.is_not(None),
            )
        ).scalar_one()
    assert sorted(merged_events) == [(c.number, 1) for c in changes]
    assert lost >= 1  # the build running at the kill was lost and run again
    log = harness.services.repos.git("org/project", "log", "--format=%s", "master")
    subjects = log.split("\n")
    assert [subjects.count(s) for s in ("A", "B", "C")] == [1, 1, 1]
    harness.close()

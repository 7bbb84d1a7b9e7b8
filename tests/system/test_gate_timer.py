"""A periodic pipeline: its timer fires at the time its spec names, and every
project with jobs in it gets an item for each branch tip."""

from __future__ import annotations

import datetime
from pathlib import Path

from lockgate.testing.gate_harness import GateHarness

LAYOUT = """
- pipeline:
    name: periodic
    manager: independent
    precedence: low
    trigger:
      timer:
        - time: '0 2 * * *'

- job:
    name: base
    parent: null

- job:
    name: nightly

- project:
    name: org/project
    periodic:
      jobs:
        - nightly
"""


def test_the_nightly_timer_runs_the_periodic_jobs_on_each_branch_tip(tmp_path: Path) -> None:
    now = [datetime.datetime(2026, 12, 1, 23, 0, tzinfo=datetime.UTC).timestamp()]

    def clock() -> int:
        return int(now[0] * 1_000_000)

    gate = GateHarness.create(
        tmp_path / "site",
        layout=LAYOUT,
        projects={"org/project": None, "org/other": None},
        clock=clock,
    )
    gate.settle()
    assert gate.history() == []
    now[0] += 2 * 3600  # 01:00: not yet
    gate.settle()
    assert gate.history() == []
    now[0] += 3600 + 1  # just past 02:00
    gate.settle()
    [build] = gate.history()
    assert build.name == "nightly" and build.result == "SUCCESS"
    assert build.action.ref is not None and build.action.ref.ref == "refs/heads/master"
    now[0] += 60
    gate.settle()
    assert len(gate.history()) == 1  # once a night
    gate.close()

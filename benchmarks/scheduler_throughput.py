"""Scheduler throughput with 200 items queued across pipelines.

    .venv/bin/python -m benchmarks.scheduler_throughput [--changes 100] [--events 1000]

A real site (SQLite in a temporary folder) with the scenario layout of the
gating stories: `check` and `gate`, three projects in one shared queue, three
jobs per item. `--changes` changes are uploaded (each enters check) and
approved (each enters the gate), with every build held: 2 x changes items.
Then `--events` review events are written to the event log while the
scheduler does not run (comments, and votes that re-approve queued changes),
and the scheduler consumes them; then 50 new patch sets, each of which
takes its change out of both pipelines and puts it back into check with a
new speculative merge and builds: each event is read from the log, turned
into a change snapshot, matched against every pipeline's triggers, and every
queue is processed and its state saved. Goal: at least 500 events/s.

The baseline in the same run is the floor of that work: reading the same
events from the log and decoding them, without the scheduler.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from lockgate.adapters.db import event_store, gate_store
from lockgate.adapters.db.engine import read_transaction
from lockgate.testing.gate_harness import ChangeRef, GateHarness
from lockgate.testing.gate_layouts import PIPELINES, PROJECTS


def queued_site(root: Path, changes: int) -> GateHarness:
    harness = GateHarness.create(root, layout=PIPELINES, projects=PROJECTS)
    harness.executor.hold_jobs_in_build = True
    projects = sorted(PROJECTS)
    refs = []
    for n in range(changes):
        refs.append(harness.change(projects[n % len(projects)], f"change-{n}"))
        if n % 20 == 19:
            harness.settle()
    harness.settle()
    for n, ref in enumerate(refs):
        harness.approve(ref)
        if n % 20 == 19:
            harness.settle()
    harness.settle()
    return harness


def items(harness: GateHarness) -> int:
    status = harness.gate_status()
    return sum(
        len(head)
        for pipeline in status["pipelines"]
        for queue in pipeline["change_queues"]
        for head in queue["heads"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        print(f"queueing {args.changes} changes in check and gate ...", flush=True)
        harness = queued_site(Path(scratch) / "site", args.changes)
        print(f"items queued: {items(harness)}")
        numbers = list(range(1, args.changes + 1))
        with read_transaction(harness.services.engine) as conn:
            start_seq = gate_store.cursor(conn)
        print(f"writing {args.events} events ...", flush=True)
        for n in range(args.events):
            ref = ChangeRef(numbers[n % len(numbers)])
            if n % 2:
                harness.comment(ref, f"looks good {n}")
            else:
                harness.review(ref, {"Code-Review": 2}, f"still good {n}")
        engine = harness.services.engine

        start = time.perf_counter()
        with read_transaction(engine) as conn:
            read = event_store.events_after(conn, start_seq, args.events + 10)
        floor = time.perf_counter() - start

        start = time.perf_counter()
        while harness.scheduler.step():
            pass
        took = time.perf_counter() - start
        with read_transaction(engine) as conn:
            consumed = gate_store.cursor(conn) - start_seq
        print(f"items queued after:      {items(harness)}")
        print(f"events consumed:         {consumed} (read back by the floor: {len(read)})")
        print(f"scheduler:               {consumed / took:,.0f} events/s   goal >= 500")
        print(f"baseline (log read):     {len(read) / floor:,.0f} events/s")
        print(f"ratio to the baseline:   {(len(read) / floor) / (consumed / took):.1f}x slower")

        # Events that make work: a new patch set takes its change out of check
        # and the gate (resetting the gate items behind it) and enters check
        # again, with a new speculative merge and three builds; the merges run
        # in the same steps, as in the server.
        uploads = min(args.changes, 50)
        with read_transaction(engine) as conn:
            start_seq = gate_store.cursor(conn)
        for n in range(uploads):
            harness.new_patchset(ChangeRef(numbers[n]))
        start = time.perf_counter()
        steps = 0
        while harness.scheduler.step():
            steps += 1
        took = time.perf_counter() - start
        with read_transaction(engine) as conn:
            consumed = gate_store.cursor(conn) - start_seq
        print(f"new patch sets consumed: {consumed} events in {steps} steps, merges included")
        print(f"scheduler (patch sets):  {consumed / took:,.0f} events/s   goal >= 500")
        print(f"items queued after:      {items(harness)}")
        harness.close()


if __name__ == "__main__":
    main()

"""The gating core's throughput and its status JSON, in memory.

    .venv/bin/python -m benchmarks.gate_core [--items 200] [--status-items 500]

Queues `--items` changes across the gate (dependent, window 20) and check
(independent) with every build held, then releases them all and times the
core's `handle` alone (the fake review server, merger and executor around it
are not counted) until every queue has settled. The baseline in the same run is
one change going through the same pipelines: the floor of an event's cost.
Goals (issue 4): at least 500 events/s with 200 items; status JSON for 500
items in at most 50 ms (the baseline there is `json.dumps` of that status).
"""

from __future__ import annotations

import argparse
import json
import time

from lockgate.core.gating.gate import TenantGate
from lockgate.testing.gate_driver import GateDriver, baseline_layout


class TimedDriver(GateDriver):
    """The driver, counting the events the core handles and the time it takes."""

    handled = 0
    seconds = 0.0

    def handle(self, event: object) -> None:
        start = time.perf_counter()
        actions = TenantGate.handle(self.gate, event, self.now)  # type: ignore[arg-type]
        self.seconds += time.perf_counter() - start
        self.handled += 1
        self.actions.extend(actions)


def queue_up(items: int) -> TimedDriver:
    d = TimedDriver(baseline_layout())
    d.hold_jobs_in_build = True
    for n in range(items):
        project = ("org/project", "org/project1", "org/project2")[n % 3]
        change = d.add_change(project, f"C{n}")
        if n % 2:
            d.upload(change)
        else:
            d.approve(change)
    return d


def throughput(items: int) -> tuple[float, int, int]:
    d = queue_up(items)
    d.handled, d.seconds = 0, 0.0
    d.hold_jobs_in_build = False
    d.release()
    assert not d.gate.state.items, "the gate did not settle"
    return d.handled / d.seconds, d.handled, len(d.merges)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--status-items", type=int, default=500)
    args = parser.parse_args()

    runs = [throughput(1) for _ in range(20)]
    floor = sum(r[1] for r in runs) / sum(r[1] / r[0] for r in runs)
    floor_events = sum(r[1] for r in runs)
    rate, events, merged = throughput(args.items)
    print(f"baseline, 1 item x20:  {floor:8.0f} events/s ({floor_events} events)")
    print(
        f"{args.items} items queued:     {rate:8.0f} events/s ({events} events, "
        f"{merged} merged); {rate / floor:.2f} of the baseline; goal >= 500"
    )

    d = queue_up(args.status_items)
    d.release("project-merge")
    start = time.perf_counter()
    status = d.gate.status(d.now)
    took = time.perf_counter() - start
    start = time.perf_counter()
    text = json.dumps(status)
    dumped = time.perf_counter() - start
    print(
        f"status of {len(d.gate.state.items)} items: {took * 1000:6.1f} ms "
        f"({len(text) // 1024} KiB); json.dumps of it {dumped * 1000:.1f} ms, "
        f"ratio {took / dumped:.1f}; goal <= 50 ms"
    )


if __name__ == "__main__":
    main()

"""The status document of a busy tenant: 500 items queued across pipelines.

    .venv/bin/python -m benchmarks.status_json [--items 500] [--runs 30]

The tenant is the gating core with zuul.md's baseline layout, driven by the
pure harness: 500 changes in check (each with its three builds, the merge
job running and the tests waiting for it), half of them also approved into
the gate's shared queue. What is measured is what `GET /api/tenant/T/status`
does per request: build the document from the state and encode it as JSON.
The baseline in the same run is encoding the same document alone, so the
ratio says what building it costs beyond serialization. Goal: at most 50 ms.

Then what a request adds to leave out what its caller may not read
(services/build_visibility.py), on a SQLite site that hosts the three
projects, with a new caller each time as each request has: an anonymous
caller while everyone reads every project (nothing is left out: the
document itself is answered), and after one project is made readable by a
team only (its items are left out).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lockgate.services.bootstrap import Services, init_site
from lockgate.testing.gate_driver import GateDriver, baseline_layout

PROJECTS = ("org/project", "org/project1", "org/project2")


def busy_tenant(items: int) -> GateDriver:
    driver = GateDriver(baseline_layout())
    driver.hold_jobs_in_build = True
    changes = []
    for n in range(items // 2 + items % 2):
        change = driver.add_change(PROJECTS[n % 3], f"change {n}")
        driver.upload(change)
        changes.append(change)
    driver.settle()
    for change in changes[: items // 2]:
        driver.approve(change)
    driver.settle()
    return driver


def _count(status: dict[str, object]) -> int:
    total = 0
    for pipeline in status["pipelines"]:  # type: ignore[attr-defined]
        for queue in pipeline["change_queues"]:
            for head in queue["heads"]:
                total += len(head)
    return total


def _median_ms(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _only_a_team_reads(services: Services, project: str) -> None:
    team = services.accounts.create_group("team")
    rules = {"read": {"exclusive": True, "rules": {team.uuid: {"action": "ALLOW"}}}}
    admin = services.accounts.get("admin")
    services.access.change_access(
        admin, services.projects.get(project), {"add": {"refs/*": {"permissions": rules}}}
    )


def visibility(driver: GateDriver, runs: int, whole_ms: float, base_ms: float) -> None:
    now = driver.now
    with tempfile.TemporaryDirectory(prefix="lockgate-bench-") as tmp:
        services = init_site(Path(tmp) / "site").services
        try:
            for name in PROJECTS:
                services.projects.create(name)
            seen = services.build_visibility
            assert seen is not None

            def request() -> tuple[int, Any]:
                shown = seen.status(services.permissions.caller(None), driver.gate.status(now))
                return _count(shown), json.dumps(shown, separators=(",", ":"))

            document = driver.gate.status(now)

            def leave_out() -> object:
                return seen.status(services.permissions.caller(None), document)

            for label, restrict in (("all readable", None), ("one hidden", PROJECTS[2])):
                if restrict is not None:
                    _only_a_team_reads(services, restrict)
                shown, _ = request()
                ms = _median_ms(runs, request)
                alone = _median_ms(runs, leave_out)
                print(f"{label}, {shown} items shown:")
                print(
                    f"  status + who reads + JSON: {ms:.1f} ms ({ms / base_ms:.2f}x the baseline; "
                    f"status + JSON {whole_ms:.1f} ms)"
                )
                print(f"  who reads alone:           {alone:.2f} ms ({alone / base_ms:.3f}x)")
        finally:
            services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    print(f"building a tenant with {args.items} items ...", flush=True)
    driver = busy_tenant(args.items)
    now = driver.now
    status = driver.gate.status(now)
    print(f"items in the status document: {_count(status)}")
    whole, encode_only = [], []
    size = 0
    for _ in range(args.runs):
        start = time.perf_counter()
        body = json.dumps(driver.gate.status(now), separators=(",", ":"))
        whole.append(time.perf_counter() - start)
        size = len(body)
        start = time.perf_counter()
        json.dumps(status, separators=(",", ":"))
        encode_only.append(time.perf_counter() - start)
    ms = statistics.median(whole) * 1000
    base = statistics.median(encode_only) * 1000
    print(f"document: {size / 1024:.0f} KiB")
    print(f"status + JSON (median of {args.runs}): {ms:.1f} ms   goal <= 50 ms")
    print(f"baseline, JSON encoding alone:          {base:.1f} ms")
    print(f"ratio to the baseline:                  {ms / base:.2f}x")
    visibility(driver, args.runs, ms, base)


if __name__ == "__main__":
    main()

"""What permitted labels cost for a page of changes, against one database round trip.

    .venv/bin/python -m benchmarks.permissions [--changes 500] [--runs 20]

Creates a SQLite site with a project whose core group is granted Code-Review
-2..+2 and Workflow -1..+1, then times the `label_range` questions a change
list with DETAILED_LABELS asks (3 labels per change, `--changes` changes):

- `caller`: the caller's groups resolved once (`Permissions.caller`), as a
  request should;
- `account`: the account passed to every question (one group query each);
- `cold`: as `caller`, with the access chain read again (as after a write).

The baseline in the same run is one `SELECT 1` in a read transaction.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from lockgate.adapters.db.engine import read_transaction
from lockgate.services.bootstrap import init_site

LABELS = ("Code-Review", "Verified", "Workflow")


def _median_ms(run: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        services = init_site(Path(folder) / "site").services
        core = services.accounts.create_group("nova-core")
        carol = services.accounts.create_account("carol")
        services.accounts.add_member(core, carol)
        nova = services.projects.create("nova")
        rules = {"rules": {core.uuid: {"action": "ALLOW", "min": -2, "max": 2}}}
        workflow = {"rules": {core.uuid: {"action": "ALLOW", "min": -1, "max": 1}}}
        services.access.change_access(
            services.accounts.get("admin"),
            nova,
            {
                "add": {
                    "refs/heads/*": {
                        "permissions": {"label-Code-Review": rules, "label-Workflow": workflow}
                    }
                }
            },
        )
        permissions = services.permissions
        config = services.project_config
        branches = [f"refs/heads/b{n % 10}" for n in range(args.changes)]

        def page(*, resolve: bool = True, cold: bool = False) -> None:
            who = permissions.caller(carol) if resolve else carol
            for ref in branches:
                if cold:
                    config.invalidate()
                for label in LABELS:
                    permissions.label_range(who, nova, label, ref)

        def one_query() -> None:
            with read_transaction(services.engine) as conn:
                conn.execute(text("SELECT 1"))

        baseline = _median_ms(one_query, args.runs * 10)
        timings = {
            "caller": _median_ms(page, args.runs),
            "account": _median_ms(lambda: page(resolve=False), args.runs),
            "cold": _median_ms(lambda: page(cold=True), max(3, args.runs // 4)),
        }
        print(f"baseline: one SELECT 1 {baseline:.3f} ms")
        for name, ms in timings.items():
            print(
                f"{name:8s} {args.changes} changes x {len(LABELS)} labels: {ms:8.2f} ms "
                f"= {ms / baseline:7.1f} x baseline"
            )
        services.close()


if __name__ == "__main__":
    main()

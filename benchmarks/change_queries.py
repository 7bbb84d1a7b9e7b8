"""Change query latency through the REST API over 100k changes, SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.change_queries [--changes 100000] [--requests 200]

Seeds the changes across 10 projects and 20 owners, runs ANALYZE, then times
`/changes/?q=status:open+project:P&n=25`, `q=owner:U` and `q=<number>` from a
live server on a loopback port. The baseline in the same run is a GET of
`/config/server/version`, the server's floor for one request. Goal: p50 <= 20 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import text

from lockgate.core.review.model import ChangeStatus
from lockgate.testing.seed import seed_many_changes
from lockgate.testing.server import live_server, postgres_schema


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def _run(database_url: str, label: str, changes: int, requests: int) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="lockgate-bench-") as tmp,
        live_server(Path(tmp) / "site", database_url) as server,
    ):
        services = server.services
        owners = [
            services.accounts.create_account(f"user{i}", email=f"user{i}@example.com")
            for i in range(20)
        ]
        start = time.perf_counter()
        per_project = changes // 10
        for p in range(10):
            services.projects.create(f"project{p}")
            for o in range(2):
                seed_many_changes(
                    services.engine,
                    project=f"project{p}",
                    owner_id=owners[p * 2 + o].id,
                    count=per_project // 2,
                    statuses=(ChangeStatus.NEW, ChangeStatus.MERGED, ChangeStatus.ABANDONED),
                    start_time=1_700_000_000_000_000 + (p * 2 + o) * 10_000_000_000,
                )
        with services.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        print(f"[{label}] seeded {changes} changes in {time.perf_counter() - start:.1f} s")
        queries = {
            "baseline /config/server/version": ("config/server/version", {}),
            "status:open project:project3 n=25": (
                "changes/",
                {"q": "status:open project:project3", "n": "25"},
            ),
            "owner:user7": ("changes/", {"q": "owner:user7", "n": "25"}),
            "<number>": ("changes/", {"q": str(changes // 2)}),
        }
        with httpx.Client(base_url=server.url) as client:
            for name, (path, params) in queries.items():
                samples = []
                for _ in range(requests):
                    t0 = time.perf_counter()
                    response = client.get(path, params=params)
                    samples.append((time.perf_counter() - t0) * 1000)
                    assert response.status_code == 200, response.text
                p50, p99 = _percentiles(samples)
                print(f"[{label}] {name:36s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "LOCKGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    _run("sqlite:///db/lockgate.db", "sqlite", args.changes, args.requests)
    if args.postgres:
        with postgres_schema(args.postgres) as url:
            _run(url, "postgresql", args.changes, args.requests)


if __name__ == "__main__":
    main()

"""What the HTTP query benchmarks share: a live server over many seeded changes
on SQLite and PostgreSQL, and timing requests against the server's floor.

The floor is a GET of `/config/server/version`, measured in the same run: the
cost of one request through the whole stack (HTTP, routing, JSON) that does no
query. Each query's p50 is printed with its ratio to the floor's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import text

from lockgate.core.review.model import ChangeStatus
from lockgate.testing.seed import seed_many_changes
from lockgate.testing.server import LiveServer, live_server, postgres_schema

PROJECTS = 10
OWNERS_PER_PROJECT = 2
REVIEWERS = 8  # accounts that vote, besides the CI account

# name -> (path under the server's root, query parameters)
Requests = Mapping[str, tuple[str, Mapping[str, str]]]
BASELINE = "baseline /config/server/version"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


@contextmanager
def seeded_site(
    database_url: str, label: str, changes: int, *, votes: bool = False
) -> Iterator[LiveServer]:
    """A live server with `changes` changes over PROJECTS projects (`project0`...)
    and PROJECTS * OWNERS_PER_PROJECT owners (`user0`...), a third each open,
    merged and abandoned; with `votes`, the votes a busy site's changes carry,
    cast by a CI account (`ci`) and REVIEWERS reviewers (`reviewer0`...).
    ANALYZEd, as a site's database would be."""
    with (
        tempfile.TemporaryDirectory(prefix="lockgate-bench-") as tmp,
        live_server(Path(tmp) / "site", database_url) as server,
    ):
        services = server.services
        accounts = services.accounts
        owners = [
            accounts.create_account(f"user{i}", email=f"user{i}@example.com")
            for i in range(PROJECTS * OWNERS_PER_PROJECT)
        ]
        voters = []
        if votes:
            voters = [accounts.create_account("ci", email="ci@example.com").id] + [
                accounts.create_account(f"reviewer{i}", email=f"reviewer{i}@example.com").id
                for i in range(REVIEWERS)
            ]
        start = time.perf_counter()
        per_owner = changes // (PROJECTS * OWNERS_PER_PROJECT)
        for p in range(PROJECTS):
            services.projects.create(f"project{p}")
            for o in range(OWNERS_PER_PROJECT):
                index = p * OWNERS_PER_PROJECT + o
                seed_many_changes(
                    services.engine,
                    project=f"project{p}",
                    owner_id=owners[index].id,
                    count=per_owner,
                    statuses=(ChangeStatus.NEW, ChangeStatus.MERGED, ChangeStatus.ABANDONED),
                    start_time=1_700_000_000_000_000 + index * 10_000_000_000,
                    voters=voters,
                )
        with services.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        print(f"[{label}] seeded {changes} changes in {time.perf_counter() - start:.1f} s")
        yield server


def time_requests(server: LiveServer, label: str, requests: Requests, count: int) -> None:
    """Time `count` GETs of each request, after the floor, and print p50, p99 and
    the p50's ratio to the floor's p50."""
    floor: float | None = None
    with httpx.Client(base_url=server.url) as client:
        for name, (path, params) in {BASELINE: ("config/server/version", {}), **requests}.items():
            samples = []
            for _ in range(count):
                t0 = time.perf_counter()
                response = client.get(path, params=params)
                samples.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, response.text
            p50, p99 = percentiles(samples)
            floor = floor or p50
            print(
                f"[{label}] {name:44s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
                f"{p50 / floor:5.1f}x floor"
            )


def arguments(description: str | None, *, requests: int = 200) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=requests)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "LOCKGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help="server URL to make a scratch schema on; empty to skip PostgreSQL",
    )
    return parser.parse_args()


def on_both_databases(postgres: str, run: Callable[[str, str], None]) -> None:
    """`run(database_url, label)` on a fresh SQLite site, then on a scratch
    PostgreSQL schema unless `postgres` is empty."""
    run("sqlite:///db/lockgate.db", "sqlite")
    if postgres:
        with postgres_schema(postgres) as url:
            run(url, "postgresql")

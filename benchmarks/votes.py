"""Votes per second through the REST API, each event persisted and delivered to an
SSE consumer, on SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.votes [--votes 2000] [--clients 4] [--changes 20]

Voters post `Code-Review` votes (alternating +1 and -1, so that every review
changes a vote) to `POST /a/changes/{id}/revisions/current/review` from
`--clients` threads across `--changes` changes, while one consumer reads
`GET /a/events` as server-sent events. The server is `lockgate serve` in a
process of its own, as a site runs it, so that the clients' threads do not
share its interpreter; it runs the gating scheduler and the node launcher
beside requests, as `lockgate serve` always does, and the scheduler reads
and handles every vote's event. The clock stops when the consumer has
received the last vote's `comment-added` event; the run also reports how long
after that the scheduler had taken every event (its cursor in the database),
and the server process's CPU time per vote (from /proc, on Linux). Baselines
in the same run, on the same server: the same number of
`GET /config/server/version` requests from the same threads (the server's
request floor), and the same number of write transactions that append one
event each, made in-process (the database's floor for a durable event).
Goal: at least 200 votes/s on SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from lockgate.adapters.db import gate_store
from lockgate.adapters.db.engine import read_transaction, write_transaction
from lockgate.adapters.db.event_store import append_event, last_seq
from lockgate.services.accounts import SERVICE_USERS
from lockgate.services.bootstrap import Services, init_site
from lockgate.testing.seed import seed_change
from lockgate.testing.server import free_port, postgres_schema


@contextmanager
def serve_process(site: Path, url: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "lockgate.cli.main", "serve", "--site", str(site)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}config/server/version", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"lockgate serve did not come up on {url}")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of process `pid` so far; None without /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scheduler_caught_up(services: Services, seq: int, timeout: float = 60.0) -> float | None:
    """Seconds until the scheduler's cursor reached `seq`; None if it did not."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        with read_transaction(services.engine) as conn:
            if gate_store.cursor(conn) >= seq:
                return time.perf_counter() - start
        time.sleep(0.005)
    return None


class Consumer(threading.Thread):
    """Reads the event stream from `after` and notes when `wanted` votes arrived."""

    def __init__(self, url: str, auth: tuple[str, str], after: int, wanted: int):
        super().__init__(daemon=True)
        self.url, self.auth, self.after, self.wanted = url, auth, after, wanted
        self.seen = 0
        self.done_at: float | None = None
        self.ready = threading.Event()

    def run(self) -> None:
        headers = {"Accept": "text/event-stream", "Last-Event-ID": str(self.after)}
        with (
            httpx.Client(timeout=httpx.Timeout(60.0, read=120.0)) as client,
            client.stream(
                "GET", f"{self.url}a/events", headers=headers, auth=self.auth
            ) as response,
        ):
            response.raise_for_status()
            self.ready.set()
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                if json.loads(line[5:]).get("type") != "comment-added":
                    continue
                self.seen += 1
                if self.seen >= self.wanted:
                    self.done_at = time.perf_counter()
                    return


def _timed(clients: int, count: int, one: Callable[[httpx.Client, int], None]) -> float:
    """Seconds for `count` calls of `one`, spread over `clients` threads."""
    per_thread = [list(range(i, count, clients)) for i in range(clients)]

    def worker(indexes: list[int]) -> None:
        with httpx.Client(timeout=60.0) as client:
            for i in indexes:
                one(client, i)

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, per_thread))
    return time.perf_counter() - start


def _run(database_url: str, label: str, votes: int, clients: int, changes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="lockgate-bench-") as tmp:
        site = Path(tmp) / "site"
        created = init_site(site, listen=f"127.0.0.1:{free_port()}", database_url=database_url)
        services, admin = created.services, ("admin", created.admin_password)
        url = services.public_url
        services.projects.create("bench", create_empty_commit=True)
        owner = services.accounts.create_account("owner", email="owner@example.com")
        voters = []
        for i in range(clients):
            account = services.accounts.create_account(
                f"voter{i}", email=f"voter{i}@example.com", groups=[SERVICE_USERS]
            )
            password = f"pw-voter{i}-benchmark"
            services.accounts.set_http_password(account, password=password)
            voters.append((account.username, password))
        numbers = [
            seed_change(services, "bench", owner=owner, subject=f"Change {i}").change_number
            for i in range(changes)
        ]

        with serve_process(site, url) as server:

            def floor(client: httpx.Client, i: int) -> None:
                client.get(f"{url}config/server/version").raise_for_status()

            http_floor = _timed(clients, votes, floor)

            start = time.perf_counter()
            for i in range(votes):
                with write_transaction(services.engine) as conn:
                    append_event(conn, {"type": "benchmark-floor", "n": i}, now=services.clock())
            db_floor = time.perf_counter() - start

            with services.engine.connect() as conn:
                after = last_seq(conn)
            consumer = Consumer(url, admin, after, votes)
            consumer.start()
            consumer.ready.wait(30)

            def vote(client: httpx.Client, i: int) -> None:
                voter = voters[i % clients]
                number = numbers[(i // clients) % changes]
                value = 1 if (i // (clients * changes)) % 2 == 0 else -1
                response = client.post(
                    f"{url}a/changes/{number}/revisions/current/review",
                    json={"labels": {"Code-Review": value}},
                    auth=voter,
                )
                assert response.status_code == 200, response.text

            cpu_before = cpu_seconds(server.pid)
            start = time.perf_counter()
            posted = _timed(clients, votes, vote)
            consumer.join(120)
            if consumer.done_at is None:
                raise SystemExit(f"[{label}] the consumer saw {consumer.seen} of {votes} events")
            delivered = consumer.done_at - start
            cpu_after = cpu_seconds(server.pid)
            with services.engine.connect() as conn:
                newest = last_seq(conn)
            lag = scheduler_caught_up(services, newest)
            rate = votes / delivered
            print(
                f"[{label}] {votes} votes by {clients} clients on {changes} changes: "
                f"posted in {posted:.2f} s, all delivered to SSE in {delivered:.2f} s "
                f"= {rate:.0f} votes/s"
            )
            scheduled = "did not" if lag is None else f"{lag * 1000:.0f} ms later"
            print(f"[{label}]   the scheduler had taken every vote's event {scheduled}")
            if cpu_before is not None and cpu_after is not None:
                per_vote = (cpu_after - cpu_before) / votes * 1000
                print(f"[{label}]   server CPU: {per_vote:.2f} ms a vote")
            print(
                f"[{label}]   baseline GET /config/server/version: {votes / http_floor:.0f} req/s "
                f"(votes run at {rate / (votes / http_floor):.2f}x the request floor)"
            )
            print(
                f"[{label}]   baseline one event per write transaction: {votes / db_floor:.0f}/s "
                f"(votes run at {rate / (votes / db_floor):.2f}x the durable-event floor)"
            )

        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--votes", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "LOCKGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    _run("sqlite:///db/lockgate.db", "sqlite", args.votes, args.clients, args.changes)
    if args.postgres:
        with postgres_schema(args.postgres) as url:
            _run(url, "postgresql", args.votes, args.clients, args.changes)


if __name__ == "__main__":
    main()

"""Translating the event log into the gating core's trigger events, on a site
with a few hundred changes, SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.gate_inputs [--changes 400] [--events 2000]

Seeds the changes with the votes a busy site's changes carry, one open change
in five with a Depends-On footer naming the change before it and one in ten
sitting on the commit of the change before it (a git parent), then appends
`--events` events to the log (comment-added with a vote, patchset-created,
topic-changed, in turn, about open changes). Times reading them back alone
(the baseline: what the scheduler pays without any translation), then reading
and translating each with `GateInputs.trigger_event` (its snapshot, what it
needs transitively and what needs it), then a hundred at a time with
`trigger_events`, each with a cold cache and a warm one.
The scheduler's goal is 500 events/s end to end.
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select, text, update

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.engine import write_transaction
from lockgate.adapters.db.event_store import append_event, events_after, last_seq
from lockgate.adapters.db.footer_store import insert_footers
from lockgate.core.review.footers import Footer
from lockgate.core.review.model import ChangeStatus
from lockgate.services.bootstrap import Services, init_site
from lockgate.services.gate_inputs import GateInputs
from lockgate.testing.seed import seed_many_changes
from lockgate.testing.server import postgres_schema

PROJECTS = 4
REVIEWERS = 4


def seed(services: Services, changes: int) -> list[int]:
    """The site's open changes, after seeding `changes` changes."""
    accounts = services.accounts
    owner = accounts.create_account("owner", email="owner@example.com")
    voters = [accounts.create_account("ci", email="ci@example.com").id] + [
        accounts.create_account(f"reviewer{i}", email=f"reviewer{i}@example.com").id
        for i in range(REVIEWERS)
    ]
    for p in range(PROJECTS):
        services.projects.create(f"project{p}")
        seed_many_changes(
            services.engine,
            project=f"project{p}",
            owner_id=owner.id,
            count=changes // PROJECTS,
            statuses=(ChangeStatus.NEW, ChangeStatus.NEW, ChangeStatus.MERGED),
            start_time=1_700_000_000_000_000 + p * 10_000_000_000,
            voters=voters,
        )
    with write_transaction(services.engine) as conn:
        rows = conn.execute(
            select(t.changes.c.number, t.changes.c.project, t.changes.c.status).order_by(
                t.changes.c.number
            )
        ).all()
        shas = dict(
            conn.execute(select(t.patch_sets.c.change_number, t.patch_sets.c.commit_sha)).all()
        )
        open_numbers = [r.number for r in rows if r.status == "NEW"]
        for before, row in itertools.pairwise(rows):
            if row.status != "NEW" or before.project != row.project:
                continue
            if row.number % 5 == 0:
                url = f"{services.public_url}c/{row.project}/+/{before.number}"
                insert_footers(conn, row.number, 1, [Footer("Depends-On", url)])
            elif row.number % 10 == 1:
                conn.execute(
                    update(t.patch_sets)
                    .where(t.patch_sets.c.change_number == row.number)
                    .values(parents=shas[before.number])
                )
        conn.execute(text("ANALYZE"))
    return open_numbers


def append_events(services: Services, numbers: list[int], count: int) -> int:
    """Append `count` events about the open changes; returns the seq before them."""
    with write_transaction(services.engine) as conn:
        start = last_seq(conn)
        for i in range(count):
            number = numbers[(i * 7) % len(numbers)]
            kind = ("comment-added", "patchset-created", "topic-changed")[i % 3]
            payload = {
                "type": kind,
                "change": {"number": number, "project": "project0"},
                "patchSet": {"number": 1},
                "author": {"username": "reviewer0", "email": "reviewer0@example.com"},
                "uploader": {"username": "owner", "email": "owner@example.com"},
                "changer": {"username": "owner", "email": "owner@example.com"},
                "approvals": [{"type": "Code-Review", "value": "1", "oldValue": "0"}],
                "comment": "Patch Set 1: Code-Review+1",
            }
            append_event(conn, payload, now=1_800_000_000_000_000 + i, change_number=number)
    return start


def timed(label: str, name: str, count: int, work: Callable[[], int], floor: float | None) -> float:
    t0 = time.perf_counter()
    seen = work()
    elapsed = time.perf_counter() - t0
    assert seen == count, (seen, count)
    rate = count / elapsed
    ratio = f"{floor / rate:6.1f}x the baseline's time" if floor else "baseline"
    print(
        f"[{label}] {name:38s} {rate:9.0f} events/s  {elapsed / count * 1e6:8.0f} us/event  {ratio}"
    )
    return rate


def run(database_url: str, label: str, changes: int, events: int) -> None:
    with tempfile.TemporaryDirectory(prefix="lockgate-bench-") as tmp:
        services = init_site(Path(tmp) / "site", database_url=database_url).services
        try:
            t0 = time.perf_counter()
            numbers = seed(services, changes)
            start = append_events(services, numbers, events)
            print(
                f"[{label}] {changes} changes ({len(numbers)} open), {events} events "
                f"seeded in {time.perf_counter() - t0:.1f} s"
            )

            def read_only() -> int:
                seen, seq = 0, start
                while True:
                    with services.engine.connect() as conn:
                        page = events_after(conn, seq, limit=500)
                    if not page:
                        return seen
                    seen += len(page)
                    seq = page[-1].seq

            def translate(inputs: GateInputs, page_size: int) -> Callable[[], int]:
                """Read pages of the log and translate them `page_size` events at
                a time (1: one `trigger_event` per event)."""

                def work() -> int:
                    seen, seq = 0, start
                    while True:
                        with services.engine.connect() as conn:
                            page = events_after(conn, seq, limit=500)
                        if not page:
                            return seen
                        for i in range(0, len(page), page_size):
                            chunk = page[i : i + page_size]
                            if page_size == 1:
                                found = [inputs.trigger_event(chunk[0], "gerrit")]
                            else:
                                found = inputs.trigger_events(chunk, "gerrit")
                            assert all(e is not None and e.change is not None for e in found)
                            seen += len(found)
                        seq = page[-1].seq

                return work

            floor = timed(label, "read the StoredEvents alone", events, read_only, None)
            inputs = GateInputs(
                engine=services.engine, labels=services.labels, server_url=services.public_url
            )
            timed(label, "read + trigger_event (cold cache)", events, translate(inputs, 1), floor)
            timed(label, "read + trigger_event (warm cache)", events, translate(inputs, 1), floor)
            batched = GateInputs(
                engine=services.engine, labels=services.labels, server_url=services.public_url
            )
            for name, cache in (("cold", batched), ("warm", batched)):
                timed(
                    label,
                    f"read + trigger_events x100 ({name} cache)",
                    events,
                    translate(cache, 100),
                    floor,
                )
            sample = inputs.change(numbers[5 * 3])
            assert sample is not None
            print(
                f"[{label}] e.g. change {sample.key}: {len(sample.approvals)} votes, "
                f"needs {sample.needs}, files {sample.files}"
            )
        finally:
            services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=400)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "LOCKGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help="server URL to make a scratch schema on; empty to skip PostgreSQL",
    )
    args = parser.parse_args()
    run("sqlite:///db/lockgate.db", "sqlite", args.changes, args.events)
    if args.postgres:
        with postgres_schema(args.postgres) as url:
            run(url, "postgresql", args.changes, args.events)


if __name__ == "__main__":
    main()

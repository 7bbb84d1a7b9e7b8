"""The node launcher's own cost, on SQLite with a fake provider.

    .venv/bin/python -m benchmarks.node_launcher [--requests 200] [--waiting 2000]

1. `--requests` requests of one node each go through request -> fulfilled ->
   accept -> release -> deleted, with a provider whose launches and deletes
   finish in one step, so what is timed is the launcher and its database
   rows. The baseline in the same run is the floor of that: one write
   transaction inserting and deleting a row per request.
2. Planning one round over `--waiting` waiting requests against full pools
   (every one waits, the worst case of a busy site), against sorting them by
   priority, which any planner must do.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete, insert

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.engine import make_engine, write_transaction
from lockgate.adapters.db.migrate import upgrade
from lockgate.core.nodes.model import FULFILLED, IN_USE, Node, NodeRequest
from lockgate.core.nodes.planning import Pool, plan_round, queue
from lockgate.services.launcher import NodeLauncher
from lockgate.services.node_ports import PoolInfo
from lockgate.testing.fake_provider import FakeProvider


def lifecycle(folder: Path, requests: int) -> tuple[float, float]:
    engine = make_engine(f"sqlite:///{folder / 'nodes.db'}")
    upgrade(engine)
    provider = FakeProvider(
        pools=[PoolInfo("main", frozenset({"small"}), 10)], steps=1, delete_steps=1
    )
    launcher = NodeLauncher(engine, [provider])
    start = time.perf_counter()
    for n in range(requests):
        rid = launcher.request(f"b{n}", ["small"], precedence=1, relative_priority=0)
        while launcher.get(rid).state != FULFILLED:
            launcher.step()
        nodes = launcher.accept(rid)
        launcher.release([node.id for node in nodes])
        launcher.step()
        while launcher.busy():
            launcher.step()
    took = time.perf_counter() - start
    assert provider.held() == []

    start = time.perf_counter()
    for n in range(requests):
        with write_transaction(engine) as conn:
            conn.execute(insert(t.gate_cursor).values(name=f"x{n}", seq=n))
            conn.execute(delete(t.gate_cursor).where(t.gate_cursor.c.name == f"x{n}"))
    floor = time.perf_counter() - start
    engine.dispose()
    return took / requests, floor / requests


def planning(waiting: int) -> tuple[float, float]:
    pools = [Pool(f"p{i}", "main", frozenset({"small", "big"}), 10) for i in range(4)]
    busy = [
        Node(f"n{p.provider}{i}", "small", p.provider, "main", IN_USE, i, i, request="x")
        for p in pools
        for i in range(10)
    ]
    requests = [
        NodeRequest(f"r{i}", ("small", "big"), "b", i % 3, i % 7, float(i)) for i in range(waiting)
    ]
    start = time.perf_counter()
    plans = plan_round(requests, pools, busy)
    took = time.perf_counter() - start
    assert len(plans) == waiting
    start = time.perf_counter()
    queue(requests)
    floor = time.perf_counter() - start
    return took, floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--waiting", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        per, floor = lifecycle(Path(folder), args.requests)
    print(f"baseline, one write transaction: {floor * 1000:7.2f} ms per request")
    print(
        f"request -> fulfilled -> released -> deleted: {per * 1000:7.2f} ms per request; "
        f"{per / floor:.1f} x the baseline"
    )
    took, floor = planning(args.waiting)
    print(f"baseline, sorting {args.waiting} requests: {floor * 1000:7.2f} ms")
    print(
        f"planning a round of {args.waiting} waiting requests: {took * 1000:7.2f} ms; "
        f"{took / floor:.1f} x the baseline"
    )


if __name__ == "__main__":
    main()

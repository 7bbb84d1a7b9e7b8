"""A node launcher in a process of its own, for tests that kill it with SIGKILL
in the middle of a launch: `python -m lockgate.testing.launcher_process URL
FOLDER`. Its fake provider keeps its machines as files in FOLDER, so the test's
next launcher sees what the dead one left. It prints `launching` once every
node of its request has an external id saved, then keeps stepping slowly."""

from __future__ import annotations

import sys
import time

from lockgate.adapters.db import node_store as store
from lockgate.adapters.db.engine import make_engine, read_transaction
from lockgate.services.launcher import NodeLauncher
from lockgate.services.node_ports import PoolInfo
from lockgate.testing.fake_provider import FakeProvider

POOL = PoolInfo("main", frozenset({"small"}), max_servers=4, launch_retries=3, boot_timeout=3600)


def main(url: str, folder: str) -> None:
    from pathlib import Path

    engine = make_engine(url)
    provider = FakeProvider("fake", [POOL], steps=10**9, folder=Path(folder))
    launcher = NodeLauncher(engine, [provider])
    launcher.request("doomed-build", ["small", "small"], precedence=1, relative_priority=0)
    announced = False
    while True:
        launcher.step()
        with read_transaction(engine) as conn:
            saved = [s.external_id for s in store.nodes(conn)]
        if not announced and len(saved) == 2 and all(saved):
            print("launching", flush=True)
            announced = True
        time.sleep(0.05)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""A site's scheduler in a process of its own, with the fake executor, for
tests that kill it: `python -m lockgate.testing.gate_process --site S --control D`.

It runs scheduler steps and fake builds until killed. Builds are held until
the file `D/release` exists; `D/ready` is written once the scheduler has
opened the site (and re-issued what was in flight).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from lockgate.services.bootstrap import open_site
from lockgate.testing.fake_executor import FakeExecutor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--site", type=Path, required=True)
    parser.add_argument("--control", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    executor = FakeExecutor(hold_jobs_in_build=True)
    services = open_site(args.site, executor=executor)
    gating = services.gating
    assert gating is not None
    gating.scheduler.open()
    (args.control / "ready").write_text("ready\n")
    release = args.control / "release"
    while True:
        if release.exists():
            executor.release()
        busy = gating.scheduler.step()
        finished = executor.run()
        if not busy and not finished:
            time.sleep(0.05)


if __name__ == "__main__":
    main()

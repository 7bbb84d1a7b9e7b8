"""Nothing is lost when the server dies: `lockgate serve` killed with SIGKILL
while a webhook delivery is in flight, then started again, delivers every
event, in order; only the one in flight may come twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

from lockgate.adapters.db.engine import read_transaction
from lockgate.adapters.db.event_store import events_after
from lockgate.services.bootstrap import Services, open_site
from tests.gitutil import commit, git, new_change_id, push
from tests.system.events import topics
from tests.system.receiver import PROJECT, SECRET, Receiver, add_webhook, new_site


@contextmanager
def lockgate_serve(site: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`lockgate serve` as a process of its own; killed at the end if still running."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "lockgate.cli.main", "serve", "--site", str(site)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise AssertionError(f"the server exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}config/server/version", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        process_wait(process, 0.1)
    raise AssertionError(f"the server never answered:\n{log.read_text()}")


def process_wait(process: subprocess.Popen[bytes], seconds: float) -> None:
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=seconds)


def all_seqs(services: Services) -> list[int]:
    with read_transaction(services.engine) as conn:
        return [event.seq for event in events_after(conn, 0, 10_000)]


def test_a_server_killed_mid_delivery_delivers_every_event_after_restart(
    tmp_path: Path, database_url: str
) -> None:
    site = new_site(tmp_path, database_url)
    log = tmp_path / "server.log"
    services = open_site(site)  # in this process, on the server's database
    url = services.public_url
    password = dict(
        line.split("=", 1) for line in services.site.credentials_file.read_text().splitlines()
    )["password"]
    with Receiver(SECRET.encode()) as receiver:
        add_webhook(site, "ci", receiver.url)
        # The fourth request stays unanswered until the server is dead.
        receiver.hold_nth = 4
        with lockgate_serve(site, log) as server:
            wait_ready(url, server, log)
            work = tmp_path / "work"
            git(tmp_path, "clone", "-q", f"{url}{PROJECT}", str(work))
            commit(work, "Deliver me", change_id=new_change_id())
            host = url.split("://", 1)[1]
            pushed = push(work, f"http://admin:{password}@{host}{PROJECT}", "HEAD:refs/for/master")
            assert pushed.ok, pushed.output
            topics(services, 1, "t1", "t2", "t3", "t4", "t5")

            assert receiver.holding.wait(60), f"no fourth delivery:\n{log.read_text()}"
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=30)
        receiver.release.set()
        in_flight = receiver.held_seq

        # While the server is dead, the log grows.
        topics(services, 1, "t6", "t7")
        expected = all_seqs(services)

        with lockgate_serve(site, log) as server:
            wait_ready(url, server, log)
            got = receiver.wait_for(len(expected) + 1)
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    # The killed server never shut down; the second stopped cleanly on SIGTERM
    # (uvicorn re-raises the signal afterwards, so its exit code names SIGTERM).
    assert log.read_text().count("Application shutdown complete") == 1
    services.close()

    seqs = [g.seq for g in got]
    assert seqs[:4] == expected[:4]
    assert in_flight == expected[3]
    # Delivered again after the restart, since its success was never recorded.
    assert seqs[4:] == expected[3:]
    assert receiver.bad_signatures == 0

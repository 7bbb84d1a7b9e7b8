"""Serving build logs: a big console log fetched raw, gzipped both ways, in
the plain viewer and in the build pages' log viewer, and how soon the live
console delivers a written line.

    .venv/bin/python -m benchmarks.log_serving [--lines 200000] [--runs 3] [--console 20]

Baselines measured in the same run: reading the same bytes from disk in
process (for the HTTP fetches and the viewer), and the console's poll interval
(for its latency: a line written just after a poll waits about that long).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from lockgate.adapters.db import gate_store
from lockgate.services.build_logs import POLL
from lockgate.testing.server import LiveServer, live_server

PATH = "34/1234/2/check/unit/0123456"
UUID = "0123456789abcdef0123456789abcdef"


def _best(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def _log(lines: int) -> str:
    return "".join(
        f"2026-12-01 22:00:{n % 60:02d}.{n % 1000:03d} | TASK [step {n}] "
        f"{'ERROR: failed' if n % 997 == 0 else 'ok: [node] => changed=false'}\n"
        for n in range(lines)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--console", type=int, default=20, help="console lines to time")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, live_server(Path(tmp) / "site") as server:
        store = server.services.log_store
        assert store is not None
        folder = store.folder(PATH)
        text = _log(args.lines)
        (folder / "job-output.txt").write_text(text)
        (folder / "packed.txt.gz").write_bytes(gzip.compress(text.encode(), 6))
        size_mb = len(text.encode()) / 1e6
        print(f"log: {args.lines} lines, {size_mb:.1f} MB ({len(text) // args.lines} B/line)")

        client = httpx.Client(base_url=server.url, timeout=120)
        base = f"/logs/{PATH}/"
        disk = _best(args.runs, (folder / "job-output.txt").read_bytes)
        gunzip = _best(args.runs, lambda: gzip.decompress((folder / "packed.txt.gz").read_bytes()))
        raw = _best(args.runs, lambda: client.get(base + "job-output.txt").content)

        def fetch_packed() -> bytes:
            headers = {"Accept-Encoding": "gzip"}
            with client.stream("GET", base + "packed.txt", headers=headers) as response:
                return b"".join(response.iter_raw())

        packed = _best(args.runs, fetch_packed)
        unpacked = _best(
            args.runs,
            lambda: (
                client.get(base + "packed.txt", headers={"Accept-Encoding": "identity"}).content
            ),
        )
        viewer = _best(args.runs, lambda: client.get(base + "job-output.txt?view=1").content)
        print(f"baseline read from disk:       {disk * 1000:8.1f} ms")
        print(f"baseline gunzip in process:    {gunzip * 1000:8.1f} ms")
        for label, seconds, against in (
            ("GET plain", raw, disk),
            ("GET gzip, sent compressed", packed, disk),
            ("GET gzip, decompressed", unpacked, gunzip),
            ("viewer page", viewer, disk),
        ):
            print(
                f"{label:30} {seconds * 1000:8.1f} ms  {size_mb / seconds:7.1f} MB/s  "
                f"x{seconds / against:6.1f} baseline"
            )
        print(f"viewer: {args.lines / viewer:,.0f} lines/s")
        _console(server, store.folder(PATH), args.console)
        _build_viewer(server, args.runs, disk, viewer)


def _build_viewer(server: LiveServer, runs: int, disk: float, plain_viewer: float) -> None:
    """The build pages' log viewer (`/t/<tenant>/build/<uuid>/log/...`), which
    streams the page: the time to its first bytes, and to all of it, by default
    (head and tail of a long log) and with every line; against reading the file
    and against the plain `?view=1` viewer, both measured above."""
    client = httpx.Client(base_url=server.url, timeout=300, auth=server.admin)
    url = f"/t/main/build/{UUID}/log/job-output.txt"

    def first_bytes(query: str) -> float:
        start = time.perf_counter()
        with client.stream("GET", url + query) as response:
            next(response.iter_raw())
            return time.perf_counter() - start

    for label, query in (("head and tail", ""), ("every line", "?all=1")):
        whole = _best(runs, lambda q=query: client.get(url + q).content)
        first = min(first_bytes(query) for _ in range(runs))
        size = len(client.get(url + query).content) / 1e6
        print(
            f"build log viewer, {label:13} {whole * 1000:8.1f} ms ({size:.1f} MB page, "
            f"x{whole / disk:6.1f} baseline, x{whole / plain_viewer:4.2f} the /logs viewer), "
            f"first bytes {first * 1000:6.1f} ms"
        )


def _console(server: LiveServer, folder: Path, count: int) -> None:
    with server.services.engine.begin() as conn:
        gate_store.add_build(
            conn,
            gate_store.BuildRow(
                uuid=UUID,
                buildset="bs",
                tenant="main",
                pipeline="check",
                job="unit",
                project="p",
                branch="main",
                ref="refs/heads/main",
                change=None,
                patchset=None,
                changes="",
                voting=True,
                attempt=1,
                result=None,
                log_url=None,
                error=None,
                queued=1,
                started=None,
                ended=None,
            ),
        )
    logs = server.services.build_logs
    assert logs is not None
    logs.register(UUID, PATH)
    console = folder / "job-output.txt"
    size = console.stat().st_size
    arrived: dict[str, float] = {}
    ready = threading.Event()

    def read() -> None:
        url = f"{server.url}api/tenant/main/console-stream/{UUID}?offset={size}"
        with httpx.stream("GET", url, timeout=60) as response:
            ready.set()
            for line in response.iter_lines():
                if line.startswith("data: probe "):
                    arrived[line[6:]] = time.perf_counter()
                if line.startswith("event: end"):
                    return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    ready.wait(10)
    written: dict[str, float] = {}
    with console.open("a") as out:
        for n in range(count):
            probe = f"probe {n}"
            written[probe] = time.perf_counter()
            out.write(probe + "\n")
            out.flush()
            time.sleep(0.13)  # out of step with the poll, as a build's writes are
    deadline = time.monotonic() + 10
    while len(arrived) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    with server.services.engine.begin() as conn:
        gate_store.finish_build(
            conn, UUID, result="SUCCESS", started_us=1, ended_us=2, log_url="", error=""
        )
    reader.join(10)
    delays = [arrived[p] - written[p] for p in written if p in arrived]
    if not delays:
        print("console: no line arrived")
        return
    median = statistics.median(delays)
    print(
        f"console: {len(delays)}/{count} lines, median {median * 1000:.0f} ms, "
        f"max {max(delays) * 1000:.0f} ms from write to client; "
        f"poll {POLL * 1000:.0f} ms, median x{median / POLL:.2f} of the poll"
    )


if __name__ == "__main__":
    main()

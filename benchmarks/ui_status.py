"""The live status page holding 500 items that change every second, in a real
browser: how long each update takes inside the page.

    .venv/bin/python -m benchmarks.ui_status [--items 500] [--updates 30]

A live lockgate server serves the page; its polls of `/api/tenant/main/status`
are answered by this benchmark (Playwright routes them) with a status document
of a busy tenant: the gating core's own document for `--items` items (half in
check, half in the gate's shared queue, as benchmarks/status_json.py builds it),
given estimated times, then moved on by one second at every poll: running jobs
advance, some end (a few failing), waiting ones start, and items leave at the
head and arrive at the tail.

The page measures itself (status.js, `window.lockgateStatus.timings`): the DOM
update, then the style and layout of the changed page, forced at the end of the
update so that they are counted. The baseline, measured in the same run on the
same documents, is the same page rebuilding everything from scratch at every
update (`?render=full`), as a page that renders a template each time does.
Both run with the items' jobs folded (the page's default above 40 items) and
unfolded. The goal: a p95 update within a frame (16.7 ms at 60 Hz), so that
nobody sees the page stutter while it follows the gate. JSON.parse of the
same documents is printed as a control: its work is the same at every update,
so its spread is the machine's (another process taking the core), not the
page's.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import tempfile
import threading
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Route, sync_playwright

from benchmarks.status_json import busy_tenant
from lockgate.core.gating.status_view import add_estimates, items, job_names
from lockgate.testing.browser import launch
from lockgate.testing.server import live_server

FRAME_MS = 1000 / 60
WARMUP = 5  # updates left out: the first builds the page, the next warm the JIT


class Feed:
    """A busy tenant's status document, one second later at every call."""

    def __init__(self, count: int, seed: int = 7) -> None:
        print(f"building a tenant with {count} items ...", flush=True)
        driver = busy_tenant(count)
        self.now_ms = int(driver.now * 1000)
        doc = driver.gate.status(driver.now)
        rng = random.Random(seed)
        averages = {name: rng.uniform(300, 1800) for name in job_names(doc)}
        for _p, _q, item in items(doc):
            for job in item["jobs"]:
                if job["start_time"] is not None and job["result"] is None:
                    # running for a while already, each job its own way along
                    job["elapsed_time"] = int(rng.uniform(0.05, 0.9) * averages[job["name"]] * 1000)
        self.doc = add_estimates(doc, averages)
        self.averages = averages
        self.rng = rng
        self.serial = 0
        self.lock = threading.Lock()
        self.count = sum(1 for _ in items(doc))

    def next(self) -> str:
        with self.lock:
            self._advance()
            return json.dumps(self.doc, separators=(",", ":"))

    def _advance(self) -> None:
        self.now_ms += 1000
        self.doc["now"] = self.now_ms
        for pipeline in self.doc["pipelines"]:
            for queue in pipeline["change_queues"]:
                for head in queue["heads"]:
                    for item in head:
                        self._advance_item(item)
        check = next(p for p in self.doc["pipelines"] if p["name"] == "check")
        queues = check["change_queues"]
        # two items leave at the head, two arrive at the tail: 500 stay 500
        for _ in range(min(2, len(queues) - 1)):
            gone = queues.pop(0)
            fresh = copy.deepcopy(gone)
            self.serial += 1
            for head in fresh["heads"]:
                for item in head:
                    item["id"] = f"bench-{self.serial}-{item['id']}"
                    item["enqueue_time"] = self.now_ms
                    for ref in item["refs"]:
                        ref["id"] = f"{90000 + self.serial},1"
                        ref["change"] = 90000 + self.serial
                    for job in item["jobs"]:
                        job.update(result=None, start_time=None, elapsed_time=None, uuid=None)
            queues.append(fresh)
        add_estimates(self.doc, self.averages)

    def _advance_item(self, item: dict[str, Any]) -> None:
        rng = self.rng
        done = {j["name"] for j in item["jobs"] if j["result"] == "SUCCESS"}
        for job in item["jobs"]:
            if job["result"] is not None:
                continue
            if job["start_time"] is not None:
                job["elapsed_time"] = (job["elapsed_time"] or 0) + 1000
                if rng.random() < 1 / 120:
                    job["result"] = "FAILURE" if rng.random() < 0.1 else "SUCCESS"
                    job["report_url"] = f"https://logs.example/{job['uuid']}/"
                    if job["result"] == "FAILURE" and job["voting"]:
                        item["failing_reasons"] = ["at least one job failed"]
            elif all(d in done for d in job["dependencies"]) and rng.random() < 0.2:
                self.serial += 1
                job.update(
                    uuid=f"b{self.serial:031x}", start_time=self.now_ms // 1000, elapsed_time=0
                )
        item["remaining_time"] = None


def _summary(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, ordered[-1]


def measure(page: Page, url: str, updates: int) -> dict[str, list[float]]:
    page.goto(url)
    # polled from here: the page's Content-Security-Policy forbids the eval
    # that Playwright's wait_for_function would need
    wanted = WARMUP + updates
    for _ in range(wanted * 40 + 200):
        if page.evaluate("window.lockgateStatus ? window.lockgateStatus.updates : 0") >= wanted:
            break
        page.wait_for_timeout(100)
    else:
        raise RuntimeError(f"the page did not update {wanted} times")
    timings = page.evaluate("window.lockgateStatus.timings")[WARMUP : WARMUP + updates]
    shown = page.locator("article.item").count()
    print(f"  {url.rsplit('/', 1)[-1]}: {len(timings)} updates of {shown} items", flush=True)
    return {key: [t[key] for t in timings] for key in ("parse", "update", "layout", "total")}


def _passable(folder: Path) -> Path:
    # the site's local nodes run as another user, who must pass through it
    folder.chmod(0o755)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--updates", type=int, default=30)
    args = parser.parse_args()
    feed = Feed(args.items)
    print(f"items in the document: {feed.count}; {len(feed.next()) / 1024:.0f} KiB", flush=True)

    def answer(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=feed.next())

    results: dict[tuple[str, str], dict[str, list[float]]] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        live_server(_passable(Path(tmp)) / "site") as server,
        sync_playwright() as playwright,
    ):
        browser = launch(playwright)
        for folded in (True, False):
            for mode, query in (("incremental", ""), ("from scratch", "?render=full")):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                if not folded:
                    context.add_init_script("localStorage.setItem('lockgate.status.expand', '1')")
                page = context.new_page()
                page.route("**/api/tenant/main/status", answer)
                jobs = "jobs folded" if folded else "jobs unfolded"
                print(f"{jobs}, {mode} ...", flush=True)
                results[(jobs, mode)] = measure(
                    page, f"{server.url}t/main/status{query}", args.updates
                )
                context.close()
        browser.close()

    print()
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at the end: {load} on {os.cpu_count()} cores")
    print(f"per update, ms (p50 / p95 / max of {args.updates}; frame budget {FRAME_MS:.1f} ms)")
    columns = ("DOM update", "style+layout", "total", "JSON.parse (control)")
    print(f"{'':34}" + "".join(f" {name:>22}" for name in columns))
    for (jobs, mode), t in results.items():
        cells = []
        for key in ("update", "layout", "total", "parse"):
            p50, p95, top = _summary(t[key])
            cells.append(f"{p50:5.1f} /{p95:5.1f} /{top:6.1f}")
        print(f"{jobs + ', ' + mode:34}" + "".join(f" {cell:>22}" for cell in cells))
    print()
    for jobs in ("jobs folded", "jobs unfolded"):
        mine = _summary(results[(jobs, "incremental")]["total"])
        base = _summary(results[(jobs, "from scratch")]["total"])
        print(
            f"{jobs}: incremental p50 {mine[0]:.1f} ms = {mine[0] / FRAME_MS:.2f} of a frame, "
            f"p95 {mine[1]:.1f} ms = {mine[1] / FRAME_MS:.2f}; from scratch p50 {base[0]:.1f} ms, "
            f"p95 {base[1]:.1f} ms = {base[1] / FRAME_MS:.1f} frames; "
            f"from scratch / incremental: {base[0] / mine[0]:.0f}x at p50, "
            f"{base[1] / mine[1]:.0f}x at p95"
        )


if __name__ == "__main__":
    main()

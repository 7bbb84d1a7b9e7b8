"""A change in the gate shows its place in the queue on its page, and once the
gate has reported, the CI results table holds the scheduler's own report."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import httpx
import pytest

from lockgate.testing.gate_harness import GateHarness
from lockgate.testing.gate_layouts import PIPELINES, PROJECTS
from lockgate.web.app import create_app


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[GateHarness]:
    harness = GateHarness.create(tmp_path / "site", layout=PIPELINES, projects=PROJECTS)
    yield harness
    harness.close()


def _get(gate: GateHarness, path: str) -> httpx.Response:
    """The page from the app in process: its lifespan would start the scheduler's
    own loop, and this story steps the scheduler itself. In a thread of its own,
    since the browser tests' Playwright keeps an event loop in this one."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(gate.services))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(anyio.run, call).result()


def test_the_page_shows_the_queue_position_then_the_gates_report(gate: GateHarness) -> None:
    gate.executor.hold_jobs_in_build = True
    a = gate.change("org/project", "A")
    b = gate.change("org/project", "B")
    gate.approve(a)
    gate.approve(b)
    gate.settle()

    page = _get(gate, f"/c/org/project/+/{b.number}").text
    assert 'aria-label="Queues"' in page
    assert '<span class="pipeline">gate</span>' in page
    assert "position 2 of 2" in page
    assert 'href="/t/main/status"' in page

    gate.executor.hold_jobs_in_build = False
    gate.executor.release()
    gate.settle()
    assert gate.status(b) == "MERGED"
    page = _get(gate, f"/c/org/project/+/{b.number}").text
    assert 'aria-label="Queues"' not in page
    assert '<span class="state merged">Merged</span>' in page
    # The gate's own report, job by job, with each job's logs linked.
    assert '<span class="pipeline">gate</span>' in page
    for job in ("project-merge", "project-test1", "project-test2"):
        assert f">{job}</a>" in page
    assert '<td class="result SUCCESS">SUCCESS</td>' in page

"""The live console: a client follows a running build's job-output.txt over
server-sent events, resumes where it left off, and hears the build end."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from lockgate.adapters.db import gate_store
from lockgate.core.nodes.log_paths import build_log_path
from lockgate.services.build_logs import BuildLogs
from lockgate.testing.server import LiveServer

UUID = "5f0c2a9e7d4b4c1e8a3b2d1c0f9e8d7c"


def _record_build(server: LiveServer, uuid: str = UUID) -> None:
    """The history row the scheduler writes before it starts a build, of a
    project anyone may read."""
    if server.services.projects.find("org/app") is None:
        server.services.projects.create("org/app")
    with server.services.engine.begin() as conn:
        gate_store.add_build(
            conn,
            gate_store.BuildRow(
                uuid=uuid,
                buildset="bs1",
                tenant="main",
                pipeline="check",
                job="unit",
                project="org/app",
                branch="main",
                ref="refs/changes/34/1234/2",
                change=1234,
                patchset=2,
                changes="1234,2",
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


def _finish(server: LiveServer, result: str, log_url: str, uuid: str = UUID) -> None:
    with server.services.engine.begin() as conn:
        gate_store.finish_build(
            conn, uuid, result=result, started_us=2, ended_us=3, log_url=log_url, error=""
        )


def _logs(server: LiveServer) -> BuildLogs:
    logs = server.services.build_logs
    assert logs is not None
    return logs


PATH = build_log_path(
    build=UUID,
    job="unit",
    pipeline="check",
    project="org/app",
    branch="main",
    change=1234,
    patchset=2,
    newrev=None,
)


@dataclass
class Event:
    id: str | None = None
    name: str = "message"
    data: list[str] = field(default_factory=list)


def _events(response: httpx.Response) -> Iterator[Event]:
    event = Event()
    for line in response.iter_lines():
        if not line:
            if event.data or event.id is not None:
                yield event
            event = Event()
        elif line.startswith(":") or line.startswith("retry:"):
            continue
        elif line.startswith("id: "):
            event.id = line[4:]
        elif line.startswith("event: "):
            event.name = line[7:]
        elif line.startswith("data: "):
            event.data.append(line[6:])


class Reader(threading.Thread):
    """A console client in the background, handing events over as they come."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.headers = headers or {}
        self.events: queue.Queue[Event | BaseException] = queue.Queue()

    def run(self) -> None:
        try:
            with httpx.stream("GET", self.url, headers=self.headers, timeout=30) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                for event in _events(response):
                    self.events.put(event)
        except BaseException as error:  # handed to the test, which fails with it
            self.events.put(error)

    def next(self, within: float) -> Event:
        item = self.events.get(timeout=within)
        if isinstance(item, BaseException):
            raise item
        return item

    def lines_until(self, wanted: str, within: float) -> tuple[list[str], Event]:
        seen: list[str] = []
        deadline = time.monotonic() + within
        while True:
            event = self.next(max(deadline - time.monotonic(), 0.01))
            seen.extend(event.data)
            if wanted in event.data:
                return seen, event


def test_lines_a_build_writes_reach_the_client_then_the_end(server: LiveServer) -> None:
    _record_build(server)
    folder = _logs(server).register(UUID, PATH)
    assert _logs(server).path_of(UUID) == PATH
    console = folder / "job-output.txt"
    console.write_text("")
    url = _logs(server).console_url("main", UUID)
    assert url == f"{server.url}api/tenant/main/console-stream/{UUID}"
    reader = Reader(url)
    reader.start()

    lines = [f"TASK [step {n}] <ok>" for n in range(5)]
    with console.open("a") as out:
        for line in lines:
            out.write(line + "\n")
            out.flush()
            # The brief: a written line reaches the client within a second.
            seen, _ = reader.lines_until(line, within=1.0)
            assert seen[-1] == line
        out.write("last words without a newline")

    _finish(server, "SUCCESS", f"{server.url}logs/{PATH}/")
    rest, _ = reader.lines_until("last words without a newline", within=5)
    assert rest == ["last words without a newline"], "nothing is sent twice"
    end = reader.next(within=5)
    assert end.name == "end"
    assert json.loads(end.data[0]) == {
        "result": "SUCCESS",
        "log_url": f"{server.url}logs/{PATH}/",
    }
    assert end.id == str(console.stat().st_size)
    reader.join(timeout=5)
    assert not reader.is_alive(), "the stream closes after the end"


def test_a_client_resumes_from_the_offset_it_last_saw(server: LiveServer) -> None:
    _record_build(server)
    folder = _logs(server).register(UUID, PATH)
    first = "one\ntwo\n"
    (folder / "job-output.txt").write_text(first + "three\nfour\n")
    _finish(server, "FAILURE", "")
    url = f"{server.url}api/tenant/main/console-stream/{UUID}"

    for headers, query in (({"Last-Event-ID": str(len(first))}, ""), ({}, f"?offset={len(first)}")):
        reader = Reader(url + query, headers)
        reader.start()
        lines, _ = reader.lines_until("four", within=5)
        assert lines == ["three", "four"]
        end = reader.next(within=5)
        assert end.name == "end" and json.loads(end.data[0])["result"] == "FAILURE"


def test_the_console_of_a_finished_build_reads_its_gzipped_log(server: LiveServer) -> None:
    _record_build(server)
    folder = _logs(server).register(UUID, PATH)
    text = "".join(f"line {n}\n" for n in range(20000))
    (folder / "job-output.txt").write_text(text)
    store = server.services.log_store
    assert store is not None
    url = store.finish(PATH)
    assert not (folder / "job-output.txt").exists()
    _finish(server, "SUCCESS", url)

    reader = Reader(f"{server.url}api/tenant/main/console-stream/{UUID}", {"Last-Event-ID": "100"})
    reader.start()
    lines, _ = reader.lines_until("line 19999", within=10)
    assert "".join(line + "\n" for line in lines) == text[100:]
    assert reader.next(within=5).name == "end"


def test_unknown_builds_and_bad_offsets_are_refused(server: LiveServer, tmp_path: Path) -> None:
    _record_build(server)
    base = f"{server.url}api/tenant"
    assert httpx.get(f"{base}/main/console-stream/nope", timeout=10).status_code == 404
    assert httpx.get(f"{base}/other/console-stream/{UUID}", timeout=10).status_code == 404
    bad = httpx.get(f"{base}/main/console-stream/{UUID}?offset=x", timeout=10)
    assert bad.status_code == 400 and "offset" in bad.text
    with pytest.raises(Exception, match="not in the build history"):
        _logs(server).register("never-recorded", PATH)


def test_a_client_that_comes_before_the_build_starts_gets_its_console(
    server: LiveServer,
) -> None:
    _record_build(server)
    reader = Reader(_logs(server).console_url("main", UUID))
    reader.start()
    time.sleep(0.5)  # the stream is open, and there is no log folder yet

    folder = _logs(server).register(UUID, PATH)
    (folder / "job-output.txt").write_text("the build started\n")

    lines, _ = reader.lines_until("the build started", within=5)
    assert lines == ["the build started"]
    _finish(server, "SUCCESS", "")
    assert reader.next(within=5).name == "end"

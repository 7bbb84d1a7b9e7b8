"""A server-sent events reader for tests, on httpx's line iterator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from lockgate.testing.server import LiveServer


@dataclass(frozen=True)
class Received:
    id: int
    data: dict[str, Any]

    @property
    def type(self) -> str:
        kind: str = self.data["type"]
        return kind


class EventReader:
    """One connection to `/a/events`; `start` is the seq the server said it
    streams after, read from its first comment."""

    def __init__(
        self,
        server: LiveServer,
        auth: tuple[str, str],
        *,
        params: dict[str, Any] | None = None,
        last_event_id: int | None = None,
    ) -> None:
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        # The read timeout only keeps a broken test from hanging: heartbeats
        # arrive every 15 s.
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=60), auth=auth)
        request = self._client.build_request(
            "GET", f"{server.url}a/events", params=params, headers=headers
        )
        self.response = self._client.send(request, stream=True)
        assert self.response.status_code == 200, self.response.read()
        assert self.response.headers["content-type"].startswith("text/event-stream")
        self._lines: Iterator[str] = self.response.iter_lines()
        self.comments: list[str] = []
        self.start = -1
        while self.start < 0:
            line = next(self._lines)
            if line.startswith(": events after "):
                self.start = int(line.removeprefix(": events after "))

    def next(self) -> Received:
        """The next event, skipping comments and other fields."""
        seq: int | None = None
        data: list[str] = []
        for line in self._lines:
            if line == "":
                if data:
                    assert seq is not None, "an event without an id"
                    return Received(seq, json.loads("\n".join(data)))
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "":
                self.comments.append(value)
            elif field == "id":
                seq = int(value)
            elif field == "data":
                data.append(value)
        raise AssertionError("the stream ended")

    def take(self, count: int) -> list[Received]:
        return [self.next() for _ in range(count)]

    def close(self) -> None:
        self.response.close()
        self._client.close()

    def __enter__(self) -> EventReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

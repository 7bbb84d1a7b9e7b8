"""Where each build's logs are, and its live console.

The executor registers a build's log path when it starts it (the folder then
exists in the store and `job-output.txt` grows there); the console follows that
file until the build has a result in the history, then reads what is left and
ends.
"""

from __future__ import annotations

import asyncio
import gzip
import time
import urllib.parse
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from lockgate.adapters.db import gate_store
from lockgate.adapters.logstore.filesystem import CONSOLE, FilesystemLogStore, split_path
from lockgate.services.errors import NotFound
from lockgate.services.node_ports import LogStore

# How often the console looks at the file, and at the build's result.
POLL = 0.2
RESULT_POLL = 1.0
# One read's most bytes: a console that fell far behind catches up in steps.
CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True)
class ConsoleLines:
    """Lines of the console; `offset` is the byte offset just after them, the
    point to resume from."""

    lines: list[str]
    offset: int


@dataclass(frozen=True, slots=True)
class ConsoleEnd:
    result: str
    log_url: str | None
    offset: int


@dataclass(frozen=True, slots=True)
class ConsoleWait:
    """Nothing new for a while: a point for the stream to send a keep-alive."""

    offset: int


ConsoleItem = ConsoleLines | ConsoleEnd | ConsoleWait


class BuildLogs:
    def __init__(self, engine: Engine, store: FilesystemLogStore, server_url: str = "") -> None:
        self.engine = engine
        self.store = store
        self.server_url = server_url

    def console_url(self, tenant: str, build_uuid: str) -> str:
        """The live console's URL, for a running build's `url` (BuildStarted.url),
        which the status page links its job to until the log URL replaces it."""
        quoted = urllib.parse.quote(tenant, safe="")
        return f"{self.server_url}api/tenant/{quoted}/console-stream/{build_uuid}"

    def register(self, build_uuid: str, path: str) -> Path:
        """Record that `build_uuid` writes its logs at `path` (from
        core/nodes/log_paths.build_log_path); returns the folder to write in."""
        split_path(path)  # a bad path is refused before it is stored
        with self.engine.begin() as conn:
            if not gate_store.set_log_path(conn, build_uuid, path):
                raise NotFound(
                    f"build {build_uuid}: not in the build history; register its logs "
                    "after the scheduler has recorded the build"
                )
        return self.store.folder(path)

    def path_of(self, build_uuid: str) -> str | None:
        with self.engine.connect() as conn:
            state = gate_store.build_log_state(conn, build_uuid)
        return None if state is None else state.log_path

    def _state(self, tenant: str | None, build_uuid: str) -> gate_store.BuildLogState:
        with self.engine.connect() as conn:
            state = gate_store.build_log_state(conn, build_uuid)
        if state is None or (tenant is not None and state.tenant != tenant):
            where = f" in tenant {tenant}" if tenant is not None else ""
            raise NotFound(f"build {build_uuid}: no such build{where}")
        return state

    async def console(
        self,
        build_uuid: str,
        *,
        tenant: str | None = None,
        offset: int = 0,
        poll: float = POLL,
        heartbeat: float = 15.0,
    ) -> AsyncGenerator[ConsoleItem, None]:
        """The build's `job-output.txt` from byte `offset`: whole lines as they
        are written, then the rest and a ConsoleEnd once the build has ended."""
        state = await asyncio.to_thread(self._state, tenant, build_uuid)
        pending = b""
        position = offset
        last_check = time.monotonic()
        last_sent = last_check
        while True:
            ended = state.result is not None
            data = await asyncio.to_thread(self._read, state.log_path, position)
            position += len(data)
            pending += data
            if ended:
                # The file is complete: a last line without a newline counts too.
                while len(data) == CHUNK:
                    data = await asyncio.to_thread(self._read, state.log_path, position)
                    position += len(data)
                    pending += data
                if pending:
                    yield ConsoleLines(_lines(pending), position)
                assert state.result is not None
                yield ConsoleEnd(state.result, state.log_url, position)
                return
            cut = pending.rfind(b"\n") + 1
            now = time.monotonic()
            if cut:
                yield ConsoleLines(_lines(pending[:cut]), position - len(pending) + cut)
                pending = pending[cut:]
                last_sent = now
            elif now - last_sent >= heartbeat:
                yield ConsoleWait(position - len(pending))
                last_sent = now
            if len(data) == CHUNK:
                continue
            if now - last_check >= RESULT_POLL:
                state = await asyncio.to_thread(self._state, tenant, build_uuid)
                last_check = now
            await asyncio.sleep(poll)

    def _read(self, log_path: str | None, offset: int) -> bytes:
        if log_path is None:
            return b""
        found = self.store.console_file(log_path)
        if found is None:
            return b""
        if found.gzipped:
            # Compressed when the build finished: a reader that resumes after
            # that reads through the gzip stream to its offset.
            with gzip.open(found.disk, "rb") as packed:
                packed.seek(offset)
                return packed.read(CHUNK)
        with found.disk.open("rb") as plain:
            plain.seek(offset)
            return plain.read(CHUNK)


def _is_log_store(store: FilesystemLogStore) -> LogStore:
    """Never called: mypy checks here that the filesystem store fits the port."""
    return store


def _lines(data: bytes) -> list[str]:
    text = data.decode("utf-8", errors="replace")
    if text.endswith("\n"):
        text = text[:-1]
    return [line.rstrip("\r") for line in text.split("\n")]


__all__ = ["CONSOLE", "BuildLogs", "ConsoleEnd", "ConsoleItem", "ConsoleLines", "ConsoleWait"]

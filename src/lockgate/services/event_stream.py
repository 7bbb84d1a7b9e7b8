"""The event log as its readers see it: pages of the events they may see, and
a follower that yields new events as they commit.

Waking is by `EventLogSignal`, raised after each commit in this process that
appended an event; a slow poll catches writers in other processes. Database
reads run in worker threads so that the event loop never waits on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncGenerator, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import anyio.to_thread
from sqlalchemy import Connection, Engine

from lockgate.adapters.db import event_store
from lockgate.adapters.db.engine import read_transaction
from lockgate.adapters.db.event_reads import visible_changes
from lockgate.adapters.db.event_signal import EventLogSignal
from lockgate.adapters.db.event_store import StoredEvent
from lockgate.core.review.model import Account
from lockgate.services.accounts import AccountService
from lockgate.services.permissions import Permissions
from lockgate.services.projects import ProjectService

# How many rows one read takes from the log.
PAGE = 500


@dataclass(frozen=True, slots=True)
class Page:
    events: list[StoredEvent]  # those the reader may see
    scanned_to: int  # the seq the read got to, hidden events included
    more: bool  # whether the log holds more after `scanned_to`


class EventStream:
    def __init__(
        self,
        *,
        engine: Engine,
        signal: EventLogSignal,
        accounts: AccountService,
        projects: ProjectService,
        permissions: Permissions,
        poll_interval: float = 2.0,
    ) -> None:
        self.engine = engine
        self.signal = signal
        self.accounts = accounts
        self.projects = projects
        self.permissions = permissions
        self.poll_interval = poll_interval
        self.followers = 0  # open follow() generators, for tests and metrics

    def last_seq(self) -> int:
        with read_transaction(self.engine) as conn:
            return event_store.last_seq(conn)

    def page(
        self,
        after: int,
        *,
        viewer: Account,
        limit: int = PAGE,
        types: Collection[str] = (),
    ) -> Page:
        """Up to `limit` events after `after` that `viewer` may see, oldest first.
        Reads on past hidden events until it has `limit` or the log ends."""
        found: list[StoredEvent] = []
        cursor = after
        admin: bool | None = None
        readable: dict[str, bool] = {}
        while len(found) < limit:
            want = limit - len(found)
            with read_transaction(self.engine) as conn:
                if admin is None:
                    # Asked afresh for every page, in the page's own read.
                    admin = self.accounts.is_admin(viewer, conn=conn)
                rows = event_store.events_after(conn, cursor, want, types=types)
                found += rows if admin else self._visible(conn, rows, viewer, readable)
            if len(rows) < want:
                return Page(found, rows[-1].seq if rows else cursor, more=False)
            cursor = rows[-1].seq
        return Page(found, cursor, more=True)

    def _visible(
        self,
        conn: Connection,
        rows: list[StoredEvent],
        viewer: Account,
        readable: dict[str, bool],
    ) -> list[StoredEvent]:
        for name in {row.project for row in rows if row.project is not None} - readable.keys():
            project = self.projects.find(name)
            readable[name] = project is not None and self.permissions.can_read(viewer, project)
        numbers = {row.change_number for row in rows if row.change_number is not None}
        changes = visible_changes(conn, numbers, viewer.id)
        return [
            row
            for row in rows
            if (row.project is None or readable[row.project])
            and (row.change_number is None or row.change_number in changes)
        ]

    async def follow(
        self,
        after: int,
        *,
        viewer: Account,
        types: Collection[str] = (),
        heartbeat: float = 15.0,
    ) -> AsyncGenerator[list[StoredEvent], None]:
        """Events after `after` that `viewer` may see, in batches as they commit,
        without end; an empty batch after `heartbeat` seconds with nothing to send."""
        loop = asyncio.get_running_loop()
        self.followers += 1
        try:
            with commit_wakeups(self.signal) as wake:
                cursor = after
                quiet_since = loop.time()
                while True:
                    # Cleared before the read: a commit during it wakes the next wait.
                    wake.clear()
                    read = functools.partial(self.page, cursor, viewer=viewer, types=types)
                    page = await anyio.to_thread.run_sync(read)
                    cursor = page.scanned_to
                    if page.events:
                        yield page.events
                        quiet_since = loop.time()
                    if page.more:
                        continue
                    quiet = loop.time() - quiet_since
                    if quiet >= heartbeat:
                        yield []
                        quiet_since = loop.time()
                        continue
                    await wait_for(wake, min(self.poll_interval, heartbeat - quiet))
        finally:
            self.followers -= 1


@contextmanager
def commit_wakeups(signal: EventLogSignal) -> Iterator[asyncio.Event]:
    """An event of the running loop, set after each commit that appended to the log."""
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def on_commit() -> None:
        # The committing thread is not the loop's; a closed loop has no one to wake.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(wake.set)

    unsubscribe = signal.subscribe(on_commit)
    try:
        yield wake
    finally:
        unsubscribe()


async def wait_for(event: asyncio.Event, seconds: float) -> bool:
    """Wait until `event` is set or `seconds` pass; whether it was set."""
    if event.is_set():
        return True
    # A timeout scope, not wait_for, which wraps the wait in a task of its own.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()

"""Webhooks: every event of the log POSTed, in order, to each configured URL.

One worker per webhook reads the log after its cursor, POSTs each event it
takes and retries a failed one with growing pauses until it succeeds, so that
no event is skipped. The cursor moves in the database only after a success,
in the transaction that records the attempt: a restart (or a crash) resumes
at the first event not known to be delivered, which the receiver may then get
twice. Receivers dedupe by the delivery id, the event's seq.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

import anyio.to_thread
from sqlalchemy import Engine

from lockgate.adapters.db import event_store, webhook_store
from lockgate.adapters.db.engine import read_transaction, write_transaction
from lockgate.adapters.db.event_signal import EventLogSignal
from lockgate.adapters.db.event_store import StoredEvent
from lockgate.adapters.db.webhook_store import Delivery
from lockgate.adapters.site import Site, WebhookSettings
from lockgate.adapters.webhook_client import PostOutcome, WebhookClient
from lockgate.core import webhooks as rules
from lockgate.services.clock import Clock
from lockgate.services.errors import NotFound
from lockgate.services.event_stream import commit_wakeups, wait_for

log = logging.getLogger(__name__)

T = TypeVar("T")

# Events one read of the log takes.
_BATCH = 200
# How long stop() lets a POST in flight finish before cancelling it.
_STOP_GRACE = 5.0


@dataclass(frozen=True, slots=True)
class Webhook:
    name: str
    url: str
    secret: bytes
    types: frozenset[str]  # empty: every type
    projects: frozenset[str]  # empty: every project
    timeout: float
    min_backoff: float
    max_backoff: float

    @classmethod
    def from_settings(cls, site: Site, settings: WebhookSettings) -> Webhook:
        return cls(
            name=settings.name,
            url=settings.url,
            secret=site.webhook_secret(settings),
            types=frozenset(settings.events),
            projects=frozenset(settings.projects),
            timeout=settings.timeout,
            min_backoff=settings.min_backoff,
            max_backoff=settings.max_backoff,
        )

    def takes(self, event: StoredEvent) -> bool:
        return rules.wanted(event.type, event.project, types=self.types, projects=self.projects)


@dataclass(frozen=True, slots=True)
class WebhookStatus:
    webhook: Webhook
    delivered_seq: int | None  # None until its worker first started
    last_seq: int
    running: bool

    @property
    def lag(self) -> int:
        """How many seqs of the log the webhook has still to pass."""
        return max(0, self.last_seq - (self.delivered_seq or 0))


class Poster(Protocol):
    """The HTTP side of a delivery (adapters/webhook_client.py)."""

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, timeout: float
    ) -> PostOutcome: ...

    async def aclose(self) -> None: ...


class WebhookService:
    def __init__(
        self,
        *,
        engine: Engine,
        signal: EventLogSignal,
        clock: Clock,
        webhooks: list[Webhook],
        poster: Callable[[], Poster] = WebhookClient,
        poll_interval: float = 2.0,
    ) -> None:
        self.engine = engine
        self.signal = signal
        self.clock = clock
        self.webhooks = webhooks
        self._make_poster = poster
        self.poll_interval = poll_interval
        self._workers: list[_Worker] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._poster: Poster | None = None

    # --- reading, for the admin API ------------------------------------------

    def find(self, name: str) -> Webhook:
        for hook in self.webhooks:
            if hook.name == name:
                return hook
        known = ", ".join(h.name for h in self.webhooks) or "none are configured"
        raise NotFound(f"Not found: webhook {name} (webhooks: {known})")

    def status(self) -> list[WebhookStatus]:
        with read_transaction(self.engine) as conn:
            cursors = webhook_store.cursors(conn)
            last = event_store.last_seq(conn)
        pairs = zip(self._workers, self._tasks, strict=True)
        running = {worker.hook.name for worker, task in pairs if not task.done()}
        return [
            WebhookStatus(hook, cursors.get(hook.name), last, hook.name in running)
            for hook in self.webhooks
        ]

    def deliveries(self, name: str, *, limit: int, start: int) -> list[Delivery]:
        self.find(name)
        with read_transaction(self.engine) as conn:
            return webhook_store.deliveries(conn, name, limit=limit, start=start)

    # --- running ---------------------------------------------------------------

    async def start(self) -> None:
        """Start one worker per webhook on the running event loop."""
        if self._tasks or not self.webhooks:
            return
        self._poster = self._make_poster()
        for hook in self.webhooks:
            worker = _Worker(self, hook, self._poster)
            self._workers.append(worker)
            self._tasks.append(asyncio.create_task(worker.supervise(), name=f"webhook-{hook.name}"))

    async def stop(self) -> None:
        """Stop the workers: idle ones at once, one in a POST when it is answered
        (or after a grace period, cancelled: its event is sent again next start)."""
        for worker in self._workers:
            worker.stop()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=_STOP_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._poster is not None:
            await self._poster.aclose()
        self._workers, self._tasks, self._poster = [], [], None


class _Stopped(Exception):
    pass


async def _in_thread(call: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(call)


class _Worker:
    def __init__(self, service: WebhookService, hook: Webhook, poster: Poster) -> None:
        self.service = service
        self.hook = hook
        self.poster = poster
        self.wake = asyncio.Event()
        self.stopping = asyncio.Event()
        self._resume: tuple[int, int] | None = None  # (seq, attempts made) of one in flight

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    async def supervise(self) -> None:
        """Run; when the database fails under it, log, pause and run again."""
        failures = 0
        with commit_wakeups(self.service.signal) as self.wake:
            while not self.stopping.is_set():
                try:
                    await self.run()
                except _Stopped:
                    return
                except Exception:
                    failures += 1
                    log.exception("webhook %s: delivery stopped by an error", self.hook.name)
                    try:
                        await self.pause(self.backoff(failures))
                    except _Stopped:
                        return

    def backoff(self, failures: int) -> float:
        return rules.backoff(failures, initial=self.hook.min_backoff, cap=self.hook.max_backoff)

    async def pause(self, seconds: float) -> None:
        """Sleep, unless asked to stop (then raise _Stopped)."""
        if await wait_for(self.stopping, seconds):
            raise _Stopped

    async def run(self) -> None:
        cursor = await _in_thread(self.start_cursor)
        while True:
            self.wake.clear()
            if self.stopping.is_set():
                raise _Stopped
            read = functools.partial(self.read, cursor)
            rows = await _in_thread(read)
            if not rows:
                await wait_for(self.wake, self.service.poll_interval)
                continue
            delivered = cursor
            for row in rows:
                if self.hook.takes(row):
                    await self.deliver(row)
                    delivered = row.seq
                cursor = row.seq
            if cursor != delivered:
                # The batch ended with events this webhook does not take: step past them.
                advance = functools.partial(self.advance, cursor)
                await _in_thread(advance)

    # --- database, in worker threads -------------------------------------------

    def start_cursor(self) -> int:
        """The cursor; a webhook seen for the first time starts at the end of the log."""
        with write_transaction(self.service.engine) as conn:
            cursor = webhook_store.cursor(conn, self.hook.name)
            if cursor is None:
                cursor = event_store.last_seq(conn)
                webhook_store.start_cursor(conn, self.hook.name, cursor)
                log.info("webhook %s: new, starts after event %d", self.hook.name, cursor)
            newest = webhook_store.deliveries(conn, self.hook.name, limit=1, start=0)
        if newest and newest[0].event_seq > cursor and not newest[0].succeeded:
            self._resume = (newest[0].event_seq, newest[0].attempt)
        return cursor

    def read(self, cursor: int) -> list[StoredEvent]:
        with read_transaction(self.service.engine) as conn:
            return event_store.events_after(conn, cursor, _BATCH)

    def advance(self, seq: int) -> None:
        with write_transaction(self.service.engine) as conn:
            webhook_store.advance_cursor(conn, self.hook.name, seq)

    def record(self, event: StoredEvent, attempt: int, outcome: PostOutcome, ok: bool) -> None:
        with write_transaction(self.service.engine) as conn:
            webhook_store.record_attempt(
                conn,
                webhook=self.hook.name,
                event_seq=event.seq,
                attempt=attempt,
                attempted_at=self.service.clock(),
                status_code=outcome.status,
                error=outcome.error,
                succeeded=ok,
                duration_ms=outcome.duration_ms,
            )
            if ok:
                webhook_store.advance_cursor(conn, self.hook.name, event.seq)

    # --- delivery ----------------------------------------------------------------

    async def deliver(self, event: StoredEvent) -> None:
        """POST `event` until it succeeds; only stopping ends this sooner."""
        body = json.dumps(event.payload, separators=(",", ":")).encode()
        attempt = 0
        if self._resume is not None and self._resume[0] == event.seq:
            attempt = self._resume[1]
        self._resume = None
        while True:
            if self.stopping.is_set():
                raise _Stopped
            attempt += 1
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "lockgate-webhooks",
                rules.EVENT_HEADER: event.type,
                rules.DELIVERY_HEADER: str(event.seq),
                rules.ATTEMPT_HEADER: str(attempt),
                rules.WEBHOOK_HEADER: self.hook.name,
                rules.SIGNATURE_HEADER: rules.sign(self.hook.secret, body),
            }
            outcome = await self.poster.post(
                self.hook.url, body, headers, timeout=self.hook.timeout
            )
            ok = rules.succeeded(outcome.status)
            record = functools.partial(self.record, event, attempt, outcome, ok)
            await _in_thread(record)
            if ok:
                return
            # Attempts made before a restart count: the pause keeps growing.
            delay = self.backoff(attempt)
            log.warning(
                "webhook %s: event %d attempt %d failed (%s); retrying in %.1f s",
                self.hook.name,
                event.seq,
                attempt,
                outcome.error,
                delay,
            )
            await self.pause(delay)

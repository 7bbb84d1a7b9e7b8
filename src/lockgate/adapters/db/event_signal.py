"""A signal that a transaction which appended to the event log has committed.

Consumers of the log (the event stream, webhooks) wait on it instead of
polling the database often. It is raised for every writer of this engine,
whatever service it is: `append_event` (the only writer of `events`) marks the
connection, the transaction's commit arms the mark, and the mark fires once
the commit is done (when the connection goes back to the pool or begins its
next transaction), so that a woken consumer's read sees the new rows.
SQLAlchemy's `commit` event itself runs before the database has committed.
The mark is set by the append itself rather than by a listener on every
statement, which would cost each statement of every transaction.

Writers in other processes do not raise it; consumers poll slowly as well.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, event

_APPENDED = "lockgate.event_appended"
_COMMITTED = "lockgate.event_committed"

Listener = Callable[[], None]


def mark_appended(conn: Connection) -> None:
    """Note that `conn`'s transaction appended to the event log."""
    conn.info[_APPENDED] = True


class EventLogSignal:
    """Calls its listeners, from the committing thread, after each such commit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` after every commit that appended events; returns the
        function that stops it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    @property
    def listeners(self) -> int:
        with self._lock:
            return len(self._listeners)

    def notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()


def watch_event_log(engine: Engine) -> EventLogSignal:
    """A signal raised after every commit on `engine` that appended an event."""
    signal = EventLogSignal()

    def fire(info: dict[Any, Any]) -> None:
        if info.pop(_COMMITTED, False):
            signal.notify()

    @event.listens_for(engine, "commit")
    def _commit(conn: Any) -> None:
        if conn.info.pop(_APPENDED, False):
            conn.info[_COMMITTED] = True

    @event.listens_for(engine, "rollback")
    def _rollback(conn: Any) -> None:
        conn.info.pop(_APPENDED, None)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        fire(conn.info)

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            fire(record.info)

    return signal

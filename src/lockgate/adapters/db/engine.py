"""Database engines for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

WRITE_OPTION = "lockgate_write"

# SQLite's writers queue in the process on a lock before BEGIN IMMEDIATE: one
# that waits on the database lock instead polls it with sleeps of up to 100 ms,
# which caps a busy server at a few writes per poll. The busy timeout still
# queues writers from other processes.
_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine with the settings each backend needs for many short transactions.

    SQLite runs in WAL mode with a long busy timeout, and every transaction
    begins IMMEDIATE so that two writers queue instead of failing with
    "database is locked" half way through.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)

    engine = create_engine(
        parsed,
        echo=echo,
        connect_args={"timeout": 60, "check_same_thread": False, "isolation_level": None},
    )

    _WRITE_LOCKS[engine] = threading.RLock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front so that two of them queue on
        # busy_timeout instead of one failing half way; readers stay deferred.
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        # Straight to the driver: every transaction begins, and through
        # SQLAlchemy's execution a BEGIN costs as much as a query.
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: on SQLite it holds the write lock from its start."""
    lock = _WRITE_LOCKS.get(engine)
    if lock is None:
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
            yield conn
        return
    with lock, engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
        yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn

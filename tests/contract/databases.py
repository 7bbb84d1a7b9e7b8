"""Migrated databases on each backend, for module-scoped contract-test fixtures.

The `database_url` fixture is per test; a table of many queries over one seeded
database wants the database to live for the whole module instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine

from lockgate.adapters.db.engine import make_engine
from lockgate.adapters.db.migrate import upgrade
from lockgate.testing.server import postgres_schema

BACKENDS = ["sqlite", "postgresql"]


@contextmanager
def migrated_engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated, empty database on `backend` (skipped for PostgreSQL unless
    LOCKGATE_TEST_POSTGRES_URL is set), disposed of when the block ends."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / "search.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    base = os.environ.get("LOCKGATE_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("set LOCKGATE_TEST_POSTGRES_URL to run against PostgreSQL")
    with postgres_schema(base) as url:
        engine = make_engine(url)
        upgrade(engine)
        yield engine
        engine.dispose()

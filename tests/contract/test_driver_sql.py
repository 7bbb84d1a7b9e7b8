"""Statements run on the driver's cursor (`driver_sql`) answer as SQLAlchemy's
would, inside the caller's transaction, on both databases; a statement they
cannot run as written is refused by name the first time it runs."""

from __future__ import annotations

import pytest
from sqlalchemy import JSON, Column, MetaData, Table, bindparam, select

from lockgate.adapters.db import account_store, event_store, project_store
from lockgate.adapters.db import tables as t
from lockgate.adapters.db.driver_sql import DriverStatement
from lockgate.adapters.db.engine import read_transaction, write_transaction
from lockgate.core.review.model import SubmitType
from tests.contract.databases import BACKENDS, migrated_engine


@pytest.mark.parametrize("backend", BACKENDS)
def test_driver_statements_read_and_write_in_the_callers_transaction(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with migrated_engine(backend, tmp_path_factory) as engine:
        # A rolled-back write is gone for the driver's reads too, and a read
        # in the writing transaction sees what SQLAlchemy wrote in it.
        with pytest.raises(RuntimeError), write_transaction(engine) as conn:
            project_store.insert_project(
                conn,
                name="gone",
                parent=None,
                description=None,
                submit_type=SubmitType.MERGE_IF_NECESSARY,
                now=1,
            )
            assert project_store.project_by_name(conn, "gone") is not None
            raise RuntimeError("roll back")
        with read_transaction(engine) as conn:
            assert project_store.project_by_name(conn, "gone") is None

        with write_transaction(engine) as conn:
            alice = account_store.insert_account(
                conn, username="alice", full_name=None, email=None, password_hash=None, now=5
            )
            first = event_store.append_event(conn, {"type": "one", "n": 1}, now=7, project="p")
            second = event_store.append_event(conn, {"type": "two", "n": 2}, now=8)
        assert second == first + 1
        with read_transaction(engine) as conn:
            # Booleans come back as booleans (SQLite stores 0 and 1).
            found = account_store.account_by_id(conn, alice.id)
            assert found == alice and found.inactive is False
            assert account_store.account_by_id(conn, alice.id + 100) is None
            # LIMIT binds its OFFSET 0 in the statement itself.
            events = event_store.events_after(conn, 0, limit=1)
            assert [(e.seq, e.type, e.project, e.payload) for e in events] == [
                (first, "one", "p", {"type": "one", "n": 1})
            ]
            assert event_store.last_seq(conn) == second

            expanding = DriverStatement(
                select(t.accounts).where(t.accounts.c.id.in_(bindparam("ids", expanding=True)))
            )
            with pytest.raises(TypeError, match="ids: expanding IN"):
                expanding.rows(conn, {"ids": [alice.id]})
            documents = Table("documents", MetaData(), Column("body", JSON))
            typed = DriverStatement(select(documents).where(documents.c.body == bindparam("b")))
            with pytest.raises(TypeError, match="b: JSON"):
                typed.rows(conn, {"b": {}})
            by_id = DriverStatement(select(t.accounts).where(t.accounts.c.id == bindparam("id")))
            with pytest.raises(TypeError, match="'id'"):
                by_id.rows(conn, {})

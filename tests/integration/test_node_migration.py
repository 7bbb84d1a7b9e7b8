"""Migration 0005: the node tables come and go with it, as tables.py declares them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from lockgate.adapters.db import tables
from lockgate.adapters.db.engine import make_engine
from lockgate.adapters.db.migrate import _config, upgrade

NODE_TABLES = {"nodes", "node_requests", "autoholds"}


def test_0005_makes_the_node_tables_as_declared_and_takes_them_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nodes.db'}")
    upgrade(engine, "0005")
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), tables.metadata)
    about_nodes = [d for d in differences if any(name in repr(d) for name in NODE_TABLES)]
    assert about_nodes == []
    assert set(inspect(engine).get_table_names()) >= NODE_TABLES

    command.downgrade(_config(engine), "0004")
    assert not NODE_TABLES & set(inspect(engine).get_table_names())
    engine.dispose()

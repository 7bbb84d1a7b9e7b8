"""Migration 0003: the gating scheduler's tables come and go with it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect

from lockgate.adapters.db.engine import make_engine
from lockgate.adapters.db.migrate import _config, upgrade


def test_0003_adds_done_reports_and_the_parents_index_and_takes_them_back(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    upgrade(engine, "0003")
    schema = inspect(engine)
    assert {c["name"] for c in schema.get_columns("gate_reports")} == {
        "report_id",
        "done_at",
        "merged",
        "error",
    }
    assert "ix_patch_sets_parents" in {i["name"] for i in schema.get_indexes("patch_sets")}

    command.downgrade(_config(engine), "0002")
    schema = inspect(engine)
    assert "gate_reports" not in schema.get_table_names()
    assert "ix_patch_sets_parents" not in {i["name"] for i in schema.get_indexes("patch_sets")}
    engine.dispose()

"""Migration 0010: the table of draft comments comes and goes."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect

from lockgate.adapters.db.engine import make_engine
from lockgate.adapters.db.migrate import _config, upgrade


def test_0010_adds_draft_comments_and_takes_them_back(tmp_path: Path, database_url: str) -> None:
    url = database_url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = f"sqlite:///{tmp_path / 'drafts.db'}"
    engine = make_engine(url)
    upgrade(engine, "0010")
    columns = {c["name"] for c in inspect(engine).get_columns("draft_comments")}
    assert {"id", "change_number", "patch_set", "author_id", "line", "updated_at"} <= columns
    indexes = {i["name"] for i in inspect(engine).get_indexes("draft_comments")}
    assert "ix_draft_comments_change_number_author_id" in indexes
    command.downgrade(_config(engine), "0008")
    assert "draft_comments" not in inspect(engine).get_table_names()
    engine.dispose()

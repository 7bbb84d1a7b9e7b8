"""Migration 0007: the artifacts builds return are kept in order with each
build, read back with it by every history query, and go with the migration."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from alembic import command
from sqlalchemy import inspect

from lockgate.adapters.db import gate_store
from lockgate.adapters.db.engine import make_engine
from lockgate.adapters.db.migrate import _config, upgrade
from tests.integration.test_build_logs_migration import _row, _url

DOCS = gate_store.ArtifactRow("docs", "http://logs.test/b1/docs/", {"type": "docs_site"})
WHEEL = gate_store.ArtifactRow("wheel", "https://pypi.test/app.whl", {})


def test_0007_keeps_each_builds_artifacts_in_order(tmp_path: Path, database_url: str) -> None:
    engine = make_engine(_url(database_url, tmp_path))
    upgrade(engine, "0007")
    with engine.begin() as conn:
        gate_store.add_build(conn, _row("b1"))
        gate_store.add_build(conn, replace(_row("b2"), queued=2))
        gate_store.set_artifacts(conn, "b1", [WHEEL])
        gate_store.set_artifacts(conn, "b1", [DOCS, WHEEL])  # recorded again: replaced
        newest, oldest = gate_store.builds(conn, gate_store.HistoryFilter(tenant="main"))
        assert (newest.uuid, newest.artifacts) == ("b2", ())
        assert oldest.artifacts == (DOCS, WHEEL)
        one = gate_store.build(conn, "main", "b1")
        assert one is not None and one.artifacts == (DOCS, WHEEL)
        assert [b.artifacts for b in gate_store.builds_of(conn, ["bs"])] == [(DOCS, WHEEL), ()]

    command.downgrade(_config(engine), "0006")
    assert "gate_build_artifacts" not in inspect(engine).get_table_names()
    engine.dispose()

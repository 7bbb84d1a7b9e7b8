"""Migrations 0006 and 0011: each build's log path, and its index, come and
go with them, and the store functions the console and /logs/ use read and
write it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect

from lockgate.adapters.db import gate_store
from lockgate.adapters.db.engine import make_engine
from lockgate.adapters.db.migrate import _config, upgrade


def _url(database_url: str, tmp_path: Path) -> str:
    if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:////"):
        return f"sqlite:///{tmp_path / 'gate.db'}"
    return database_url


def _row(uuid: str) -> gate_store.BuildRow:
    return gate_store.BuildRow(
        uuid=uuid,
        buildset="bs",
        tenant="main",
        pipeline="check",
        job="unit",
        project="org/app",
        branch="main",
        ref="refs/heads/main",
        change=None,
        patchset=None,
        changes="",
        voting=True,
        attempt=1,
        result=None,
        log_url=None,
        error=None,
        queued=1,
        started=None,
        ended=None,
    )


def test_0006_adds_the_log_path_of_builds_and_takes_it_back(
    tmp_path: Path, database_url: str
) -> None:
    engine = make_engine(_url(database_url, tmp_path))
    upgrade(engine)  # the store functions are those of the newest schema
    columns = {c["name"] for c in inspect(engine).get_columns("gate_builds")}
    assert "log_path" in columns

    with engine.begin() as conn:
        gate_store.add_build(conn, _row("b1"))
        assert gate_store.set_log_path(conn, "b1", "check/org/app/main/unit/b1")
        assert not gate_store.set_log_path(conn, "nothing", "x")
        state = gate_store.build_log_state(conn, "b1")
        assert state == gate_store.BuildLogState("main", "check/org/app/main/unit/b1", None, None)
        [listed] = gate_store.builds(conn, gate_store.HistoryFilter(tenant="main"))
        assert listed.log_path == "check/org/app/main/unit/b1"
        assert gate_store.build_log_state(conn, "nothing") is None
        # which build a served log file is of: its folder, by the index of 0011
        [owner] = gate_store.folder_owners(conn, ["check", "check/org/app/main/unit/b1"])
        assert (owner.uuid, owner.project, owner.change) == ("b1", "org/app", None)
    indexes = {i["name"] for i in inspect(engine).get_indexes("gate_builds")}
    assert "ix_gate_builds_log_path" in indexes

    command.downgrade(_config(engine), "0005")
    columns = {c["name"] for c in inspect(engine).get_columns("gate_builds")}
    assert "log_path" not in columns
    engine.dispose()

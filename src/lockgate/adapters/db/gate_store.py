"""The scheduler's tables: its cursor on the event log, each tenant's saved
state, and the history of build sets and builds (with their artifacts)
behind /builds."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from lockgate.adapters.db import tables as t

_CURSOR = "scheduler"


def cursor(conn: Connection) -> int:
    seq = conn.execute(
        select(t.gate_cursor.c.seq).where(t.gate_cursor.c.name == _CURSOR)
    ).scalar_one_or_none()
    return 0 if seq is None else int(seq)


def set_cursor(conn: Connection, seq: int) -> None:
    moved = conn.execute(
        update(t.gate_cursor).where(t.gate_cursor.c.name == _CURSOR).values(seq=seq)
    ).rowcount
    if not moved:
        conn.execute(insert(t.gate_cursor).values(name=_CURSOR, seq=seq))


def states(conn: Connection) -> dict[str, dict[str, Any]]:
    rows = conn.execute(select(t.gate_state.c.tenant, t.gate_state.c.state))
    return {row.tenant: json.loads(row.state) for row in rows}


def save_state(conn: Connection, tenant: str, state: Mapping[str, Any], now_us: int) -> None:
    text = json.dumps(state, separators=(",", ":"))
    moved = conn.execute(
        update(t.gate_state)
        .where(t.gate_state.c.tenant == tenant)
        .values(state=text, updated=now_us)
    ).rowcount
    if not moved:
        conn.execute(insert(t.gate_state).values(tenant=tenant, state=text, updated=now_us))


def drop_state(conn: Connection, tenant: str) -> None:
    conn.execute(t.gate_state.delete().where(t.gate_state.c.tenant == tenant))


# --- history ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuildsetRow:
    uuid: str
    tenant: str
    pipeline: str
    project: str
    branch: str
    ref: str
    change: int | None
    patchset: int | None
    oldrev: str | None
    newrev: str | None
    result: str | None
    message: str | None
    created: int
    updated: int


@dataclass(frozen=True, slots=True)
class ArtifactRow:
    name: str
    url: str
    metadata: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class BuildRow:
    uuid: str
    buildset: str
    tenant: str
    pipeline: str
    job: str
    project: str
    branch: str
    ref: str
    change: int | None
    patchset: int | None
    changes: str
    voting: bool
    attempt: int
    result: str | None
    log_url: str | None
    error: str | None
    queued: int
    started: int | None
    ended: int | None
    log_path: str | None = None  # its folder in the log store, once started
    # what it returned in zuul.artifacts; read with the build, written apart
    artifacts: tuple[ArtifactRow, ...] = ()


def add_buildset(conn: Connection, row: BuildsetRow) -> None:
    exists = conn.execute(
        select(t.gate_buildsets.c.uuid).where(t.gate_buildsets.c.uuid == row.uuid)
    ).first()
    if exists is None:
        conn.execute(insert(t.gate_buildsets).values(**_fields(row)))


def finish_buildset(
    conn: Connection, uuid: str, result: str, message: str | None, now_us: int
) -> None:
    conn.execute(
        update(t.gate_buildsets)
        .where(t.gate_buildsets.c.uuid == uuid)
        .values(result=result, message=message, updated=now_us)
    )


def add_build(conn: Connection, row: BuildRow) -> None:
    exists = conn.execute(
        select(t.gate_builds.c.uuid).where(t.gate_builds.c.uuid == row.uuid)
    ).first()
    if exists is None:
        fields = _fields(row)
        fields.pop("artifacts")
        conn.execute(insert(t.gate_builds).values(**fields))


def start_build(conn: Connection, uuid: str, started_us: int, log_url: str) -> None:
    conn.execute(
        update(t.gate_builds)
        .where(t.gate_builds.c.uuid == uuid)
        .values(started=started_us, log_url=log_url or None)
    )


def finish_build(
    conn: Connection,
    uuid: str,
    *,
    result: str,
    started_us: int | None,
    ended_us: int,
    log_url: str,
    error: str,
) -> None:
    values: dict[str, Any] = {"result": result, "ended": ended_us, "error": error or None}
    if started_us is not None:
        values["started"] = started_us
    if log_url:
        values["log_url"] = log_url
    conn.execute(update(t.gate_builds).where(t.gate_builds.c.uuid == uuid).values(**values))


def set_artifacts(conn: Connection, uuid: str, artifacts: Sequence[ArtifactRow]) -> None:
    """The build's artifacts, replacing any recorded before (an outcome
    recorded twice stays one list)."""
    a = t.gate_build_artifacts
    conn.execute(delete(a).where(a.c.build == uuid))
    if artifacts:
        conn.execute(
            insert(a),
            [
                {
                    "build": uuid,
                    "position": n,
                    "name": artifact.name[:255],
                    "url": artifact.url,
                    "meta": json.dumps(dict(artifact.metadata), default=str),
                }
                for n, artifact in enumerate(artifacts)
            ],
        )


def _with_artifacts(conn: Connection, rows: list[BuildRow]) -> list[BuildRow]:
    if not rows:
        return rows
    a = t.gate_build_artifacts
    found: dict[str, list[ArtifactRow]] = {}
    query = (
        select(a.c.build, a.c.name, a.c.url, a.c.meta)
        .where(a.c.build.in_([r.uuid for r in rows]))
        .order_by(a.c.build, a.c.position)
    )
    for build, name, url, meta in conn.execute(query):
        found.setdefault(build, []).append(ArtifactRow(name, url, json.loads(meta)))
    return [replace(r, artifacts=tuple(found[r.uuid])) if r.uuid in found else r for r in rows]


def set_log_path(conn: Connection, uuid: str, log_path: str) -> bool:
    """Record where a build's logs go; False when there is no such build."""
    moved = conn.execute(
        update(t.gate_builds).where(t.gate_builds.c.uuid == uuid).values(log_path=log_path)
    ).rowcount
    return bool(moved)


@dataclass(frozen=True, slots=True)
class BuildLogState:
    tenant: str
    log_path: str | None
    result: str | None
    log_url: str | None


def build_log_state(conn: Connection, uuid: str) -> BuildLogState | None:
    """A build's log folder and, once it has ended, its result and log URL."""
    b = t.gate_builds
    row = conn.execute(
        select(b.c.tenant, b.c.log_path, b.c.result, b.c.log_url).where(b.c.uuid == uuid)
    ).first()
    return None if row is None else BuildLogState(row.tenant, row.log_path, row.result, row.log_url)


@dataclass(frozen=True, slots=True)
class FolderOwner:
    """A build whose log folder is `log_path`: what decides who may read it."""

    uuid: str
    tenant: str
    project: str
    change: int | None
    log_path: str


def folder_owners(conn: Connection, folders: Sequence[str]) -> list[FolderOwner]:
    """The builds whose log folder is one of `folders` (by the log path index)."""
    if not folders:
        return []
    b = t.gate_builds
    query = select(b.c.uuid, b.c.tenant, b.c.project, b.c.change, b.c.log_path).where(
        b.c.log_path.in_(sorted(set(folders)))
    )
    return [FolderOwner(*row) for row in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    tenant: str
    project: str | None = None
    pipeline: str | None = None
    job: str | None = None
    change: int | None = None
    patchset: int | None = None
    result: str | None = None
    branch: str | None = None
    limit: int = 50
    skip: int = 0
    # only these projects (the ones a viewer may read); None: any
    projects: tuple[str, ...] | None = None


def _conditions(table: Any, where: HistoryFilter) -> list[Any]:
    conds = [table.c.tenant == where.tenant]
    for column in ("project", "pipeline", "change", "patchset", "result", "branch"):
        value = getattr(where, column)
        if value is not None:
            conds.append(table.c[column] == value)
    if where.projects is not None:
        conds.append(table.c.project.in_(list(where.projects)))
    return conds


def builds(conn: Connection, where: HistoryFilter) -> list[BuildRow]:
    conds = _conditions(t.gate_builds, where)
    if where.job is not None:
        conds.append(t.gate_builds.c.job == where.job)
    query = (
        select(t.gate_builds)
        .where(and_(*conds))
        .order_by(t.gate_builds.c.queued.desc(), t.gate_builds.c.uuid)
        .limit(where.limit)
        .offset(where.skip)
    )
    return _with_artifacts(conn, [BuildRow(**row._mapping) for row in conn.execute(query)])


def build(conn: Connection, tenant: str, uuid: str) -> BuildRow | None:
    row = conn.execute(
        select(t.gate_builds).where(t.gate_builds.c.tenant == tenant, t.gate_builds.c.uuid == uuid)
    ).first()
    return None if row is None else _with_artifacts(conn, [BuildRow(**row._mapping)])[0]


def buildsets(conn: Connection, where: HistoryFilter) -> list[BuildsetRow]:
    query = (
        select(t.gate_buildsets)
        .where(and_(*_conditions(t.gate_buildsets, where)))
        .order_by(t.gate_buildsets.c.created.desc(), t.gate_buildsets.c.uuid)
        .limit(where.limit)
        .offset(where.skip)
    )
    return [BuildsetRow(**row._mapping) for row in conn.execute(query)]


def buildset(conn: Connection, tenant: str, uuid: str) -> BuildsetRow | None:
    row = conn.execute(
        select(t.gate_buildsets).where(
            t.gate_buildsets.c.tenant == tenant, t.gate_buildsets.c.uuid == uuid
        )
    ).first()
    return None if row is None else BuildsetRow(**row._mapping)


def builds_of(conn: Connection, buildsets: Sequence[str]) -> list[BuildRow]:
    if not buildsets:
        return []
    query = (
        select(t.gate_builds)
        .where(t.gate_builds.c.buildset.in_(list(buildsets)))
        .order_by(t.gate_builds.c.queued, t.gate_builds.c.uuid)
    )
    return _with_artifacts(conn, [BuildRow(**row._mapping) for row in conn.execute(query)])


def average_durations(conn: Connection, tenant: str, jobs: Sequence[str]) -> dict[str, float]:
    """Mean seconds of each job's successful builds, for estimated times on the
    status page."""
    if not jobs:
        return {}
    b = t.gate_builds
    query = (
        select(b.c.job, func.avg(b.c.ended - b.c.started))
        .where(
            b.c.tenant == tenant,
            b.c.job.in_(list(jobs)),
            b.c.result == "SUCCESS",
            b.c.started.is_not(None),
        )
        .group_by(b.c.job)
    )
    return {job: float(avg) / 1e6 for job, avg in conn.execute(query) if avg is not None}


def _fields(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in row.__slots__}


def abandon_unfinished(conn: Connection, now_us: int) -> int:
    """Close the builds a previous scheduler process left without a result: its
    in-process executor died with it, and the core runs them again as new builds."""
    return int(
        conn.execute(
            update(t.gate_builds)
            .where(t.gate_builds.c.result.is_(None))
            .values(result="ABORTED", ended=now_us, error="lost when the scheduler stopped")
        ).rowcount
    )

"""Builds put straight into a site's history and log store, for tests and
benchmarks of the pages that show them.

`record_build` does what the scheduler and the executor do for one build: the
build set and build rows, the log folder registered for the build (where the
live console reads `job-output.txt`), the console text, the inventory Zuul
keeps in `zuul-info/`, and, for a finished build, the result and the finished
folder (big text gzipped, `zuul-manifest.json`), as the executor leaves it.
"""

from __future__ import annotations

import json
import uuid as uuids
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lockgate.adapters.db import gate_store
from lockgate.adapters.db.engine import write_transaction
from lockgate.core.nodes.log_paths import build_log_path
from lockgate.services.bootstrap import Services


@dataclass(frozen=True, slots=True)
class RecordedBuild:
    uuid: str
    buildset: str
    tenant: str
    log_path: str
    folder: Path

    @property
    def console(self) -> Path:
        return self.folder / "job-output.txt"


def _micros(services: Services) -> int:
    return int(services.clock())


def record_build(
    services: Services,
    *,
    project: str,
    job: str,
    tenant: str = "main",
    pipeline: str = "check",
    branch: str = "master",
    change: int | None = None,
    patchset: int | None = None,
    result: str | None = None,
    console: str = "",
    nodes: Sequence[tuple[str, str]] = (),
    buildset: str | None = None,
    voting: bool = True,
    duration: float = 42.0,
    error: str | None = None,
) -> RecordedBuild:
    """One build of `job` for `change,patchset` (or the branch); running while
    `result` is None. `nodes` are (name, label) pairs for its inventory."""
    uuid = uuids.uuid4().hex
    buildset = buildset or uuids.uuid4().hex
    ref = (
        f"refs/changes/{change % 100:02d}/{change}/{patchset}"
        if change is not None and patchset is not None
        else f"refs/heads/{branch}"
    )
    now = _micros(services)
    started = now - int(duration * 1e6)
    with write_transaction(services.engine) as conn:
        gate_store.add_buildset(
            conn,
            gate_store.BuildsetRow(
                uuid=buildset,
                tenant=tenant,
                pipeline=pipeline,
                project=project,
                branch=branch,
                ref=ref,
                change=change,
                patchset=patchset,
                oldrev=None,
                newrev=None,
                result=None,
                message=None,
                created=started - 1_000_000,
                updated=started,
            ),
        )
        gate_store.add_build(
            conn,
            gate_store.BuildRow(
                uuid=uuid,
                buildset=buildset,
                tenant=tenant,
                pipeline=pipeline,
                job=job,
                project=project,
                branch=branch,
                ref=ref,
                change=change,
                patchset=patchset,
                changes=f"{change},{patchset}" if change is not None else "",
                voting=voting,
                attempt=1,
                result=None,
                log_url=None,
                error=None,
                queued=started - 500_000,
                started=started,
                ended=None,
            ),
        )
    path = build_log_path(
        build=uuid,
        job=job,
        pipeline=pipeline,
        project=project,
        branch=branch,
        change=change,
        patchset=patchset,
        newrev=None,
    )
    assert services.build_logs is not None
    folder = services.build_logs.register(uuid, path)
    (folder / "job-output.txt").write_text(console)
    if nodes:
        hosts = {
            name: {
                "ansible_connection": "ssh",
                "ansible_host": f"192.0.2.{n}",
                "lockgate_node_token": "0123456789abcdef",
                "nodepool": {
                    "label": label,
                    "provider": "static",
                    "pool": "main",
                    "id": f"{n:010d}",
                    "interface_ip": f"192.0.2.{n}",
                },
            }
            for n, (name, label) in enumerate(nodes, 1)
        }
        info = folder / "zuul-info"
        info.mkdir(exist_ok=True)
        (info / "inventory.yaml").write_text(json.dumps({"all": {"hosts": hosts, "vars": {}}}))
    recorded = RecordedBuild(uuid, buildset, tenant, path, folder)
    if result is not None:
        finish_build(services, recorded, result, error=error)
    return recorded


def finish_build(
    services: Services,
    build: RecordedBuild,
    result: str,
    *,
    error: str | None = None,
    buildset_result: str | None = None,
) -> str:
    """The build ends: its folder is finished and its result recorded (the
    live console then ends); returns its log URL."""
    store = services.log_store
    assert store is not None
    url = store.finish(build.log_path)
    with write_transaction(services.engine) as conn:
        gate_store.finish_build(
            conn,
            build.uuid,
            result=result,
            started_us=None,
            ended_us=_micros(services),
            log_url=url,
            error=error or "",
        )
        gate_store.finish_buildset(
            conn, build.buildset, buildset_result or result, None, _micros(services)
        )
    return url

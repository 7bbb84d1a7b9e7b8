"""What the Zuul-shaped REST API (`/api/...`) reads and asks of the scheduler.

Reads come from the tenants' layouts, the live gates and the build history;
the admin actions (enqueue, dequeue, promote) are checked here, with errors
that name what is wrong, and handed to the scheduler as events.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lockgate.adapters.db import gate_store
from lockgate.adapters.db.engine import read_transaction
from lockgate.adapters.db.gate_store import BuildRow, BuildsetRow, HistoryFilter
from lockgate.core.gating.changes import Ref
from lockgate.core.gating.events import Dequeue, Enqueue, Promote
from lockgate.core.gating.status_view import (
    QueuePosition,
    add_estimates,
    job_names,
    positions,
)
from lockgate.core.gating.status_view import items as status_items
from lockgate.services.build_visibility import BuildVisibility
from lockgate.services.clock import Clock
from lockgate.services.errors import BadRequest, NotFound
from lockgate.services.gating import Gating
from lockgate.services.permissions import Caller

ZUUL_API_VERSION = "lockgate"
# Estimates move slowly: the mean of a job's past builds is read again after this.
_ESTIMATES_TTL_S = 60.0


@dataclass(frozen=True, slots=True)
class _Estimates:
    read_at: float  # seconds
    asked: frozenset[str]  # the jobs asked for, with a history or not
    means: dict[str, float]  # job -> mean seconds of its successful builds


@dataclass(frozen=True, slots=True)
class TenantSummary:
    name: str
    projects: int
    queue: int


class GateApi:
    def __init__(
        self,
        engine: Any,
        gating: Gating,
        clock: Clock,
        *,
        visibility: BuildVisibility,
    ) -> None:
        self._engine = engine
        self._gating = gating
        self._clock = clock
        self.visibility = visibility
        self._estimates: dict[str, _Estimates] = {}
        self._estimates_lock = threading.Lock()

    # --- reads ----------------------------------------------------------------------------

    def tenants(self) -> list[TenantSummary]:
        out = []
        for name in [t.name for t in self._gating.catalog.tenants()]:
            tenant = self._gating.catalog.tenant(name)
            items = self._items(name)
            out.append(TenantSummary(name, len(tenant.projects) if tenant else 0, items))
        return out

    def require_tenant(self, tenant: str) -> None:
        if self._gating.catalog.tenant(tenant) is None:
            known = ", ".join([t.name for t in self._gating.catalog.tenants()]) or "none"
            raise NotFound(f"no tenant {tenant!r} (tenants: {known})")

    def status(self, tenant: str) -> dict[str, Any]:
        """The whole live status of the tenant, with estimated and remaining
        times from the build history (for every reader: see `status_for`)."""
        self.require_tenant(tenant)
        status = self._live_status(tenant)
        add_estimates(status, self._averages(tenant, job_names(status)))
        return status

    def status_for(self, tenant: str, caller: Caller) -> dict[str, Any]:
        """`status` without the items of projects `caller` may not read or of
        private changes it may not see."""
        return self.visibility.status(caller, self.status(tenant))

    def change_status(
        self, tenant: str, change: str, caller: Caller | None = None
    ) -> list[dict[str, Any]]:
        """The items of the status holding `change` ("N,P" or "N")."""
        status = self.status(tenant) if caller is None else self.status_for(tenant, caller)
        wanted = change if "," in change else None
        number = change.split(",", 1)[0]
        found: list[dict[str, Any]] = []
        for pipeline in status.get("pipelines", []):
            for queue in pipeline.get("change_queues", []):
                for head in queue.get("heads", []):
                    for item in head:
                        for ref in item.get("refs", [item]):
                            ident = str(ref.get("id") or "")
                            if ident == wanted or (
                                wanted is None and ident.split(",", maxsplit=1)[0] == number
                            ):
                                found.append(item)
                                break
        return found

    def change_positions(self, number: int, caller: Caller) -> list[QueuePosition]:
        """Where change `number` stands now in every queue of every tenant (none
        when `caller` may not see it): for the change page's "gate, 3rd of 7"."""
        found: list[QueuePosition] = []
        for name in [t.name for t in self._gating.catalog.tenants()]:
            found.extend(positions(name, self.status_for(name, caller), number))
        return found

    def builds(self, where: HistoryFilter) -> list[BuildRow]:
        self.require_tenant(where.tenant)
        with read_transaction(self._engine) as conn:
            return gate_store.builds(conn, where)

    def build(self, tenant: str, uuid: str) -> BuildRow:
        self.require_tenant(tenant)
        with read_transaction(self._engine) as conn:
            row = gate_store.build(conn, tenant, uuid)
        if row is None:
            raise NotFound(f"no build {uuid} in tenant {tenant}")
        return row

    def buildsets(self, where: HistoryFilter) -> list[BuildsetRow]:
        self.require_tenant(where.tenant)
        with read_transaction(self._engine) as conn:
            return gate_store.buildsets(conn, where)

    def buildset(self, tenant: str, uuid: str) -> tuple[BuildsetRow, list[BuildRow]]:
        self.require_tenant(tenant)
        with read_transaction(self._engine) as conn:
            row = gate_store.buildset(conn, tenant, uuid)
            if row is None:
                raise NotFound(f"no buildset {uuid} in tenant {tenant}")
            return row, gate_store.builds_of(conn, [uuid])

    def layout(self, tenant: str) -> Any:
        self.require_tenant(tenant)
        return self._gating.layouts.layout(tenant)

    def config_errors(self, tenant: str) -> list[Any]:
        """The tenant's configuration errors, the tenants file's first."""
        layout = self.layout(tenant)
        return [*self._gating.catalog.errors, *layout.errors]

    def projects(self, tenant: str) -> list[tuple[str, bool]]:
        self.require_tenant(tenant)
        definition = self._gating.catalog.tenant(tenant)
        assert definition is not None
        return [(p.name, p.trusted) for p in definition.projects]

    # --- reads for one caller: only what they may read ------------------------------------

    def projects_for(self, tenant: str, caller: Caller) -> list[tuple[str, bool]]:
        rows = self.projects(tenant)
        readable = self.visibility.readable(caller, [name for name, _ in rows])
        return [row for row in rows if readable is None or row[0] in readable]

    def jobs_for(self, tenant: str, caller: Caller) -> dict[str, list[Any]]:
        """The layout's jobs by name with the variants defined in projects
        `caller` may read; a job with none of them is left out."""
        layout = self.layout(tenant)
        readable = self._source_filter(
            caller, {v.where.source.project for variants in layout.jobs.values() for v in variants}
        )
        found = {
            name: [v for v in variants if readable(v.where.source.project)]
            for name, variants in layout.jobs.items()
        }
        return {name: variants for name, variants in found.items() if variants}

    def config_errors_for(self, tenant: str, caller: Caller) -> list[Any]:
        """`config_errors` of the files `caller` may read: an error quotes its file."""
        errors = self.config_errors(tenant)
        readable = self._source_filter(caller, {e.where.source.project for e in errors})
        return [e for e in errors if readable(e.where.source.project)]

    def _source_filter(self, caller: Caller, projects: set[str]) -> Callable[[str], bool]:
        # The tenants file and built-in definitions belong to no project: the site's own.
        readable = self.visibility.readable(caller, projects - {""})
        return lambda project: readable is None or project == "" or project in readable

    # --- admin actions -------------------------------------------------------------------------

    def enqueue(
        self,
        tenant: str,
        project: str,
        pipeline: str,
        *,
        change: str | None = None,
        ref: str | None = None,
        oldrev: str | None = None,
        newrev: str | None = None,
    ) -> None:
        self._require_pipeline(tenant, pipeline)
        if change:
            snapshot = self._change(change)
            if snapshot.project != project:
                raise BadRequest(f"change {change} is in project {snapshot.project}, not {project}")
            dependencies = self._gating.inputs.dependencies(snapshot)
            event = Enqueue(pipeline, snapshot, dependencies)
        elif ref:
            zero = "0" * 40
            event = Enqueue(pipeline, Ref(project, ref, oldrev or zero, newrev or zero))
        else:
            raise BadRequest('enqueue needs "change" ("N,P") or "ref" (with oldrev and newrev)')
        self._gating.scheduler.admin(tenant, event)

    def dequeue(
        self, tenant: str, project: str, pipeline: str, *, change: str | None, ref: str | None
    ) -> None:
        self._require_pipeline(tenant, pipeline)
        if not change and not ref:
            raise BadRequest('dequeue needs "change" ("N,P") or "ref"')
        if change:
            snapshot = self._change(change)
            if snapshot.project != project:
                raise BadRequest(f"change {change} is in project {snapshot.project}, not {project}")
        self._gating.scheduler.admin(tenant, Dequeue(pipeline, change or ref or ""))

    def promote(self, tenant: str, pipeline: str, changes: Sequence[str]) -> None:
        self._require_pipeline(tenant, pipeline)
        if not changes:
            raise BadRequest('promote needs "changes": a list of "N,P" in the order wanted')
        for change in changes:
            self._change(change)
        self._gating.scheduler.admin(tenant, Promote(pipeline, tuple(changes)))

    # --- inside -------------------------------------------------------------------------------

    def _live_status(self, tenant: str) -> dict[str, Any]:
        # The scheduler changes the gate's state while it steps: read it between steps.
        with self._gating.scheduler.quiet():
            status = dict(self._gating.scheduler.gate(tenant).status(self._clock() / 1e6))
        status.setdefault("zuul_version", ZUUL_API_VERSION)
        status.setdefault("trigger_event_queue", {"length": 0})
        status.setdefault("result_event_queue", {"length": 0})
        # the server's time (ms) the document's times were taken at: a page
        # ages items by it rather than by a browser's clock, which may be off
        status["now"] = self._clock() // 1000
        return status

    def _averages(self, tenant: str, jobs: set[str]) -> Mapping[str, float]:
        now = self._clock() / 1e6
        with self._estimates_lock:
            cached = self._estimates.get(tenant)
        if cached is not None and now - cached.read_at < _ESTIMATES_TTL_S and jobs <= cached.asked:
            return cached.means
        asked = jobs | (cached.asked if cached is not None else set())
        with read_transaction(self._engine) as conn:
            means = gate_store.average_durations(conn, tenant, sorted(asked))
        with self._estimates_lock:
            self._estimates[tenant] = _Estimates(now, frozenset(asked), means)
        return means

    def _require_pipeline(self, tenant: str, pipeline: str) -> None:
        layout = self.layout(tenant)
        names = list(layout.pipeline_names())
        if pipeline not in names:
            raise BadRequest(
                f"tenant {tenant} has no pipeline {pipeline!r} (pipelines: {', '.join(names)})"
            )

    def _change(self, key: str) -> Any:
        number, _, patchset = key.partition(",")
        if not number.isdigit() or (patchset and not patchset.isdigit()):
            raise BadRequest(f"{key!r} is not a change: write it as N,P (e.g. 1234,2)")
        snapshot = self._gating.inputs.change(int(number), int(patchset) if patchset else None)
        if snapshot is None:
            raise NotFound(f"no change {key}")
        return snapshot

    def _items(self, tenant: str) -> int:
        try:
            status = self._live_status(tenant)
        except Exception:
            return 0
        return sum(1 for _ in status_items(status))

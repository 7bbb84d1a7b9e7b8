"""What the Zuul-shaped REST API (`/api/...`) reads and asks of the scheduler.

Reads come from the tenants' layouts, the live gates and the build history;
the admin actions (enqueue, dequeue, promote) are checked here, with errors
that name what is wrong, and handed to the scheduler as events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lockgate.adapters.db import gate_store
from lockgate.adapters.db.engine import read_transaction
from lockgate.adapters.db.gate_store import BuildRow, BuildsetRow, HistoryFilter
from lockgate.core.gating.changes import Ref
from lockgate.core.gating.events import Dequeue, Enqueue, Promote
from lockgate.services.clock import Clock
from lockgate.services.errors import BadRequest, NotFound
from lockgate.services.gating import Gating

ZUUL_API_VERSION = "lockgate"


@dataclass(frozen=True, slots=True)
class TenantSummary:
    name: str
    projects: int
    queue: int


class GateApi:
    def __init__(self, engine: Any, gating: Gating, clock: Clock) -> None:
        self._engine = engine
        self._gating = gating
        self._clock = clock

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
        self.require_tenant(tenant)
        gate = self._gating.scheduler.gate(tenant)
        status = dict(gate.status(self._clock() / 1e6))
        status.setdefault("zuul_version", ZUUL_API_VERSION)
        status.setdefault("trigger_event_queue", {"length": 0})
        status.setdefault("result_event_queue", {"length": 0})
        return status

    def change_status(self, tenant: str, change: str) -> list[dict[str, Any]]:
        """The items of the status holding `change` ("N,P" or "N")."""
        status = self.status(tenant)
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

    def projects(self, tenant: str) -> list[tuple[str, bool]]:
        self.require_tenant(tenant)
        definition = self._gating.catalog.tenant(tenant)
        assert definition is not None
        return [(p.name, p.trusted) for p in definition.projects]

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
            status = self._gating.scheduler.gate(tenant).status(self._clock() / 1e6)
        except Exception:
            return 0
        count = 0
        for pipeline in status.get("pipelines", []):
            for queue in pipeline.get("change_queues", []):
                for head in queue.get("heads", []):
                    count += len(head)
        return count

"""Autoholds as the REST API and the CLI manage them: add, list, show, delete.

Deleting an autohold lets its held nodes go: they move to deleting, and the
launcher deletes them on its next round.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from lockgate.adapters.db import node_store as store
from lockgate.adapters.db.engine import read_transaction, write_transaction
from lockgate.core.nodes.autohold import ANY_REF, AutoholdError, change_ref_filter, check_ref_filter
from lockgate.core.nodes.model import DELETING, HOLD, Autohold
from lockgate.services.errors import BadRequest, NotFound


@dataclass(frozen=True, slots=True)
class AutoholdView:
    hold: Autohold
    nodes: list[dict[str, Any]]  # [{"build": uuid, "nodes": [node ids]}], as Zuul lists them

    def to_json(self) -> dict[str, Any]:
        hold = self.hold
        return {
            "id": hold.id,
            "tenant": hold.tenant,
            "project": hold.project,
            "job": hold.job,
            "ref_filter": hold.ref_filter,
            "max_count": hold.count,
            "current_count": hold.held,
            "reason": hold.reason,
            "node_expiration": (0 if hold.node_expiration is None else int(hold.node_expiration)),
            "expired": None,
            "nodes": self.nodes,
        }


def _whole(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRequest(f'"{name}" must be a whole number of 0 or more, not {value!r}')
    return value


class AutoholdService:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    def add_from(self, tenant: str, project: str, body: dict[str, Any]) -> Autohold:
        """An autohold from a body in Zuul's shape: job, change or ref, reason,
        count (default 1), node_hold_expiration (seconds; 0: until deleted)."""
        job = body.get("job")
        if not isinstance(job, str) or not job:
            raise BadRequest('the request needs "job", the name of the job to hold nodes of')
        change, ref = body.get("change"), body.get("ref")
        if change not in (None, "") and ref not in (None, ""):
            raise BadRequest('give "change" or "ref", not both')
        if change not in (None, ""):
            text = str(change).split(",")[0]
            if not text.isdigit():
                raise BadRequest(f'"change" must be a change number, not {change!r}')
            ref_filter = change_ref_filter(int(text))
        elif ref not in (None, ""):
            if not isinstance(ref, str):
                raise BadRequest('"ref" must be a regular expression on the build\'s ref')
            ref_filter = ref
        else:
            ref_filter = ANY_REF
        reason = body.get("reason", "")
        if not isinstance(reason, str):
            raise BadRequest('"reason" must be text')
        count = _whole(body, "count", 1)
        if count < 1:
            raise BadRequest('"count" must be at least 1')
        expiration = _whole(body, "node_hold_expiration", 0)
        return self.add(
            tenant,
            project,
            job,
            ref_filter=ref_filter,
            reason=reason,
            count=count,
            node_expiration=float(expiration) if expiration else None,
        )

    def add(
        self,
        tenant: str,
        project: str,
        job: str,
        *,
        ref_filter: str = ANY_REF,
        reason: str = "",
        count: int = 1,
        node_expiration: float | None = None,
    ) -> Autohold:
        try:
            check_ref_filter(ref_filter)
        except AutoholdError as error:
            raise BadRequest(str(error)) from None
        hold = Autohold(
            id=uuid.uuid4().hex[:10],
            tenant=tenant,
            project=project,
            job=job,
            ref_filter=ref_filter,
            reason=reason,
            count=count,
            node_expiration=node_expiration,
            created=self.clock(),
        )
        with write_transaction(self.engine) as conn:
            store.add_autohold(conn, hold)
        return hold

    def _view(self, conn: Any, hold: Autohold) -> AutoholdView:
        by_build: dict[str, list[str]] = {}
        for stored in store.held_nodes(conn, hold.id):
            request = stored.node.request
            found = None if request is None else store.request(conn, request)
            build = "" if found is None else found.build
            by_build.setdefault(build, []).append(stored.node.id)
        return AutoholdView(hold, [{"build": b, "nodes": n} for b, n in by_build.items()])

    def list(self, tenant: str) -> list[AutoholdView]:
        with read_transaction(self.engine) as conn:
            return [self._view(conn, hold) for hold in store.autoholds(conn, tenant)]

    def get(self, tenant: str, hold_id: str) -> AutoholdView:
        with read_transaction(self.engine) as conn:
            hold = store.autohold(conn, hold_id)
            if hold is None or hold.tenant != tenant:
                raise NotFound(f"tenant {tenant} has no autohold {hold_id}")
            return self._view(conn, hold)

    def delete(self, tenant: str, hold_id: str) -> None:
        now = self.clock()
        with write_transaction(self.engine) as conn:
            hold = store.autohold(conn, hold_id)
            if hold is None or hold.tenant != tenant:
                raise NotFound(f"tenant {tenant} has no autohold {hold_id}")
            for stored in store.held_nodes(conn, hold_id):
                store.move_node(conn, stored.node.id, HOLD, DELETING, now)
            store.remove_autohold(conn, hold_id)

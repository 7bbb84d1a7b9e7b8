"""Nodes, node requests and autoholds in the database.

Every state change compares and sets: the UPDATE names the state the caller
saw, and reports whether it won, so two launchers (or a launcher and a
release) never both take one node or one request. On PostgreSQL, reads that
decide a change can lock their rows with `lock=True`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, insert, select, update

from lockgate.adapters.db import tables as t
from lockgate.core.nodes.model import Autohold, Node, NodeRequest, check_transition

_US = 1_000_000


def _us(seconds: float) -> int:
    return round(seconds * _US)


def _s(micros: int | None) -> float | None:
    return None if micros is None else micros / _US


@dataclass(frozen=True, slots=True)
class StoredNode:
    node: Node
    external_id: str | None
    autohold: str | None  # the autohold that holds it, when held


def _node(row: Row[Any]) -> StoredNode:
    node = Node(
        id=row.id,
        label=row.label,
        provider=row.provider,
        pool=row.pool,
        state=row.state,
        created=row.created / _US,
        state_time=row.state_time / _US,
        connection=json.loads(row.connection),
        request=row.request,
        launch_attempts=row.launch_attempts,
        hold_reason=row.hold_reason,
        hold_expires=_s(row.hold_expires),
    )
    return StoredNode(node, row.external_id, row.hold_autohold)


def add_node(conn: Connection, node: Node, external_id: str | None = None) -> None:
    conn.execute(
        insert(t.nodes).values(
            id=node.id,
            label=node.label,
            provider=node.provider,
            pool=node.pool,
            state=node.state,
            external_id=external_id,
            connection=json.dumps(dict(node.connection)),
            request=node.request,
            launch_attempts=node.launch_attempts,
            hold_autohold=None,
            hold_reason=node.hold_reason,
            hold_expires=None if node.hold_expires is None else _us(node.hold_expires),
            created=_us(node.created),
            state_time=_us(node.state_time),
        )
    )


def node(conn: Connection, node_id: str, *, lock: bool = False) -> StoredNode | None:
    query = select(t.nodes).where(t.nodes.c.id == node_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    return None if row is None else _node(row)


def nodes(conn: Connection, *, states: Iterable[str] | None = None) -> list[StoredNode]:
    query = select(t.nodes).order_by(t.nodes.c.created, t.nodes.c.id)
    if states is not None:
        query = query.where(t.nodes.c.state.in_(list(states)))
    return [_node(row) for row in conn.execute(query)]


def external_ids(conn: Connection, provider: str) -> set[str]:
    rows = conn.execute(
        select(t.nodes.c.external_id).where(
            t.nodes.c.provider == provider, t.nodes.c.external_id.is_not(None)
        )
    )
    return {row.external_id for row in rows}


def move_node(
    conn: Connection,
    node_id: str,
    old: str,
    new: str,
    now: float,
    *,
    unassigned: bool = False,
    **values: Any,
) -> bool:
    """Move a node from `old` to `new` if it is still in `old` (and, with
    `unassigned`, no request holds it); False if another got there first.
    `values` sets other columns in the same statement."""
    check_transition("node", old, new)
    if "connection" in values:
        values["connection"] = json.dumps(dict(values["connection"]))
    if "hold_expires" in values and values["hold_expires"] is not None:
        values["hold_expires"] = _us(values["hold_expires"])
    query = update(t.nodes).where(t.nodes.c.id == node_id, t.nodes.c.state == old)
    if unassigned:
        query = query.where(t.nodes.c.request.is_(None))
    moved = conn.execute(query.values(state=new, state_time=_us(now), **values)).rowcount
    return bool(moved)


def set_node(conn: Connection, node_id: str, state: str, **values: Any) -> bool:
    """Set columns of a node that is still in `state` (its launch progress:
    external id, attempts), without a state change."""
    moved = conn.execute(
        update(t.nodes).where(t.nodes.c.id == node_id, t.nodes.c.state == state).values(**values)
    ).rowcount
    return bool(moved)


def assign_node(
    conn: Connection, node_id: str, request: str | None, *, was: str | None, state: str
) -> bool:
    """Give a node to a request (or take it back with None) if its holder is
    still `was` and it is still in `state`."""
    holder = t.nodes.c.request.is_(None) if was is None else t.nodes.c.request == was
    moved = conn.execute(
        update(t.nodes)
        .where(t.nodes.c.id == node_id, t.nodes.c.state == state, holder)
        .values(request=request)
    ).rowcount
    return bool(moved)


def release_request_nodes(conn: Connection, request: str) -> None:
    """The request is over without its nodes: they are no one's (ready ones
    may serve another request, min-ready, or go as surplus)."""
    conn.execute(update(t.nodes).where(t.nodes.c.request == request).values(request=None))


def remove_node(conn: Connection, node_id: str, state: str) -> bool:
    gone = conn.execute(
        delete(t.nodes).where(t.nodes.c.id == node_id, t.nodes.c.state == state)
    ).rowcount
    return bool(gone)


# --- requests -----------------------------------------------------------------


def _request(row: Row[Any]) -> NodeRequest:
    return NodeRequest(
        id=row.id,
        labels=tuple(json.loads(row.labels)),
        build=row.build,
        precedence=row.precedence,
        relative_priority=row.relative_priority,
        created=row.created / _US,
        state=row.state,
        nodes=tuple(json.loads(row.nodes)),
        provider=row.provider,
        reason=row.reason,
    )


def add_request(conn: Connection, request: NodeRequest) -> None:
    conn.execute(
        insert(t.node_requests).values(
            id=request.id,
            labels=json.dumps(list(request.labels)),
            build=request.build,
            precedence=request.precedence,
            relative_priority=request.relative_priority,
            state=request.state,
            nodes=json.dumps(list(request.nodes)),
            provider=request.provider,
            reason=request.reason,
            created=_us(request.created),
        )
    )


def request(conn: Connection, request_id: str, *, lock: bool = False) -> NodeRequest | None:
    query = select(t.node_requests).where(t.node_requests.c.id == request_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    return None if row is None else _request(row)


def requests(conn: Connection, *, states: Iterable[str] | None = None) -> list[NodeRequest]:
    query = select(t.node_requests).order_by(t.node_requests.c.created, t.node_requests.c.id)
    if states is not None:
        query = query.where(t.node_requests.c.state.in_(list(states)))
    return [_request(row) for row in conn.execute(query)]


def move_request(
    conn: Connection,
    request_id: str,
    old: Iterable[str],
    new: str,
    *,
    nodes: Iterable[str] | None = None,
    provider: str | None = None,
    reason: str | None = None,
) -> bool:
    values: dict[str, Any] = {"state": new}
    if nodes is not None:
        values["nodes"] = json.dumps(list(nodes))
    if provider is not None:
        values["provider"] = provider
    if reason is not None:
        values["reason"] = reason
    moved = conn.execute(
        update(t.node_requests)
        .where(t.node_requests.c.id == request_id, t.node_requests.c.state.in_(list(old)))
        .values(**values)
    ).rowcount
    return bool(moved)


def remove_requests(conn: Connection, states: Iterable[str], before: float) -> int:
    """Forget finished requests older than `before`, but not those a node still
    names (a held node's request tells which build it was held for)."""
    named = select(t.nodes.c.request).where(t.nodes.c.request.is_not(None))
    return int(
        conn.execute(
            delete(t.node_requests).where(
                and_(
                    t.node_requests.c.state.in_(list(states)),
                    t.node_requests.c.created < _us(before),
                    t.node_requests.c.id.not_in(named),
                )
            )
        ).rowcount
    )


# --- autoholds ----------------------------------------------------------------


def _autohold(row: Row[Any]) -> Autohold:
    return Autohold(
        id=row.id,
        tenant=row.tenant,
        project=row.project,
        job=row.job,
        ref_filter=row.ref_filter,
        reason=row.reason,
        count=row._mapping["count"],
        node_expiration=None if row.node_expiration is None else float(row.node_expiration),
        created=row.created / _US,
        held=row.held,
    )


def add_autohold(conn: Connection, hold: Autohold) -> None:
    conn.execute(
        insert(t.autoholds).values(
            id=hold.id,
            tenant=hold.tenant,
            project=hold.project,
            job=hold.job,
            ref_filter=hold.ref_filter,
            reason=hold.reason,
            count=hold.count,
            held=hold.held,
            node_expiration=None if hold.node_expiration is None else int(hold.node_expiration),
            created=_us(hold.created),
        )
    )


def autoholds(conn: Connection, tenant: str | None = None) -> list[Autohold]:
    query = select(t.autoholds).order_by(t.autoholds.c.created, t.autoholds.c.id)
    if tenant is not None:
        query = query.where(t.autoholds.c.tenant == tenant)
    return [_autohold(row) for row in conn.execute(query)]


def autohold(conn: Connection, hold_id: str) -> Autohold | None:
    row = conn.execute(select(t.autoholds).where(t.autoholds.c.id == hold_id)).one_or_none()
    return None if row is None else _autohold(row)


def count_hold(conn: Connection, hold: Autohold) -> bool:
    """Use up one of the autohold's count, if no one else did since it was read."""
    moved = conn.execute(
        update(t.autoholds)
        .where(
            t.autoholds.c.id == hold.id,
            t.autoholds.c.held == hold.held,
            t.autoholds.c.held < t.autoholds.c.count,
        )
        .values(held=hold.held + 1)
    ).rowcount
    return bool(moved)


def remove_autohold(conn: Connection, hold_id: str) -> bool:
    return bool(conn.execute(delete(t.autoholds).where(t.autoholds.c.id == hold_id)).rowcount)


def held_nodes(conn: Connection, hold_id: str) -> list[StoredNode]:
    rows = conn.execute(select(t.nodes).where(t.nodes.c.hold_autohold == hold_id))
    return [_node(row) for row in rows]


def counts(conn: Connection) -> Mapping[str, int]:
    """Nodes by state, for the status page and tests."""
    found: dict[str, int] = {}
    for stored in nodes(conn):
        found[stored.node.state] = found.get(stored.node.state, 0) + 1
    return found

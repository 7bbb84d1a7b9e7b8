"""Which node request each pool takes next, and how: reuse ready nodes, launch
the rest, wait while the pool is full, or decline what no pool can ever fill.

Requests are filled whole by one pool or not at all, as Nodepool does: a build
whose nodes came from two clouds could not reach one from the other. A pool
that must make a request wait pauses for the rest of the round, so a lower
priority request never takes the capacity the waiting one needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from lockgate.core.nodes.model import (
    BUILDING,
    HOLD,
    IN_USE,
    READY,
    REQUESTED,
    USED,
    Node,
    NodeRequest,
)

# The states of a node that take up one of its pool's max-servers.
COUNTED_STATES = frozenset({BUILDING, READY, IN_USE, USED, HOLD})


@dataclass(frozen=True, slots=True)
class Pool:
    provider: str
    name: str
    labels: frozenset[str]
    max_servers: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.name)


@dataclass(frozen=True, slots=True)
class Fill:
    """Fill the request from one pool: `reuse` maps label slots to ready nodes,
    `launch` lists the labels of the slots to make new nodes for."""

    request: str
    provider: str
    pool: str
    reuse: tuple[tuple[int, str], ...]  # (slot, node id)
    launch: tuple[tuple[int, str], ...]  # (slot, label)


@dataclass(frozen=True, slots=True)
class Decline:
    request: str
    reason: str


@dataclass(frozen=True, slots=True)
class Wait:
    request: str
    reason: str


Plan = Fill | Decline | Wait


@dataclass(frozen=True, slots=True)
class TopUp:
    """Make one unassigned node of `label` in the pool, to keep min-ready."""

    label: str
    provider: str
    pool: str


@dataclass(slots=True)
class _Usage:
    counted: dict[tuple[str, str], int] = field(default_factory=dict)
    spare: dict[tuple[str, str], dict[str, list[str]]] = field(default_factory=dict)

    @classmethod
    def of(cls, nodes: Iterable[Node]) -> _Usage:
        usage = cls()
        for node in sorted(nodes, key=lambda n: (n.created, n.id)):
            key = (node.provider, node.pool)
            if node.state in COUNTED_STATES:
                usage.counted[key] = usage.counted.get(key, 0) + 1
            if node.state == READY and node.request is None:
                usage.spare.setdefault(key, {}).setdefault(node.label, []).append(node.id)
        return usage

    def used(self, pool: Pool) -> int:
        return self.counted.get(pool.key, 0)

    def spare_of(self, pool: Pool, label: str) -> list[str]:
        return self.spare.get(pool.key, {}).get(label, [])


def queue(requests: Iterable[NodeRequest]) -> list[NodeRequest]:
    """The requests still waiting for a provider, first to be served first."""
    return sorted((r for r in requests if r.state == REQUESTED), key=lambda r: r.sort_key)


def _serving(request: NodeRequest, pools: Sequence[Pool]) -> list[Pool]:
    wanted = set(request.labels)
    return [pool for pool in pools if wanted <= pool.labels]


def _unservable(request: NodeRequest, pools: Sequence[Pool]) -> str | None:
    """Why no pool can ever fill the request, or None if one can."""
    served = set().union(*(pool.labels for pool in pools)) if pools else set()
    missing = [label for label in dict.fromkeys(request.labels) if label not in served]
    if missing:
        return "; ".join(f"no provider serves label {label}" for label in missing)
    serving = _serving(request, pools)
    if not serving:
        return (
            f"no single pool serves every label of {', '.join(request.labels)}; "
            "a request is filled whole by one pool"
        )
    largest = max(pool.max_servers for pool in serving)
    if len(request.labels) > largest:
        return (
            f"the request needs {len(request.labels)} nodes but the largest pool serving "
            f"its labels has max-servers {largest}"
        )
    return None


def _fill_from(request: NodeRequest, pool: Pool, usage: _Usage) -> Fill | None:
    taken: set[str] = set()
    reuse: list[tuple[int, str]] = []
    launch: list[tuple[int, str]] = []
    for slot, label in enumerate(request.labels):
        spare = [n for n in usage.spare_of(pool, label) if n not in taken]
        if spare:
            taken.add(spare[0])
            reuse.append((slot, spare[0]))
        else:
            launch.append((slot, label))
    if usage.used(pool) + len(launch) > pool.max_servers:
        return None
    return Fill(request.id, pool.provider, pool.name, tuple(reuse), tuple(launch))


def _apply(fill: Fill, pool: Pool, usage: _Usage) -> None:
    usage.counted[pool.key] = usage.used(pool) + len(fill.launch)
    reused = {node for _, node in fill.reuse}
    for label, ids in usage.spare.get(pool.key, {}).items():
        usage.spare[pool.key][label] = [n for n in ids if n not in reused]


def plan_round(
    requests: Iterable[NodeRequest], pools: Sequence[Pool], nodes: Iterable[Node]
) -> list[Plan]:
    """One plan for each waiting request, in the order they are served.

    Among the pools that could fill a request, the one with the most ready
    nodes to reuse wins, then the one with the most room, then by name.
    """
    usage = _Usage.of(nodes)
    paused: set[tuple[str, str]] = set()
    plans: list[Plan] = []
    for request in queue(requests):
        reason = _unservable(request, pools)
        if reason is not None:
            plans.append(Decline(request.id, reason))
            continue
        candidates: list[tuple[tuple[int, int, str, str], Fill, Pool]] = []
        serving = [p for p in _serving(request, pools) if p.key not in paused]
        for pool in serving:
            fill = _fill_from(request, pool, usage)
            if fill is not None:
                room = pool.max_servers - usage.used(pool)
                candidates.append(((-len(fill.reuse), -room, pool.provider, pool.name), fill, pool))
        if not candidates:
            for pool in serving:
                paused.add(pool.key)
            names = ", ".join(f"{p.provider}/{p.name}" for p in _serving(request, pools))
            plans.append(Wait(request.id, f"waiting for room in {names} (at max-servers)"))
            continue
        _, fill, pool = min(candidates, key=lambda c: c[0])
        _apply(fill, pool, usage)
        plans.append(fill)
    return plans


def top_ups(
    min_ready: Mapping[str, int], pools: Sequence[Pool], nodes: Iterable[Node]
) -> list[TopUp]:
    """The nodes to launch so that each label has `min_ready` unassigned nodes
    ready or on their way, within max-servers. Best effort, as in Nodepool."""
    nodes = list(nodes)
    usage = _Usage.of(nodes)
    have: dict[str, int] = {}
    for node in nodes:
        if node.request is None and node.state in (READY, BUILDING):
            have[node.label] = have.get(node.label, 0) + 1
    plans: list[TopUp] = []
    for label in sorted(min_ready):
        short = min_ready[label] - have.get(label, 0)
        for pool in sorted(pools, key=lambda p: p.key):
            while short > 0 and label in pool.labels and usage.used(pool) < pool.max_servers:
                plans.append(TopUp(label, pool.provider, pool.name))
                usage.counted[pool.key] = usage.used(pool) + 1
                short -= 1
    return plans


def surplus(
    min_ready: Mapping[str, int], nodes: Iterable[Node], *, keep: Iterable[str] = ()
) -> list[str]:
    """Ready nodes no request holds beyond their label's min-ready (left over
    from canceled or declined requests): the newest are kept, the rest go."""
    kept = set(keep)
    by_label: dict[str, list[Node]] = {}
    for node in nodes:
        if node.state == READY and node.request is None and node.id not in kept:
            by_label.setdefault(node.label, []).append(node)
    extra: list[str] = []
    for label, ready in sorted(by_label.items()):
        ready.sort(key=lambda n: (n.created, n.id), reverse=True)
        extra.extend(n.id for n in ready[max(0, min_ready.get(label, 0)) :])
    return extra

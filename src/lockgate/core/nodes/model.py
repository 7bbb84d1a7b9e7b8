"""Nodes and node requests, in Nodepool's terms.

A node request asks for a set of labels for one build, with the priority the
scheduler gives it; it is filled whole or declined. A node is one machine (or
sandbox) of a provider's pool. Both are rows in the database; these are their
values, and the transitions are the only ones allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Node states, as Nodepool names them.
BUILDING = "building"
READY = "ready"
IN_USE = "in-use"
USED = "used"
DELETING = "deleting"
HOLD = "hold"
FAILED = "failed"
NODE_STATES = (BUILDING, READY, IN_USE, USED, DELETING, HOLD, FAILED)

NODE_TRANSITIONS: Mapping[str, frozenset[str]] = {
    BUILDING: frozenset({READY, FAILED, DELETING}),
    READY: frozenset({IN_USE, DELETING}),
    IN_USE: frozenset({USED, HOLD, DELETING}),
    USED: frozenset({DELETING}),
    HOLD: frozenset({DELETING}),
    FAILED: frozenset({DELETING}),
    DELETING: frozenset(),  # the row goes when the provider confirms the delete
}

# Request states.
REQUESTED = "requested"
PENDING = "pending"  # a provider took it and is building its nodes
FULFILLED = "fulfilled"
DECLINED = "failed"  # every provider declined, or launches failed past their retries
CANCELED = "canceled"
REQUEST_STATES = (REQUESTED, PENDING, FULFILLED, DECLINED, CANCELED)


class TransitionError(ValueError):
    pass


def check_transition(kind: str, old: str, new: str) -> None:
    allowed = NODE_TRANSITIONS.get(old, frozenset())
    if new not in allowed:
        raise TransitionError(f"a {kind} may not go from {old} to {new}")


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    label: str
    provider: str
    pool: str
    state: str
    created: float
    state_time: float
    # how Ansible reaches the node: host vars such as ansible_connection,
    # ansible_host, ansible_port, ansible_user, and the provider's own
    # (a local sandbox's root folder); the inventory writes them as they are
    connection: Mapping[str, Any] = field(default_factory=dict)
    request: str | None = None  # the request it was built for or given to
    launch_attempts: int = 0
    hold_reason: str = ""
    hold_expires: float | None = None  # None: held until deleted by hand


@dataclass(frozen=True, slots=True)
class NodeRequest:
    id: str
    labels: tuple[str, ...]  # one node per entry, in the nodeset's order
    build: str  # the build it is for (the requestor)
    # lower first: pipeline precedence (0 high, 1 normal, 2 low), then the
    # item's relative priority, then age
    precedence: int
    relative_priority: int
    created: float
    state: str = REQUESTED
    nodes: tuple[str, ...] = ()  # node ids, in `labels` order, once fulfilled
    provider: str | None = None
    reason: str = ""  # why it was declined

    @property
    def sort_key(self) -> tuple[int, int, float, str]:
        return (self.precedence, self.relative_priority, self.created, self.id)


@dataclass(frozen=True, slots=True)
class Autohold:
    """Keep the nodes of the next `count` failed builds of a job, for debugging."""

    id: str
    tenant: str
    project: str
    job: str
    ref_filter: str  # a regex on the build's ref; ".*" for any
    reason: str
    count: int
    node_expiration: float | None  # seconds a held node is kept; None: until deleted
    created: float
    held: int = 0  # builds whose nodes it has held so far

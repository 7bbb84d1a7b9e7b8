"""Which autohold keeps a failed build's nodes, and when held nodes go.

As in Zuul, an autohold names a tenant, project and job, and a regular
expression the build's ref must match from its start; it holds the nodes of
the next `count` failed builds. When several match, one filtered on a ref
(a change's refs) wins over one for any ref, then the oldest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lockgate.core.nodes.model import HOLD, Autohold, Node

ANY_REF = ".*"

# Zuul holds the nodes of builds with these results only.
HOLDING_RESULTS = frozenset({"FAILURE", "RETRY_LIMIT", "POST_FAILURE", "TIMED_OUT"})


class AutoholdError(ValueError):
    pass


def check_ref_filter(ref_filter: str) -> str:
    try:
        re.compile(ref_filter)
    except re.error as error:
        raise AutoholdError(
            f"ref filter {ref_filter!r} is not a valid regular expression: {error}; "
            f"use {ANY_REF!r} for any ref"
        ) from None
    return ref_filter


def change_ref_filter(change: int) -> str:
    """The filter for every patch set of a change: refs/changes/NN/N/.*"""
    return f"refs/changes/{change % 100:02d}/{change}/.*"


def matches(hold: Autohold, tenant: str, project: str, job: str, ref: str) -> bool:
    if hold.held >= hold.count:
        return False
    if (hold.tenant, hold.project, hold.job) != (tenant, project, job):
        return False
    try:
        return re.match(hold.ref_filter, ref) is not None
    except re.error:
        return False


def matching(
    holds: Iterable[Autohold], tenant: str, project: str, job: str, ref: str
) -> Autohold | None:
    found = [h for h in holds if matches(h, tenant, project, job, ref)]
    if not found:
        return None
    return min(found, key=lambda h: (h.ref_filter == ANY_REF, h.created, h.id))


def hold_expires(hold: Autohold, now: float) -> float | None:
    return None if hold.node_expiration is None else now + hold.node_expiration


def expired(nodes: Iterable[Node], now: float) -> list[Node]:
    """Held nodes whose hold has run out, oldest first."""
    gone = [
        n for n in nodes if n.state == HOLD and n.hold_expires is not None and n.hold_expires <= now
    ]
    return sorted(gone, key=lambda n: (n.hold_expires or 0.0, n.id))

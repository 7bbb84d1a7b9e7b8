"""What the gating core remembers between events: queues, items, build sets,
builds and the reports still in flight.

Everything here is plain data (see `codec.py`), so that a scheduler can save it
after every event and a new process can continue where the old one stood.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lockgate.core.config.frozen import FrozenJob, JobGraph
from lockgate.core.gating.actions import Report
from lockgate.core.gating.changes import Change, Ref

# Build results that end a job for good (RETRY does not: it asks for a new try).
SUCCESS = "SUCCESS"
FINAL_FAILURES = frozenset(
    {
        "FAILURE",
        "TIMED_OUT",
        "POST_FAILURE",
        "RETRY_LIMIT",
        "NODE_FAILURE",
        "ABORTED",
        "CANCELED",
        "MERGE_CONFLICT",
        "DISK_FULL",
        "ERROR",
    }
)


@dataclass(slots=True)
class Build:
    id: str
    job: str
    attempt: int
    item: str
    buildset: str
    state: str = "queued"  # queued (asked for, not started), running, done
    result: str | None = None
    started: float | None = None
    ended: float | None = None
    url: str = ""
    error: str = ""
    semaphores: tuple[str, ...] = ()  # held while queued or running
    data: dict[str, Any] = field(default_factory=dict)  # what it returned (zuul_return)


@dataclass(slots=True)
class Buildset:
    id: str
    item: str
    # new (no merge asked), pending (asked), done, conflict, config-error
    merge: str = "new"
    changes: tuple[str, ...] = ()  # keys in the speculative state, this item's last
    heads: dict[tuple[str, str], str] = field(default_factory=dict)
    conflict: str | None = None
    config_errors: tuple[str, ...] = ()
    graph: JobGraph | None = None
    dynamic_layout: bool = False  # the graph came from the item's own layout
    builds: dict[str, list[str]] = field(default_factory=dict)  # job -> build ids, tries
    # jobs given a result without a build: SKIPPED, CANCELED; job -> (result, detail)
    settled: dict[str, tuple[str, str]] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)  # job -> why it has not started

    def job(self, name: str) -> FrozenJob | None:
        return None if self.graph is None else self.graph.get(name)


@dataclass(slots=True)
class Item:
    id: str
    pipeline: str
    queue: str
    changes: list[Change] = field(default_factory=list)  # a cycle holds several
    ref: Ref | None = None
    live: bool = True
    ignore_requirements: bool = False  # an admin's enqueue
    enqueue_time: float = 0.0
    item_ahead: str | None = None
    buildset: str = ""
    reported_start: bool = False
    failing_reasons: list[str] = field(default_factory=list)
    active: bool = False
    # set when a change this item needs sits in a failing item
    needs_failing: bool = False
    # the reason the item is reported as failing without a job having failed
    fail_reason: str = ""
    submits: list[str] = field(default_factory=list)  # submit reports in flight
    merged_keys: list[str] = field(default_factory=list)  # of its changes, confirmed merged
    submit_errors: list[str] = field(default_factory=list)
    result: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        if self.ref is not None:
            return (self.ref.key,)
        return tuple(c.key for c in self.changes)

    @property
    def project(self) -> str:
        return self.ref.project if self.ref is not None else self.changes[0].project

    @property
    def branch(self) -> str:
        return self.ref.branch if self.ref is not None else self.changes[0].branch


@dataclass(slots=True)
class Queue:
    id: str
    pipeline: str
    name: str  # the shared queue's name; a dynamic queue is named for its project
    branch: str = ""  # per-branch queues and supercedent queues
    dynamic: bool = False  # deleted when it empties
    window: int = 0  # 0: unlimited
    items: list[str] = field(default_factory=list)  # queue order, head first


@dataclass(slots=True)
class PendingReport:
    """A Report sent but not confirmed by ReportDone; re-sent after a restart."""

    report: Report
    kind: str  # start, enqueue, final, submit, dequeue


@dataclass(slots=True)
class GateState:
    tenant: str
    counter: int = 0
    layout_generation: str = ""
    pipelines: dict[str, list[str]] = field(default_factory=dict)  # pipeline -> queue ids
    queues: dict[str, Queue] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    buildsets: dict[str, Buildset] = field(default_factory=dict)
    builds: dict[str, Build] = field(default_factory=dict)
    reports: dict[str, PendingReport] = field(default_factory=dict)
    semaphores: dict[str, list[str]] = field(default_factory=dict)  # name -> build ids
    consecutive_failures: dict[str, int] = field(default_factory=dict)
    merged: list[str] = field(default_factory=list)  # change keys this gate merged

    def next_id(self, kind: str) -> str:
        self.counter += 1
        return f"{self.tenant}-{kind}{self.counter}"

    def queue_items(self, queue_id: str) -> list[Item]:
        return [self.items[i] for i in self.queues[queue_id].items]

    def pipeline_items(self, pipeline: str) -> list[Item]:
        return [item for q in self.pipelines.get(pipeline, []) for item in self.queue_items(q)]

    def live_items_for(self, pipeline: str, key: str) -> list[Item]:
        # asked for every change an event brings, in every pipeline: no lists
        # of the pipeline's items on the way
        items, queues = self.items, self.queues
        found = []
        for queue_id in self.pipelines.get(pipeline, ()):
            for item_id in queues[queue_id].items:
                item = items[item_id]
                if item.live and key in item.keys:
                    found.append(item)
        return found

    def behind(self, item: Item) -> list[Item]:
        """The items whose item ahead is `item`, in queue order."""
        return [i for i in self.queue_items(item.queue) if i.item_ahead == item.id]

    def chain(self, item: Item) -> list[Item]:
        """The items ahead of `item` up to its head, nearest last, and `item` itself."""
        out = [item]
        ahead = item.item_ahead
        while ahead is not None:
            a = self.items[ahead]
            out.append(a)
            ahead = a.item_ahead
        out.reverse()
        return out

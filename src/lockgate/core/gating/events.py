"""The events the gating core is driven by."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lockgate.core.config.source import ConfigError
from lockgate.core.gating.changes import Change, Ref, Subject
from lockgate.core.gating.layout_view import LayoutView


@dataclass(frozen=True, slots=True)
class EventApproval:
    label: str
    value: int
    old_value: int | None = None  # None: the vote did not change


@dataclass(frozen=True, slots=True)
class TriggerEvent:
    """A review-server (or timer) event, as the pipelines' triggers see it.

    `type` is the Gerrit stream-events type (`patchset-created`,
    `comment-added`, `ref-updated`, `change-merged`, `change-abandoned`,
    `change-restored`, `topic-changed`, `hashtags-changed`, `vote-deleted`,
    `wip-state-changed`), or `timer` with `pipeline` naming the timer's pipeline.
    """

    seq: int  # the event log's sequence number; timers use 0
    type: str
    connection: str
    project: str
    branch: str = ""
    ref: str = ""
    change: Change | None = None  # the change as it is now, for change events
    ref_update: Ref | None = None  # for ref-updated and timer events
    username: str = ""  # who caused the event
    email: str = ""
    comment: str = ""
    approvals: tuple[EventApproval, ...] = ()
    pipeline: str = ""  # timer events: the pipeline whose timer fired
    # approved open changes that need this event's change, for enqueueing
    # changes behind it in a dependent pipeline (Zuul's enqueueChangesBehind);
    # the gate enqueues the changes behind each change it enqueues, the needed
    # ones ahead included, so this holds those that need this change or any of
    # its `dependencies`, directly or not
    needed_by: tuple[Change, ...] = ()
    # every change the event's change needs, transitively, keyed "N,P"
    dependencies: Mapping[str, Change] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MergeCompleted:
    """The merger's answer to a MergeRequest."""

    item: str
    buildset: str
    # (project, branch) -> sha of the speculative state, every involved project
    heads: Mapping[tuple[str, str], str] = field(default_factory=dict)
    conflict: str | None = None  # the key of the change that did not merge
    conflict_paths: tuple[str, ...] = ()
    # the item's dynamic layout when its changes (or those ahead) edit
    # untrusted configuration; None means the tenant layout applies
    layout: LayoutView | None = None
    config_errors: tuple[ConfigError, ...] = ()


@dataclass(frozen=True, slots=True)
class BuildStarted:
    build: str
    started: float
    url: str = ""


@dataclass(frozen=True, slots=True)
class BuildCompleted:
    """A build's result: SUCCESS, FAILURE, TIMED_OUT, POST_FAILURE, RETRY,
    NODE_FAILURE, SKIPPED, ABORTED, MERGE_CONFLICT, DISK_FULL or ERROR."""

    build: str
    result: str
    started: float
    ended: float
    url: str = ""
    error: str = ""
    # what the build returned with zuul_return, its artifacts' URLs resolved
    # against `url` (core.builds.returns)
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReportDone:
    """A report was carried out. For a report that submits, `merged` says
    whether the change is merged now; `error` why the review server refused."""

    report: str
    merged: bool | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class Enqueue:
    """An admin's enqueue: bypasses require/reject, not mergeability."""

    pipeline: str
    subject: Subject
    dependencies: Mapping[str, Change] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Dequeue:
    pipeline: str
    key: str  # "N,P" or a Ref's key or "refs/...": the item to remove


@dataclass(frozen=True, slots=True)
class Promote:
    pipeline: str
    keys: tuple[str, ...]  # "N,P", in the order wanted at the head


@dataclass(frozen=True, slots=True)
class Reconfigured:
    """The tenant's layout changed (a config change merged, or a reload)."""

    layout: LayoutView


GateEvent = (
    TriggerEvent
    | MergeCompleted
    | BuildStarted
    | BuildCompleted
    | ReportDone
    | Enqueue
    | Dequeue
    | Promote
    | Reconfigured
)

__all__ = ["Change", "Ref", "Subject"]

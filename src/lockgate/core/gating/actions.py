"""What the gating core asks the world to do. The scheduler service carries
each action out and feeds the outcome back as an event (`events.py`).

Every action carries an id from the core's state, so that carrying it out
twice (after a crash before the state was saved) is harmless: the executor
and the reporter refuse an id they have already seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lockgate.core.config.frozen import FrozenJob
from lockgate.core.config.objects import ReporterDef
from lockgate.core.gating.changes import Change, Ref


@dataclass(frozen=True, slots=True)
class MergeRequest:
    """Build an item's speculative state: every change in `changes` applied in
    order (the items ahead first, this item's last) onto the branch tips of
    their projects, plus `projects` frozen at their tips."""

    item: str
    buildset: str
    changes: tuple[Change, ...] = ()
    ref: Ref | None = None  # a ref item: no merge, its newrev is the state
    projects: tuple[tuple[str, str], ...] = ()  # (project, branch) to freeze besides
    # whether the item's changes (or those ahead) edit configuration, so the
    # merger must also build a dynamic layout
    config_changes: bool = False


@dataclass(frozen=True, slots=True)
class StartBuild:
    build: str
    item: str
    buildset: str
    tenant: str
    pipeline: str
    job: FrozenJob
    attempt: int  # 1 for the first try
    changes: tuple[Change, ...]  # the speculative state's changes, this item's last
    ref: Ref | None
    # node-request priority: pipeline precedence (0 high, 1 normal, 2 low), then
    # the item's relative position among its project's or queue's items
    precedence: int
    relative_priority: int
    heads: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # the pipeline's `post-review`: whether secrets of untrusted projects and
    # post-review jobs may run in it (the executor checks again)
    post_review: bool = False
    # what the job's ancestors in the item returned with zuul_return
    # (core.builds.returns.parent_returns): variables below the job's `vars`,
    # and their artifacts for `zuul.artifacts`
    parent_data: Mapping[str, Any] = field(default_factory=dict)
    artifacts: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class CancelBuild:
    build: str


@dataclass(frozen=True, slots=True)
class Report:
    """Comment, vote and maybe submit on a change through the review server."""

    report: str
    item: str
    pipeline: str
    action: str  # one of objects.REPORTER_ACTIONS
    change: Change
    message: str
    reporters: tuple[ReporterDef, ...]
    buildset: str = ""  # the build set whose result this reports, when there is one
    result: str = ""  # that build set's result: SUCCESS, FAILURE, MERGE_CONFLICT, ...

    @property
    def submits(self) -> bool:
        return any(r.submit for r in self.reporters)


GateAction = MergeRequest | StartBuild | CancelBuild | Report

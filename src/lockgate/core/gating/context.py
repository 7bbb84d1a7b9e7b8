"""One event's worth of work: the state, the layout in force, the time, and the
actions gathered so far. The managers' functions take it instead of globals."""

from __future__ import annotations

from dataclasses import dataclass, field

from lockgate.core.config.objects import PipelineDef
from lockgate.core.gating.actions import GateAction
from lockgate.core.gating.changes import Change
from lockgate.core.gating.layout_view import LayoutView
from lockgate.core.gating.state import GateState

PRECEDENCE = {"high": 0, "normal": 1, "low": 2}
SHARED_MANAGERS = ("dependent", "serial")


@dataclass(slots=True)
class Ctx:
    state: GateState
    layout: LayoutView
    now: float
    # buildset id -> the dynamic layout its item's merge produced; kept in
    # memory only, a restart re-asks for the merge of an item not yet started
    dynamic: dict[str, LayoutView] = field(default_factory=dict)
    actions: list[GateAction] = field(default_factory=list)
    # per pass: item id -> whether it or an item ahead holds the items behind
    holds: dict[str, bool] = field(default_factory=dict)
    semaphore_freed: bool = False
    # queues whose items an event added, removed or refreshed
    touched: set[str] = field(default_factory=set)
    # (pipeline, change snapshot) -> whether it misses a requirement; kept by
    # the gate between events, the objects held so that their ids stay theirs
    requirement_cache: dict[tuple[int, int], tuple[PipelineDef, Change, bool]] = field(
        default_factory=dict
    )

    @property
    def tenant(self) -> str:
        return self.state.tenant

    def emit(self, action: GateAction) -> None:
        self.actions.append(action)

    def pipeline(self, name: str) -> PipelineDef:
        return self.layout.pipeline(name)

    def has_pipeline(self, name: str) -> bool:
        return name in self.layout.pipeline_names()

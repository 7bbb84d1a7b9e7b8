"""What the gating core asks of a tenant's layout.

`core.config.layout.Layout` answers it for the tenant's loaded configuration
and for the dynamic layout of an item whose changes edit configuration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from lockgate.core.config.frozen import JobGraph
from lockgate.core.config.objects import PipelineDef
from lockgate.core.config.source import ConfigError
from lockgate.core.gating.changes import Subject


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """The shared queue a project's items join in a pipeline."""

    name: str
    per_branch: bool = False
    allow_circular_dependencies: bool = False
    dependencies_by_topic: bool = False


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """Why no job graph could be frozen: the configuration errors, with where."""

    errors: tuple[ConfigError, ...]


class LayoutView(Protocol):
    @property
    def generation(self) -> str:
        """Identifies this layout; a reconfiguration or a dynamic layout has its own."""
        ...

    def pipeline_names(self) -> Sequence[str]: ...

    def pipeline(self, name: str) -> PipelineDef: ...

    def queue_for(self, pipeline: str, project: str) -> QueueSpec | None:
        """The queue of `project` in `pipeline`: None when the project runs no
        jobs there (a dependent pipeline then gives it a dynamic queue)."""
        ...

    def job_graph(self, pipeline: str, subject: Subject) -> JobGraph | ConfigProblem:
        """The frozen jobs `subject` runs in `pipeline` (an empty graph when none)."""
        ...

    def semaphore_max(self, name: str) -> int:
        """A semaphore that is not defined has a max of 1, as in Zuul."""
        ...

    def max_dependencies(self) -> int | None: ...

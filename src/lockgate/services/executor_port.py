"""The port through which the scheduler runs builds.

The executor takes a `StartBuild`, runs the job on the item's frozen
speculative state, and reports back through the sink it was bound to:
`BuildStarted` when the job began, `BuildCompleted` with its result. It may
call the sink from any thread. `cancel` stops a build; a cancelled build that
had started still completes, as ABORTED.

This issue ships the in-process fake (`lockgate.testing.fake_executor`); the
real executor, with nodes and Ansible, implements the same port.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from lockgate.core.gating.actions import StartBuild
from lockgate.core.gating.events import BuildCompleted, BuildStarted

BuildSink = Callable[[BuildStarted | BuildCompleted], None]


class Executor(Protocol):
    def bind(self, sink: BuildSink) -> None:
        """Where build outcomes go; called once, before the first start."""
        ...

    def start(self, build: StartBuild) -> None:
        """Begin `build`. Starting a build id already known is a no-op."""
        ...

    def cancel(self, build: str) -> None:
        """Stop `build` if it is queued or running; an unknown id is a no-op."""
        ...

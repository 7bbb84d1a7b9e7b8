"""The ports of test nodes: providers make and delete nodes, the launcher
hands whole node sets to builds, the log store keeps what builds write.

Providers are resumable state machines, as Zuul's cloud drivers are: `create`
returns a machine whose `advance()` does one short, non-blocking step, and
whose `external_id` (the provider's own name for what it made) is saved as
soon as it exists, so that a launcher restarted half way resumes the launch
or deletes the leftovers instead of leaking them. The local and static
providers finish in one step; cloud drivers take many.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from lockgate.core.nodes.launching import LaunchError, PoolInfo
from lockgate.core.nodes.model import Node, NodeRequest

__all__ = [
    "DeleteMachine",
    "LaunchError",
    "LaunchMachine",
    "Launcher",
    "LogStore",
    "PoolInfo",
    "Provider",
]


class LaunchMachine(Protocol):
    @property
    def external_id(self) -> str | None: ...

    def advance(self) -> bool:
        """One step; True once the node is ready (then `connection` holds how to
        reach it). Raises LaunchError when it cannot become ready."""
        ...

    @property
    def connection(self) -> Mapping[str, Any]: ...


class DeleteMachine(Protocol):
    def advance(self) -> bool:
        """One step; True once nothing of the node is left (every process killed,
        every file and resource gone)."""
        ...


class Provider(Protocol):
    @property
    def name(self) -> str: ...

    def pools(self) -> Sequence[PoolInfo]: ...

    def create(self, node: Node, external_id: str | None = None) -> LaunchMachine:
        """Make `node` (or resume making it, given the id saved by an earlier run)."""
        ...

    def delete(self, node: Node, external_id: str | None = None) -> DeleteMachine: ...

    def alive(self, node: Node) -> bool:
        """Whether a ready node is still there and reachable (checked before use)."""
        ...

    def leaked(self, known: set[str]) -> list[str]:
        """External ids of what this provider holds that no node row names."""
        ...

    def remove_leaked(self, external_id: str) -> None: ...


class Launcher(Protocol):
    """What the executor asks of the node launcher."""

    def request(
        self, build: str, labels: Sequence[str], *, precedence: int, relative_priority: int
    ) -> str:
        """A new node request; returns its id. Empty `labels`: fulfilled at once."""
        ...

    def wait(self, request: str, timeout: float | None = None) -> NodeRequest:
        """Block until the request is fulfilled, declined or canceled."""
        ...

    def accept(self, request: str) -> list[Node]:
        """Take a fulfilled request's nodes: they go ready -> in-use."""
        ...

    def release(self, nodes: Sequence[str], *, hold: str | None = None) -> None:
        """Give nodes back after the build: in-use -> used -> deleted, or -> hold
        when an autohold took them (`hold` is its id)."""
        ...

    def cancel(self, request: str) -> None: ...

    def autohold_for(self, tenant: str, project: str, job: str, ref: str) -> str | None:
        """The autohold that keeps this failed build's nodes, if one matches
        (its count is used up by one)."""
        ...


class LogStore(Protocol):
    """Where build logs live: a folder of the site by default; an object store
    implements the same port later."""

    def folder(self, path: str) -> Path:
        """A local folder the executor writes a build's logs into while it runs
        (for the filesystem store, the stored folder itself, so the console
        can be read as it grows)."""
        ...

    def finish(self, path: str) -> str:
        """The build is over: make its folder final (compress, upload) and return
        its public URL."""
        ...

    def url(self, path: str) -> str: ...

"""What providers and the launcher share without either depending on the
other: a provider's pools and its launch failure. The ports in
services/node_ports.py re-export both, so adapters (the providers) can raise
and describe them without importing the service layer."""

from __future__ import annotations

from dataclasses import dataclass


class LaunchError(RuntimeError):
    """The provider could not make the node; the launcher retries up to the
    pool's launch-retries, then fails the request."""


@dataclass(frozen=True, slots=True)
class PoolInfo:
    name: str
    labels: frozenset[str]
    max_servers: int
    launch_retries: int = 3
    boot_timeout: float = 120.0

"""Frozen jobs: what one job is for one item, after inheritance and variants.

This is the boundary between the configuration language and the gating core:
the layout freezes, for an item's project, branch, pipeline and changed files,
the job graph that the scheduler then runs. Every attribute has its final
value here; nothing is "not set".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lockgate.core.config.objects import JobDependency, NodesetDef, RequiredProject, RoleRef
from lockgate.core.config.source import NOWHERE, Where

DEFAULT_ATTEMPTS = 3
DEFAULT_TIMEOUT = 10800  # seconds; the tenant's max-job-timeout by default
# A job with no nodeset runs on the executor alone.
NO_NODES = NodesetDef("")


@dataclass(frozen=True, slots=True)
class FrozenPlaybook:
    """A playbook of a frozen job, with the context it runs in: the project and
    branch whose configuration defined it, and whether that is trusted."""

    project: str
    branch: str
    path: str
    trusted: bool
    roles: tuple[RoleRef, ...] = ()
    semaphores: tuple[str, ...] = ()
    # names of the secrets (SecretUse.name) this playbook's level may see
    secrets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FrozenSecret:
    name: str  # the variable name playbooks see
    secret: str  # the secret object's name
    project: str  # where the secret was defined
    trusted: bool
    # the secret object's data, still encrypted (`Tagged` leaves), frozen with
    # the job so that a build decrypts what its layout defined; None when the
    # layout has no such secret (a configuration error refuses such jobs)
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class FrozenJob:
    name: str
    where: Where = NOWHERE  # the first variant that applied
    description: str = ""
    voting: bool = True
    attempts: int = DEFAULT_ATTEMPTS
    timeout: int | None = None
    post_timeout: int | None = None
    dependencies: tuple[JobDependency, ...] = ()
    semaphores: tuple[str, ...] = ()
    nodeset: NodesetDef = NO_NODES
    hold_following_changes: bool = False
    post_review: bool = False
    pre_run: tuple[FrozenPlaybook, ...] = ()
    run: tuple[FrozenPlaybook, ...] = ()
    post_run: tuple[FrozenPlaybook, ...] = ()
    cleanup_run: tuple[FrozenPlaybook, ...] = ()
    roles: tuple[RoleRef, ...] = ()
    required_projects: tuple[RequiredProject, ...] = ()
    vars: Mapping[str, Any] = field(default_factory=dict)
    extra_vars: Mapping[str, Any] = field(default_factory=dict)
    host_vars: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    group_vars: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    secrets: tuple[FrozenSecret, ...] = ()
    override_checkout: str | None = None
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    workspace_scheme: str = "golang"
    deduplicate: bool | str = "auto"
    failure_output: tuple[str, ...] = ()
    ansible_version: str | None = None
    # the names of the jobs this one inherits from, nearest first, ending at a base job
    ancestry: tuple[str, ...] = ()
    # every variant applied, in order, as "project/path:line"
    variants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JobGraph:
    """The jobs an item runs in one pipeline, in an order where every job
    comes after the jobs it depends on (hard or soft)."""

    jobs: tuple[FrozenJob, ...] = ()
    # the project's `fail-fast` for the pipeline: abort the item's builds on the first failure
    fail_fast: bool = False

    def __len__(self) -> int:
        return len(self.jobs)

    def names(self) -> tuple[str, ...]:
        return tuple(job.name for job in self.jobs)

    def get(self, name: str) -> FrozenJob | None:
        for job in self.jobs:
            if job.name == name:
                return job
        return None

    def parents(self, name: str) -> tuple[str, ...]:
        """The jobs `name` waits for that are in this graph (a soft dependency on a
        job that is not run is dropped when the graph is built)."""
        job = self.get(name)
        return () if job is None else tuple(d.name for d in job.dependencies)

    def dependants(self, name: str) -> tuple[str, ...]:
        return tuple(job.name for job in self.jobs if any(d.name == name for d in job.dependencies))

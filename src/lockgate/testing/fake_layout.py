"""Small layouts for the gating core's tests: pipelines built from plain
values, frozen jobs, and zuul.md section 3's baseline fixture.

    layout = baseline_layout(window=2)
    layout.projects["org/app"] = ProjectSpec({"check": (job("unit"),)})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lockgate.core.config.frozen import FrozenJob, JobGraph
from lockgate.core.config.objects import (
    ApprovalMatch,
    JobDependency,
    PipelineDef,
    ReporterDef,
    RequirementDef,
    TriggerDef,
)
from lockgate.core.config.source import ConfigError
from lockgate.core.gating.changes import Change, Subject
from lockgate.core.gating.layout_view import ConfigProblem, QueueSpec

CONNECTION = "gerrit"


def job(
    name: str,
    *,
    after: Sequence[str] = (),
    soft: Sequence[str] = (),
    **attributes: Any,
) -> FrozenJob:
    """A frozen job; `after` names the jobs it depends on."""
    deps = tuple(JobDependency(n) for n in after) + tuple(JobDependency(n, soft=True) for n in soft)
    return FrozenJob(name=name, dependencies=deps, **attributes)


def _reporter(labels: Mapping[str, int], submit: bool = False) -> tuple[ReporterDef, ...]:
    return (ReporterDef(CONNECTION, "gerrit", labels=dict(labels), submit=submit),)


def gate_pipeline(**overrides: Any) -> PipelineDef:
    """A dependent gate: Workflow +1 with Code-Review +2; start Verified 0,
    success Verified +2 and submit, failure Verified -2."""
    base = PipelineDef(
        name="gate",
        manager="dependent",
        precedence="high",
        success_message="Build succeeded (gate pipeline).",
        failure_message="Build failed (gate pipeline).",
        start_message="Starting gate jobs.",
        triggers=(
            TriggerDef(
                CONNECTION,
                "gerrit",
                events=("comment-added",),
                approvals=(ApprovalMatch({"Workflow": (1,)}),),
            ),
        ),
        require=(RequirementDef(CONNECTION, approvals=(ApprovalMatch({"Code-Review": (2,)}),)),),
        reporters={
            "start": _reporter({"Verified": 0}),
            "success": _reporter({"Verified": 2}, submit=True),
            "failure": _reporter({"Verified": -2}),
        },
    )
    return replace(base, **overrides)


def check_pipeline(**overrides: Any) -> PipelineDef:
    """An independent check: new patch sets and `recheck`; Verified +1 / -1."""
    base = PipelineDef(
        name="check",
        manager="independent",
        success_message="Build succeeded (check pipeline).",
        failure_message="Build failed (check pipeline).",
        triggers=(
            TriggerDef(CONNECTION, "gerrit", events=("patchset-created",)),
            TriggerDef(
                CONNECTION, "gerrit", events=("comment-added",), comments=(r"(?i)^\s*recheck",)
            ),
        ),
        reporters={"success": _reporter({"Verified": 1}), "failure": _reporter({"Verified": -1})},
    )
    return replace(base, **overrides)


@dataclass
class ProjectSpec:
    jobs: dict[str, tuple[FrozenJob, ...]] = field(default_factory=dict)  # pipeline -> jobs
    queue: str | None = None
    fail_fast: bool = False


@dataclass
class FakeLayout:
    """A LayoutView from plain values: pipelines, projects with their queue and
    jobs per pipeline, queues, semaphores."""

    pipelines: dict[str, PipelineDef]
    projects: dict[str, ProjectSpec]
    queues: dict[str, QueueSpec] = field(default_factory=dict)
    semaphores: dict[str, int] = field(default_factory=dict)
    max_deps: int | None = None
    name: str = "layout-1"
    # (pipeline, change key) -> configuration errors, for a change whose graph
    # cannot be frozen
    problems: dict[tuple[str, str], tuple[ConfigError, ...]] = field(default_factory=dict)

    @property
    def generation(self) -> str:
        return self.name

    def pipeline_names(self) -> Sequence[str]:
        return list(self.pipelines)

    def pipeline(self, name: str) -> PipelineDef:
        return self.pipelines[name]

    def queue_for(self, pipeline: str, project: str) -> QueueSpec | None:
        spec = self.projects.get(project)
        if spec is None or pipeline not in spec.jobs:
            return None
        name = spec.queue or project
        return self.queues.get(name, QueueSpec(name))

    def job_graph(self, pipeline: str, subject: Subject) -> JobGraph | ConfigProblem:
        if isinstance(subject, Change) and (pipeline, subject.key) in self.problems:
            return ConfigProblem(self.problems[(pipeline, subject.key)])
        spec = self.projects.get(subject.project)
        if spec is None:
            return JobGraph()
        return JobGraph(spec.jobs.get(pipeline, ()), fail_fast=spec.fail_fast)

    def semaphore_max(self, name: str) -> int:
        return self.semaphores.get(name, 1)

    def max_dependencies(self) -> int | None:
        return self.max_deps


def standard_jobs(*extra: FrozenJob) -> tuple[FrozenJob, ...]:
    """project-merge (hold-following-changes), then project-test1 (4 attempts)
    and project-test2 after it."""
    return (
        job("project-merge", hold_following_changes=True),
        job("project-test1", after=["project-merge"], attempts=4),
        job("project-test2", after=["project-merge"]),
        *extra,
    )


def baseline_layout(**gate_overrides: Any) -> FakeLayout:
    """zuul.md section 3's baseline fixture, with our label names."""
    integration = job("project1-project2-integration", after=["project-merge"])
    shared = {"check": standard_jobs(integration), "gate": standard_jobs(integration)}
    return FakeLayout(
        pipelines={"check": check_pipeline(), "gate": gate_pipeline(**gate_overrides)},
        projects={
            "org/project": ProjectSpec({"check": standard_jobs(), "gate": standard_jobs()}),
            "org/project1": ProjectSpec(dict(shared), queue="integrated"),
            "org/project2": ProjectSpec(dict(shared), queue="integrated"),
        },
        queues={"integrated": QueueSpec("integrated")},
    )

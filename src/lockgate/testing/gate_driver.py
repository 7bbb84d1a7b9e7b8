"""A small, pure harness for the gating core, in the spirit of Zuul's tests.

    driver = GateDriver(baseline_layout())
    a = driver.add_change("org/project", "A")
    driver.hold_jobs_in_build = True
    driver.approve(a)
    driver.release("project-merge", "1,1")
    assert driver.history_names() == [...]

Around the core's `TenantGate` it plays the world's part, in memory: a review
server (changes, votes, patch sets, Depends-On, submit), a merger (clean unless
two changes are marked conflicting; heads derived from what merged), an
executor whose builds can be held in its queue or while running, released and
failed per job and change, and a reporter. `settle()` runs until nothing is
pending. The full-system harness keeps the same API shape.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lockgate.core.config.source import ConfigError
from lockgate.core.gating.actions import CancelBuild, GateAction, MergeRequest, Report, StartBuild
from lockgate.core.gating.changes import Approval, Change, Ref
from lockgate.core.gating.codec import from_dict, to_dict
from lockgate.core.gating.events import (
    BuildCompleted,
    BuildStarted,
    EventApproval,
    GateEvent,
    MergeCompleted,
    ReportDone,
    TriggerEvent,
)
from lockgate.core.gating.gate import TenantGate
from lockgate.core.gating.layout_view import LayoutView
from lockgate.testing.fake_layout import (
    CONNECTION,
    FakeLayout,
    ProjectSpec,
    baseline_layout,
    check_pipeline,
    gate_pipeline,
    job,
    standard_jobs,
)

# --- the review server ----------------------------------------------------------


@dataclass
class FakeChange:
    number: int
    project: str
    branch: str
    subject: str
    files: tuple[str, ...]
    patchset: int = 1
    status: str = "NEW"
    approvals: dict[str, int] = field(default_factory=dict)
    # (change, patch set when the dependency was made or None for "current"):
    # a git parent pins a patch set, Depends-On follows the current one
    depends: list[tuple[FakeChange, int | None]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.number},{self.patchset}"

    @property
    def submittable(self) -> bool:
        return (
            self.status == "NEW"
            and self.approvals.get("Code-Review", 0) >= 2
            and self.approvals.get("Workflow", 0) >= 1
        )

    def needs(self) -> list[str]:
        return [
            f"{other.number},{ps or other.patchset}"
            for other, ps in self.depends
            if other.status != "MERGED"
        ]

    def snapshot(self, now: float) -> Change:
        return Change(
            project=self.project,
            branch=self.branch,
            number=self.number,
            patchset=self.patchset,
            commit=f"{self.number:020d}{self.patchset:020d}",
            ref=f"refs/changes/{self.number % 100:02d}/{self.number}/{self.patchset}",
            url=f"https://review.example/c/{self.project}/+/{self.number}",
            owner="alice",
            subject=self.subject,
            message=f"{self.subject}\n",
            status=self.status,
            approvals=tuple(
                Approval(label, value, "alice", "alice@example.org", now)
                for label, value in sorted(self.approvals.items())
                if value
            ),
            files=self.files,
            needs=tuple(self.needs()),
            submittable=self.submittable,
        )


# --- the executor and what it records ---------------------------------------------


@dataclass
class BuildRecord:
    """A finished build, ABORTED ones included: what Zuul's tests call history."""

    id: str
    name: str
    changes: str  # "1,1 2,1": the speculative state's changes
    result: str
    pipeline: str
    voting: bool
    attempt: int
    heads: Mapping[tuple[str, str], str]
    buildset: str = ""
    item: str = ""


@dataclass
class FakeBuild:
    action: StartBuild
    started: bool = False

    @property
    def name(self) -> str:
        return self.action.job.name

    @property
    def changes(self) -> str:
        return " ".join(c.key for c in self.action.changes)

    @property
    def own(self) -> str:
        return self.action.changes[-1].key if self.action.changes else ""


__all__ = [
    "CONNECTION",
    "BuildRecord",
    "FakeChange",
    "FakeLayout",
    "GateDriver",
    "ProjectSpec",
    "baseline_layout",
    "check_pipeline",
    "gate_pipeline",
    "job",
    "standard_jobs",
]


class GateDriver:
    def __init__(self, layout: LayoutView, tenant: str = "tenant-one") -> None:
        self.layout = layout
        self.gate = TenantGate(tenant, layout)
        self.now = 1_000_000.0
        self.changes: dict[int, FakeChange] = {}
        self.events: deque[GateEvent] = deque()
        self.actions: deque[GateAction] = deque()
        self.hold_jobs_in_build = False
        self.hold_jobs_in_queue = False
        self.running: list[FakeBuild] = []  # started or queued in the executor, in order
        self.history: list[BuildRecord] = []
        self.started_builds: list[StartBuild] = []
        self.reports: list[Report] = []
        self.merges: list[str] = []  # change keys, in the order they merged
        self.merge_requests: list[MergeRequest] = []
        self.tips: dict[tuple[str, str], tuple[str, ...]] = {}
        self.results: dict[tuple[str, str], list[str]] = {}  # (job, change) -> results to give
        self.failing: set[tuple[str, str]] = set()
        # (job, change) -> what its builds return with zuul_return
        self.returned: dict[tuple[str, str], dict[str, Any]] = {}
        self.conflicts: list[frozenset[str]] = []
        self.refuse_submit: dict[str, str] = {}  # change key -> the review server's error
        self.config_errors: dict[str, tuple[ConfigError, ...]] = {}  # change key -> errors
        self.dynamic_layouts: dict[str, LayoutView] = {}  # change key -> its layout
        self._carried: dict[str, ReportDone] = {}  # report id -> the outcome already given
        # the reporter carries reports out but its answers never reach the gate,
        # as when the scheduler dies between a submit and its ReportDone
        self.lose_report_outcomes = False
        # ... or reach it only when `deliver_reports` is called
        self.hold_report_outcomes = False
        self.withheld: list[ReportDone] = []
        self.double_merges: list[str] = []
        self.out_of_order_merges: list[str] = []  # merged before a change it needs
        self.untested_merges: list[str] = []
        self._seq = 0

    # --- changes ---------------------------------------------------------------

    def add_change(
        self,
        project: str,
        subject: str,
        branch: str = "master",
        files: Iterable[str] = (),
    ) -> FakeChange:
        number = len(self.changes) + 1
        change = FakeChange(number, project, branch, subject, tuple(files) or (f"{subject}.txt",))
        self.changes[number] = change
        return change

    def set_parent(self, change: FakeChange, parent: FakeChange) -> None:
        """`change`'s git parent is the current patch set of `parent`."""
        change.depends.append((parent, parent.patchset))

    def depends_on(self, change: FakeChange, other: FakeChange) -> None:
        """A Depends-On footer in `change` naming `other`."""
        change.depends.append((other, None))

    def conflict(self, a: FakeChange, b: FakeChange) -> None:
        self.conflicts.append(frozenset({a.key, b.key}))

    def _pool(self, change: FakeChange) -> tuple[dict[str, Change], tuple[Change, ...]]:
        """What the review server sends along with an event: every change the
        event's change needs, transitively, and the approved open changes that
        need it or any of those."""
        deps: dict[str, Change] = {}
        todo = [c for c, _ in change.depends]
        while todo:
            c = todo.pop(0)
            snap = c.snapshot(self.now)
            if snap.key not in deps and c is not change:
                deps[snap.key] = snap
                todo.extend(d for d, _ in c.depends)
        tree = {change.number} | {int(k.split(",")[0]) for k in deps}
        behind: list[Change] = []
        grew = True
        while grew:
            grew = False
            for other in self.changes.values():
                if other.number in tree or not other.submittable:
                    continue
                if any(d.number in tree for d, _ in other.depends):
                    tree.add(other.number)
                    behind.append(other.snapshot(self.now))
                    for d, _ in other.depends:
                        if d.number not in tree and d is not change:
                            deps.setdefault(d.snapshot(self.now).key, d.snapshot(self.now))
                    grew = True
        return deps, tuple(sorted(behind, key=lambda c: c.number))

    def change_event(
        self,
        change: FakeChange,
        type: str,
        *,
        approvals: Sequence[EventApproval] = (),
        comment: str = "",
    ) -> TriggerEvent:
        self._seq += 1
        deps, behind = self._pool(change)
        return TriggerEvent(
            seq=self._seq,
            type=type,
            connection=CONNECTION,
            project=change.project,
            branch=change.branch,
            change=change.snapshot(self.now),
            username="alice",
            email="alice@example.org",
            comment=comment,
            approvals=tuple(approvals),
            needed_by=behind,
            dependencies=deps,
        )

    def vote(self, change: FakeChange, label: str, value: int, *, event: bool = True) -> None:
        old = change.approvals.get(label, 0)
        change.approvals[label] = value
        if event:
            self.emit(
                self.change_event(
                    change, "comment-added", approvals=[EventApproval(label, value, old)]
                )
            )

    def approve(self, change: FakeChange, *, event: bool = True) -> None:
        """Code-Review +2 quietly, then Workflow +1 (the gate's trigger)."""
        change.approvals["Code-Review"] = 2
        self.vote(change, "Workflow", 1, event=event)

    def upload(self, change: FakeChange) -> None:
        """The first patch set's patchset-created event."""
        self.emit(self.change_event(change, "patchset-created"))

    def new_patchset(self, change: FakeChange) -> None:
        change.patchset += 1
        change.approvals = {}
        self.emit(self.change_event(change, "patchset-created"))

    def abandon(self, change: FakeChange) -> None:
        change.status = "ABANDONED"
        self.emit(self.change_event(change, "change-abandoned"))

    def recheck(self, change: FakeChange) -> None:
        self.emit(self.change_event(change, "comment-added", comment="recheck"))

    def ref_updated(self, project: str, branch: str = "master", newrev: str = "") -> None:
        self._seq += 1
        tip = newrev or self.head(project, branch)
        self.emit(
            TriggerEvent(
                seq=self._seq,
                type="ref-updated",
                connection=CONNECTION,
                project=project,
                branch=branch,
                ref=f"refs/heads/{branch}",
                ref_update=Ref(project, f"refs/heads/{branch}", "1" * 40, tip.ljust(40, "0")[:40]),
            )
        )

    # --- the loop ----------------------------------------------------------------

    def emit(self, event: GateEvent) -> None:
        self.events.append(event)
        self.settle()

    def handle(self, event: GateEvent) -> None:
        self.actions.extend(self.gate.handle(event, self.now))

    def settle(self, limit: int = 100_000) -> None:
        for _ in range(limit):
            if self.actions:
                self._carry_out(self.actions.popleft())
            elif self.events:
                self.now += 1
                self.handle(self.events.popleft())
            else:
                return
        raise AssertionError("the gate did not settle")

    def _carry_out(self, action: GateAction) -> None:
        if isinstance(action, MergeRequest):
            self.merge_requests.append(action)
            self.events.append(self._merge(action))
        elif isinstance(action, StartBuild):
            self.started_builds.append(action)
            build = FakeBuild(action)
            self.running.append(build)
            if not self.hold_jobs_in_queue:
                self._begin(build)
        elif isinstance(action, CancelBuild):
            for build in list(self.running):
                if build.action.build == action.build:
                    self.running.remove(build)
                    if build.started:  # a build still in the queue vanishes
                        self._record(build, "ABORTED")
        elif isinstance(action, Report):
            self._report(action)

    # --- the merger --------------------------------------------------------------

    def head(self, project: str, branch: str, *on_top: str) -> str:
        """The fake sha of a branch tip (with changes merged on top): it names
        every change merged into it, so a build's heads tell what it tested."""
        return f"{project}@{branch}:" + " ".join((*self.tips.get((project, branch), ()), *on_top))

    def _merge(self, request: MergeRequest) -> MergeCompleted:
        keys = [c.key for c in request.changes]
        for n, change in enumerate(request.changes) if self.conflicts else ():
            seen = {*keys[:n], *self.tips.get((change.project, change.branch), ()), change.key}
            if any(change.key in pair and pair <= seen for pair in self.conflicts):
                return MergeCompleted(request.item, request.buildset, conflict=change.key)
        on_top: dict[tuple[str, str], list[str]] = {}
        for change in request.changes:
            where = (change.project, change.branch)
            # a change ahead that merged since the request was made is in the tip already
            if change.key not in self.tips.get(where, ()):
                on_top.setdefault(where, []).append(change.key)
            else:
                on_top.setdefault(where, [])
        heads = {where: self.head(*where, *keys) for where, keys in on_top.items()}
        own = request.changes[-1].key if request.changes else ""
        errors = self.config_errors.get(own, ())
        return MergeCompleted(
            request.item,
            request.buildset,
            heads=heads,
            config_errors=errors,
            layout=self.dynamic_layouts.get(own),
        )

    # --- the executor ------------------------------------------------------------

    def _begin(self, build: FakeBuild) -> None:
        build.started = True
        self.events.append(
            BuildStarted(
                build.action.build, self.now, url=f"https://logs.example/{build.action.build}"
            )
        )
        if not self.hold_jobs_in_build:
            self._finish(build)

    def _result_for(self, build: FakeBuild) -> str:
        queued = self.results.get((build.name, build.own))
        if queued:
            return queued.pop(0)
        return "FAILURE" if (build.name, build.own) in self.failing else "SUCCESS"

    def _finish(self, build: FakeBuild, result: str | None = None) -> None:
        result = result or self._result_for(build)
        if build in self.running:
            self.running.remove(build)
        self._record(build, result)
        self.events.append(
            BuildCompleted(
                build.action.build,
                result,
                self.now,
                self.now + 60,
                url=f"https://logs.example/{build.action.build}",
                data=self.returned.get((build.name, build.own), {}),
            )
        )

    def _record(self, build: FakeBuild, result: str) -> None:
        self.history.append(
            BuildRecord(
                id=build.action.build,
                name=build.name,
                changes=build.changes,
                result=result,
                pipeline=build.action.pipeline,
                voting=build.action.job.voting,
                attempt=build.action.attempt,
                heads=build.action.heads,
                buildset=build.action.buildset,
                item=build.action.item,
            )
        )

    def fail(self, job_name: str, change: FakeChange | str) -> None:
        """Builds of `job_name` for `change` (its own item) fail."""
        self.failing.add((job_name, change if isinstance(change, str) else change.key))

    def give(self, job_name: str, change: FakeChange | str, *results: str) -> None:
        """The next builds of `job_name` for `change` end with these results, in turn."""
        key = change if isinstance(change, str) else change.key
        self.results.setdefault((job_name, key), []).extend(results)

    def _matching(self, job_name: str | None, change: str | None) -> list[FakeBuild]:
        return [
            b
            for b in self.running
            if (job_name is None or b.name == job_name) and (change is None or b.own == change)
        ]

    def release(self, job_name: str | None = None, change: FakeChange | str | None = None) -> None:
        """Let held running builds (of a job, for a change's item) finish, then settle."""
        key = change.key if isinstance(change, FakeChange) else change
        for build in self._matching(job_name, key):
            if build.started:
                self._finish(build)
        self.settle()

    def release_queue(
        self, job_name: str | None = None, change: FakeChange | str | None = None
    ) -> None:
        """Start builds waiting in the executor's queue, then settle."""
        key = change.key if isinstance(change, FakeChange) else change
        for build in self._matching(job_name, key):
            if not build.started:
                self._begin(build)
        self.settle()

    def finish_one(self, index: int, result: str) -> None:
        """End the `index`-th running build (modulo their number) with `result`."""
        started = [b for b in self.running if b.started]
        if started:
            self._finish(started[index % len(started)], result)
        self.settle()

    def running_builds(self) -> list[tuple[str, str]]:
        return [(b.name, b.changes) for b in self.running if b.started]

    def queued_builds(self) -> list[tuple[str, str]]:
        return [(b.name, b.changes) for b in self.running if not b.started]

    # --- the reporter ------------------------------------------------------------

    def _report(self, report: Report) -> None:
        if report.report in self._carried:  # a report re-sent after a restart
            self.events.append(self._carried[report.report])
            return
        self.reports.append(report)
        change = self.changes[report.change.number]
        for reporter in report.reporters:
            for label, value in reporter.labels.items():
                change.approvals[label] = value
        done = ReportDone(report.report)
        if report.submits:
            error = self.refuse_submit.get(report.change.key)
            if error is not None or change.status != "NEW":
                done = ReportDone(report.report, merged=False, error=error or "change is closed")
            else:
                self._merge_change(change, report)
                done = ReportDone(report.report, merged=True)
        self._carried[report.report] = done
        if self.hold_report_outcomes:
            self.withheld.append(done)
        elif not self.lose_report_outcomes:
            self.events.append(done)

    def _merge_change(self, change: FakeChange, report: Report) -> None:
        """Submit: check that what merges is what the voting jobs tested."""
        if change.key in self.merges:
            self.double_merges.append(change.key)
        if change.needs():
            self.out_of_order_merges.append(change.key)
        where = (change.project, change.branch)
        expected = self.head(*where, change.key)
        own = [r for r in self.history if r.item == report.item]
        last: dict[str, BuildRecord] = {}
        for r in own:
            if r.buildset == own[-1].buildset and r.voting:
                last[r.name] = r  # a retried or lost build's last try is what counts
        if not last or any(
            r.result != "SUCCESS" or r.heads.get(where) != expected for r in last.values()
        ):
            self.untested_merges.append(change.key)
        change.status = "MERGED"
        self.tips[where] = (*self.tips.get(where, ()), change.key)
        self.merges.append(change.key)

    def deliver_reports(self) -> None:
        """The reporter's withheld answers reach the gate, then settle."""
        self.events.extend(self.withheld)
        self.withheld.clear()
        self.settle()

    # --- what tests look at --------------------------------------------------------

    def reports_for(self, change: FakeChange) -> list[Report]:
        return [r for r in self.reports if r.change.number == change.number]

    def reported(self, change: FakeChange) -> int:
        return len(self.reports_for(change))

    def messages(self, change: FakeChange) -> list[str]:
        return [r.message for r in self.reports_for(change)]

    def history_of(self, result: str | None = None) -> list[BuildRecord]:
        return [r for r in self.history if result is None or r.result == result]

    def history_names(self) -> list[tuple[str, str, str]]:
        return [(r.name, r.changes, r.result) for r in self.history]

    def restart(self) -> None:
        """Kill the scheduler: its state is saved as JSON-able data and loaded by
        a new gate; the executor's builds die with the old process, merges and
        report outcomes in flight are lost. Then the new gate resumes."""
        saved = json.dumps(to_dict(self.gate.state))  # what a database would keep
        self.gate = TenantGate(self.gate.state.tenant, self.layout, from_dict(json.loads(saved)))
        for build in self.running:
            if build.started:
                self._record(build, "LOST")
        self.running.clear()
        self.actions.clear()
        self.events.clear()
        self.actions.extend(self.gate.resume(self.now))
        self.settle()

"""An in-process executor for tests, in the spirit of Zuul's test executor.

Builds do not run anything. A test decides their fate: by default a build
starts at once and succeeds at the next `run()`; `hold_jobs_in_build` keeps
started builds running until `release`d; `hold_jobs_in_queue` keeps them from
starting at all (a cancelled queued build then vanishes without a result,
as Zuul's does); `fail(job, change)` makes every build of `job` whose
speculative state contains `change` fail; `result(job, change, RESULT)` sets
any other result (RETRY, NODE_FAILURE, TIMED_OUT, ...) for the next builds.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from lockgate.core.gating.actions import StartBuild
from lockgate.core.gating.events import BuildCompleted, BuildStarted
from lockgate.services.executor_port import BuildSink


@dataclass
class FakeBuild:
    action: StartBuild
    started: bool = False
    result: str | None = None
    started_at: float = 0.0
    ended_at: float = 0.0

    @property
    def uuid(self) -> str:
        return self.action.build

    @property
    def name(self) -> str:
        return self.action.job.name

    @property
    def changes(self) -> str:
        """The changes in the build's state, as Zuul's tests write them: "1,1 2,1"."""
        return " ".join(change.key for change in self.action.changes)

    def has_change(self, key: str) -> bool:
        return any(change.key == key for change in self.action.changes)

    def __repr__(self) -> str:
        return f"<build {self.name} [{self.changes}] {self.result or 'running'}>"


@dataclass
class _Outcome:
    job: str
    change: str
    result: str
    times: int | None = None  # None: every matching build


@dataclass
class FakeExecutor:
    hold_jobs_in_build: bool = False
    hold_jobs_in_queue: bool = False
    log_url: str = "https://logs.example/"
    # every build ever started, in order, and the ones not finished
    history: list[FakeBuild] = field(default_factory=list)
    running: list[FakeBuild] = field(default_factory=list)
    clock: float = 1_000.0
    build_seconds: float = 62.0
    _sink: BuildSink | None = None
    _outcomes: list[_Outcome] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _released: set[str] = field(default_factory=set)

    # --- the port -------------------------------------------------------------

    def bind(self, sink: BuildSink) -> None:
        self._sink = sink

    def start(self, build: StartBuild) -> None:
        with self._lock:
            if any(b.uuid == build.build for b in self.running) or any(
                b.uuid == build.build for b in self.history
            ):
                return
            fake = FakeBuild(build)
            self.running.append(fake)
            if not self.hold_jobs_in_queue:
                self._begin(fake)

    def cancel(self, build: str) -> None:
        with self._lock:
            for fake in list(self.running):
                if fake.uuid != build:
                    continue
                self.running.remove(fake)
                if fake.started:
                    self._finish(fake, "ABORTED")
                # a build that never started vanishes, as a queued Zuul build does

    # --- what tests do ----------------------------------------------------------

    def fail(self, job: str, change: str, *, times: int | None = None) -> None:
        self.result(job, change, "FAILURE", times=times)

    def result(self, job: str, change: str, result: str, *, times: int | None = None) -> None:
        """Builds of `job` (a name or a regex) whose state holds `change` ("N,P")
        end with `result`; `times` limits how many builds it applies to."""
        with self._lock:
            self._outcomes.append(_Outcome(job, change, result, times))

    def release(self, job: str | None = None, change: str | None = None) -> None:
        """Let held builds finish (those of `job`, or with `change`, or all)."""
        with self._lock:
            for fake in list(self.running):
                if job is not None and not re.fullmatch(job, fake.name):
                    continue
                if change is not None and not fake.has_change(change):
                    continue
                self._released.add(fake.uuid)
                if not fake.started:
                    self._begin(fake)

    def release_queue(self) -> None:
        """Start the builds held in the queue (they then run as usual)."""
        with self._lock:
            self.hold_jobs_in_queue = False
            for fake in list(self.running):
                if not fake.started:
                    self._begin(fake)

    def run(self) -> int:
        """Finish every started build that is not held; the number finished."""
        done = 0
        with self._lock:
            for fake in list(self.running):
                if not fake.started:
                    continue
                if self.hold_jobs_in_build and fake.uuid not in self._released:
                    continue
                self.running.remove(fake)
                self._finish(fake, self._decide(fake))
                done += 1
        return done

    def builds(self, name: str | None = None, *, result: str | None = None) -> list[FakeBuild]:
        return [
            b
            for b in self.history
            if (name is None or b.name == name) and (result is None or b.result == result)
        ]

    def running_builds(self, name: str | None = None) -> list[FakeBuild]:
        return [b for b in self.running if b.started and (name is None or b.name == name)]

    def queued_builds(self) -> list[FakeBuild]:
        return [b for b in self.running if not b.started]

    def finished(self) -> list[FakeBuild]:
        return [b for b in self.history if b.result is not None]

    # --- inside -------------------------------------------------------------------

    def _begin(self, fake: FakeBuild) -> None:
        fake.started = True
        self.clock += 1
        fake.started_at = self.clock
        self.history.append(fake)
        self._emit([BuildStarted(fake.uuid, fake.started_at, self._url(fake))])

    def _finish(self, fake: FakeBuild, result: str) -> None:
        fake.result = result
        self.clock += 1
        fake.ended_at = fake.started_at + self.build_seconds
        self._released.discard(fake.uuid)
        self._emit(
            [BuildCompleted(fake.uuid, result, fake.started_at, fake.ended_at, self._url(fake))]
        )

    def _decide(self, fake: FakeBuild) -> str:
        for outcome in self._outcomes:
            if outcome.times == 0:
                continue
            if re.fullmatch(outcome.job, fake.name) and fake.has_change(outcome.change):
                if outcome.times is not None:
                    outcome.times -= 1
                return outcome.result
        return "SUCCESS"

    def _url(self, fake: FakeBuild) -> str:
        return f"{self.log_url}{fake.uuid}/"

    def _emit(self, events: Iterable[BuildStarted | BuildCompleted]) -> None:
        if self._sink is None:
            raise RuntimeError("the fake executor was started before it was bound to a sink")
        for event in events:
            self._sink(event)

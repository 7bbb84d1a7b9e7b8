"""The scheduler: the event log in, the gating core in the middle, actions out.

One step reads the events after the scheduler's cursor and the outcomes that
came back (merges, builds, reports), hands each to the tenant's `TenantGate`,
and saves every touched tenant's state together with the new cursor and the
build history, in one transaction: an event is consumed exactly when the
state it produced is saved (a tenant whose state no event changed is not
saved again). The actions are carried out after the commit. A
crash between the commit and an action's outcome loses nothing: at start the
core re-issues every action whose outcome it never saw (`TenantGate.resume`),
with the same ids, and the reporter refuses a report id it has carried out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from lockgate.adapters.db import event_store, gate_store
from lockgate.adapters.db.engine import read_transaction, write_transaction
from lockgate.adapters.db.event_signal import EventLogSignal
from lockgate.adapters.git.repos import RepoStore
from lockgate.core.builds.returns import artifacts_of
from lockgate.core.config.layout import Layout
from lockgate.core.gating.actions import CancelBuild, GateAction, MergeRequest, Report, StartBuild
from lockgate.core.gating.changes import Ref
from lockgate.core.gating.codec import from_dict, to_dict
from lockgate.core.gating.cron import CronError, next_fire, parse_cron
from lockgate.core.gating.events import (
    BuildCompleted,
    BuildStarted,
    GateEvent,
    MergeCompleted,
    Reconfigured,
    ReportDone,
    TriggerEvent,
)
from lockgate.core.gating.gate import TenantGate
from lockgate.services.clock import Clock
from lockgate.services.executor_port import Executor
from lockgate.services.gate_inputs import GateInputs
from lockgate.services.gate_merger import GateMerger
from lockgate.services.gate_reporter import GateReporter
from lockgate.services.layouts import LayoutService
from lockgate.services.tenants import TenantCatalog

log = logging.getLogger(__name__)

# Events one step takes from the log; a step is one transaction.
_BATCH = 500
# How long the loop sleeps when nothing woke it: other processes' commits do
# not raise this process's signal.
_IDLE_POLL = 1.0
# A step costs about as much for one event as for a page of them, and it takes
# the write lock that every review also takes. While events keep coming (a
# burst of votes), steps start at most this often, each taking what gathered
# meanwhile; the first event after a quiet spell is taken at once.
_STEP_GAP = 0.05


class _CoreFailed(Exception):
    """The gating core raised on one event of a step (a bug, or input it did not expect)."""

    def __init__(self, index: int, tenant: str, event: GateEvent, error: Exception) -> None:
        super().__init__(f"{tenant}: {error}")
        self.index = index
        self.tenant = tenant
        self.event = event
        self.error = error


@dataclass
class _Work:
    """Actions of one tenant waiting to be carried out after their commit."""

    tenant: str
    actions: list[GateAction] = field(default_factory=list)


class GateScheduler:
    def __init__(
        self,
        *,
        engine: Engine,
        signal: EventLogSignal | None,
        catalog: TenantCatalog,
        layouts: LayoutService,
        inputs: GateInputs,
        merger: GateMerger,
        reporter: GateReporter,
        executor: Executor,
        repos: RepoStore,
        connection: str,
        clock: Clock,
    ) -> None:
        self._engine = engine
        self._signal = signal
        self._catalog = catalog
        self._layouts = layouts
        self._inputs = inputs
        self._merger = merger
        self._reporter = reporter
        self._executor = executor
        self._repos = repos
        self._connection = connection
        self._clock = clock
        self._gates: dict[str, TenantGate] = {}
        self._outcomes: deque[tuple[str, GateEvent]] = deque()
        self._build_tenants: dict[str, str] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._opened = False
        self._step_lock = threading.Lock()
        self._timers: dict[tuple[str, str, str], float] = {}
        executor.bind(self._build_outcome)

    # --- lifecycle ------------------------------------------------------------------

    def open(self) -> None:
        """Load every tenant's saved state and re-issue what was in flight."""
        now = self._now()
        with write_transaction(self._engine) as conn:
            saved = gate_store.states(conn)
            lost = gate_store.abandon_unfinished(conn, int(now * 1_000_000))
        if lost:
            log.info("%d builds of the previous run were lost; they run again", lost)
        pending: list[_Work] = []
        for tenant in [t.name for t in self._catalog.tenants()]:
            layout = self._layouts.layout(tenant)
            state = saved.get(tenant)
            gate = TenantGate(tenant, layout, None if state is None else from_dict(state))
            self._gates[tenant] = gate
            if state is not None:
                pending.append(_Work(tenant, gate.resume(now)))
        self._opened = True
        for work in pending:
            self._dispatch(work)

    def start(self) -> None:
        """Run steps in a thread of their own until `stop`."""
        if not self._opened:
            self.open()
        if self._signal is not None:
            self._unsubscribe = self._signal.subscribe(self._wake.set)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="lockgate-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                busy = self.step()
            except Exception:
                log.exception("scheduler step failed; retrying")
                busy = False
                self._stop.wait(_IDLE_POLL)
            if busy:
                self._stop.wait(max(0.0, _STEP_GAP - (time.monotonic() - started)))
            else:
                self._wake.wait(_IDLE_POLL)
                self._wake.clear()

    # --- one step -------------------------------------------------------------------------

    def step(self, limit: int = _BATCH) -> bool:
        """Process what is waiting; whether there was anything."""
        with self._step_lock:
            if not self._opened:
                self.open()
            with read_transaction(self._engine) as conn:
                seq = gate_store.cursor(conn)
                stored = event_store.events_after(conn, seq, limit)
            outcomes = self._drain()
            outcomes.extend(self._due_timers(self._now()))
            if not stored and not outcomes:
                return False
            # a page of the log is translated at once: it costs about one event's reads
            translated = self._inputs.trigger_events(stored, self._connection)
            triggers = list(zip([e.seq for e in stored], translated, strict=True))
            now = self._now()
            units: list[tuple[str | None, GateEvent | None]] = list(outcomes)
            units.extend((None, trigger) for _seq, trigger in triggers)
            # which tenants hold each project, asked before the write lock is taken
            tenants_of = {
                project: self._catalog.tenant_of(project)
                for project in {t.project for _seq, t in triggers if t is not None}
            }
            skipped: set[int] = set()
            while True:
                try:
                    work = self._apply(
                        units, skipped, tenants_of, stored[-1].seq if stored else None, now
                    )
                    break
                except _CoreFailed as failed:
                    # The transaction rolled back: the gates go back to their saved
                    # state and the batch runs again without the event the core
                    # could not take, so that one bad event never stops the gate.
                    log.error(
                        "tenant %s: the gating core failed on %s; the event is skipped",
                        failed.tenant,
                        failed.event,
                        exc_info=failed.error,
                    )
                    if failed.index in skipped or failed.index < 0:
                        raise
                    skipped.add(failed.index)
                    self._reload_gates()
            for item in work.values():
                self._dispatch(item)
            return True

    def _apply(
        self,
        units: list[tuple[str | None, GateEvent | None]],
        skipped: set[int],
        tenants_of: dict[str, list[str]],
        last_seq: int | None,
        now: float,
    ) -> dict[str, _Work]:
        """Hand each outcome (with its tenant) and each trigger (to every tenant
        holding its project, `tenants_of`) to the gates, and save what changed
        with the cursor."""
        work: dict[str, _Work] = {}
        with write_transaction(self._engine) as conn:
            checked: set[str] = set()  # tenants whose layout was compared this step
            for index, (tenant, event) in enumerate(units):
                if event is None or index in skipped:
                    continue
                if tenant is not None:
                    self._handle(conn, work, tenant, event, now, index=index)
                    continue
                assert isinstance(event, TriggerEvent)
                for holder in tenants_of[event.project]:
                    self._reconfigure_if_needed(
                        conn, work, holder, event, now, index=index, checked=checked
                    )
                    self._handle(conn, work, holder, event, now, index=index)
            now_us = int(now * 1_000_000)
            for tenant in work:
                gate_store.save_state(conn, tenant, to_dict(self._gates[tenant].state), now_us)
            if last_seq is not None:
                gate_store.set_cursor(conn, last_seq)
        return work

    def _reload_gates(self) -> None:
        with read_transaction(self._engine) as conn:
            saved = gate_store.states(conn)
        for tenant in list(self._gates):
            state = saved.get(tenant)
            layout = self._layouts.layout(tenant)
            self._gates[tenant] = TenantGate(
                tenant, layout, None if state is None else from_dict(state)
            )

    def quiet(self) -> threading.Lock:
        """Held, no step runs: `with scheduler.quiet(): ...` waits out the step
        in progress and keeps the next one from starting."""
        return self._step_lock

    def settled(self) -> bool:
        with read_transaction(self._engine) as conn:
            seq = gate_store.cursor(conn)
            last = event_store.last_seq(conn)
        return seq >= last and not self._outcomes

    def gate(self, tenant: str) -> TenantGate:
        gate = self._gates.get(tenant)
        if gate is None:
            gate = TenantGate(tenant, self._layouts.layout(tenant))
            self._gates[tenant] = gate
        return gate

    def reconfigure(self, tenant: str) -> None:
        """Give the tenant's gate its newly loaded layout, at the next step."""
        self._outcomes.append((tenant, Reconfigured(self._layouts.layout(tenant))))
        self._wake.set()

    def admin(self, tenant: str, event: GateEvent) -> None:
        """An admin's enqueue, dequeue or promote: handled like an outcome, in order."""
        self._outcomes.append((tenant, event))
        self._wake.set()

    # --- inside -------------------------------------------------------------------------

    def _handle(
        self,
        conn: Connection,
        work: dict[str, _Work],
        tenant: str,
        event: GateEvent,
        now: float,
        *,
        index: int = -1,
    ) -> None:
        gate = self.gate(tenant)
        self._record_outcome(conn, event, now)
        try:
            actions = gate.handle(event, now)
        except Exception as error:
            raise _CoreFailed(index, tenant, event, error) from error
        if not actions and not gate.changed and tenant not in work:
            return  # an event that left the state as it was: nothing to save
        self._record_actions(conn, tenant, actions, now)
        work.setdefault(tenant, _Work(tenant)).actions.extend(actions)

    def _reconfigure_if_needed(
        self,
        conn: Connection,
        work: dict[str, _Work],
        tenant: str,
        trigger: TriggerEvent,
        now: float,
        *,
        index: int,
        checked: set[str],
    ) -> None:
        branch = trigger.branch or trigger.ref.removeprefix("refs/heads/")
        if (
            trigger.type in ("ref-updated", "change-merged")
            and branch
            and not trigger.ref.startswith("refs/tags/")
            and self._layouts.is_stale(tenant, trigger.project, branch)
        ):
            self._layouts.reload(tenant)
            log.info("tenant %s reconfigured after %s moved %s", tenant, trigger.project, branch)
        elif tenant in checked:
            return
        checked.add(tenant)
        # The layout may also have been loaded again because the tenant itself
        # changed (a project created since joined it): the gate gets it too.
        # Asked once per tenant per step, and after every reload.
        layout = self._layouts.layout(tenant)
        if layout.generation != self.gate(tenant).layout.generation:
            self._handle(conn, work, tenant, Reconfigured(layout), now, index=index)

    def _record_actions(
        self, conn: Connection, tenant: str, actions: Sequence[GateAction], now: float
    ) -> None:
        now_us = int(now * 1_000_000)
        for action in actions:
            if isinstance(action, MergeRequest):
                subject = action.changes[-1] if action.changes else None
                ref = action.ref
                gate_store.add_buildset(
                    conn,
                    gate_store.BuildsetRow(
                        uuid=action.buildset,
                        tenant=tenant,
                        pipeline=self._pipeline_of(tenant, action.item),
                        project=subject.project if subject else (ref.project if ref else ""),
                        branch=subject.branch if subject else (ref.branch if ref else ""),
                        ref=subject.ref if subject else (ref.ref if ref else ""),
                        change=subject.number if subject else None,
                        patchset=subject.patchset if subject else None,
                        oldrev=ref.oldrev if ref else None,
                        newrev=ref.newrev if ref else None,
                        result=None,
                        message=None,
                        created=now_us,
                        updated=now_us,
                    ),
                )
            elif isinstance(action, StartBuild):
                subject = action.changes[-1] if action.changes else None
                ref = action.ref
                self._build_tenants[action.build] = tenant
                gate_store.add_build(
                    conn,
                    gate_store.BuildRow(
                        uuid=action.build,
                        buildset=action.buildset,
                        tenant=tenant,
                        pipeline=action.pipeline,
                        job=action.job.name,
                        project=subject.project if subject else (ref.project if ref else ""),
                        branch=subject.branch if subject else (ref.branch if ref else ""),
                        ref=subject.ref if subject else (ref.ref if ref else ""),
                        change=subject.number if subject else None,
                        patchset=subject.patchset if subject else None,
                        changes=" ".join(c.key for c in action.changes),
                        voting=action.job.voting,
                        attempt=action.attempt,
                        result=None,
                        log_url=None,
                        error=None,
                        queued=now_us,
                        started=None,
                        ended=None,
                    ),
                )
            elif isinstance(action, Report) and action.buildset and action.result:
                gate_store.finish_buildset(
                    conn, action.buildset, action.result, action.message, now_us
                )

    def _record_outcome(self, conn: Connection, event: GateEvent, now: float) -> None:
        if isinstance(event, BuildStarted):
            gate_store.start_build(conn, event.build, int(event.started * 1e6), event.url)
        elif isinstance(event, BuildCompleted):
            gate_store.finish_build(
                conn,
                event.build,
                result=event.result,
                started_us=int(event.started * 1e6) if event.started else None,
                ended_us=int(event.ended * 1e6),
                log_url=event.url,
                error=event.error,
            )
            artifacts = artifacts_of(event.data)
            if artifacts:
                gate_store.set_artifacts(
                    conn,
                    event.build,
                    [gate_store.ArtifactRow(a.name, a.url, a.metadata) for a in artifacts],
                )

    def _due_timers(self, now: float) -> list[tuple[str, GateEvent]]:
        """Timer triggers whose time came: one event per project and branch that
        runs jobs in the timer's pipeline, as Zuul's timer driver enqueues."""
        due: list[tuple[str, GateEvent]] = []
        for tenant in list(self._gates):
            layout = self._layouts.layout(tenant)
            for name in layout.pipeline_names():
                for trigger in layout.pipeline(name).triggers:
                    if trigger.driver != "timer":
                        continue
                    for spec_text in trigger.times:
                        key = (tenant, name, spec_text)
                        try:
                            spec = parse_cron(spec_text)
                        except CronError:
                            continue  # reported as a config error when the layout loaded
                        planned = self._timers.get(key)
                        if planned is None:
                            self._timers[key] = next_fire(spec, now)
                            continue
                        if planned > now:
                            continue
                        self._timers[key] = next_fire(spec, now)
                        due.extend((tenant, e) for e in self._timer_events(layout, name))
        return due

    def _timer_events(self, layout: Layout, pipeline: str) -> list[TriggerEvent]:
        events: list[TriggerEvent] = []
        for project in layout.project_names():
            if layout.queue_for(pipeline, project) is None or not self._repos.exists(project):
                continue
            for ref, sha in sorted(self._repos.refs(project, "refs/heads/").items()):
                events.append(
                    TriggerEvent(
                        seq=0,
                        type="timer",
                        connection="timer",
                        project=project,
                        branch=ref.removeprefix("refs/heads/"),
                        ref=ref,
                        ref_update=Ref(project, ref, sha, sha),
                        pipeline=pipeline,
                    )
                )
        return events

    def _pipeline_of(self, tenant: str, item: str) -> str:
        found = self._gates[tenant].state.items.get(item)
        return "" if found is None else found.pipeline

    def _dispatch(self, work: _Work) -> None:
        try:
            for action in work.actions:
                try:
                    self._carry_out(work.tenant, action)
                except Exception:
                    # The core hears nothing back and re-issues the action at the
                    # next start; the other actions still go out.
                    log.exception("tenant %s: carrying out %s failed", work.tenant, action)
        finally:
            # the states these merges built are frozen as refs before any build
            # of theirs can start: builds start only at a later step
            self._merger.flush()

    def _carry_out(self, tenant: str, action: GateAction) -> None:
        if isinstance(action, MergeRequest):
            completed: MergeCompleted = self._merger.merge(tenant, action)
            self._outcomes.append((tenant, completed))
        elif isinstance(action, StartBuild):
            self._build_tenants[action.build] = tenant
            self._executor.start(action)
        elif isinstance(action, CancelBuild):
            self._executor.cancel(action.build)
        elif isinstance(action, Report):
            done: ReportDone = self._reporter.report(action)
            if action.submits:
                self._merger.forget_tips()
            self._outcomes.append((tenant, done))
        self._wake.set()

    def _build_outcome(self, event: BuildStarted | BuildCompleted) -> None:
        tenant = self._build_tenants.get(event.build)
        if tenant is None:
            log.warning("an outcome for unknown build %s was dropped", event.build)
            return
        self._outcomes.append((tenant, event))
        self._wake.set()

    def _drain(self) -> list[tuple[str, GateEvent]]:
        drained: list[tuple[str, GateEvent]] = []
        while self._outcomes:
            drained.append(self._outcomes.popleft())
        return drained

    def _now(self) -> float:
        return self._clock() / 1_000_000

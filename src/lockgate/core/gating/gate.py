"""The gating core of one tenant: events in, actions out.

    gate = TenantGate("example", layout)
    actions = gate.handle(event, now)

The scheduler service carries the actions out and feeds their outcomes back as
events. `state` is plain data (`codec.py`); a new process loads it into a new
TenantGate and calls `resume` to re-issue what the old one never saw finish.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from lockgate.core.config.objects import PipelineDef
from lockgate.core.gating.actions import GateAction
from lockgate.core.gating.changes import Change, Ref
from lockgate.core.gating.context import SHARED_MANAGERS, Ctx
from lockgate.core.gating.enqueue import enqueue_change, enqueue_ref
from lockgate.core.gating.events import (
    BuildCompleted,
    BuildStarted,
    Dequeue,
    Enqueue,
    GateEvent,
    MergeCompleted,
    Promote,
    Reconfigured,
    ReportDone,
    TriggerEvent,
)
from lockgate.core.gating.jobs import (
    buildset,
    drop_buildset,
    freeze,
    merge_completed,
    new_buildset,
    release_semaphores,
)
from lockgate.core.gating.layout_view import LayoutView
from lockgate.core.gating.queues import process
from lockgate.core.gating.reporting import remove_item, report_done
from lockgate.core.gating.requirements import unmet_requirements
from lockgate.core.gating.state import GateState, Item
from lockgate.core.gating.triggers import pipeline_triggered


class TenantGate:
    def __init__(self, tenant: str, layout: LayoutView, state: GateState | None = None) -> None:
        self._layout = layout
        self._state = state if state is not None else GateState(tenant=tenant)
        self._state.layout_generation = layout.generation
        self._dynamic: dict[str, LayoutView] = {}
        self._requirements: dict[tuple[int, int], tuple[PipelineDef, Change, bool]] = {}
        # whether the last `handle` changed the state (the scheduler need not
        # save a state that an event left as it was)
        self.changed = False
        self._index: dict[int, list[Item]] = {}
        self._index_counter = -1

    @property
    def state(self) -> GateState:
        return self._state

    @property
    def layout(self) -> LayoutView:
        return self._layout

    def _ctx(self, now: float) -> Ctx:
        if len(self._requirements) > 4 * len(self._state.items) + 1000:
            self._requirements.clear()  # snapshots of items long gone
        return Ctx(
            self._state, self._layout, now, self._dynamic, requirement_cache=self._requirements
        )

    def handle(self, event: GateEvent, now: float) -> list[GateAction]:
        ctx = self._ctx(now)
        only = self._queues_of(event)
        self.changed = True
        if isinstance(event, TriggerEvent):
            before = (ctx.state.counter, len(ctx.state.merged))
            _trigger(ctx, event, self._by_number())
            # nothing else saw anything new (a requirement with an age is
            # re-checked by the next pass that walks its queue)
            only = sorted(ctx.touched)
            if not only and not ctx.actions:
                # it entered no pipeline and changed nothing a queued item holds
                self.changed = (ctx.state.counter, len(ctx.state.merged)) != before
                return []
        elif isinstance(event, MergeCompleted):
            merge_completed(ctx, event)
        elif isinstance(event, BuildStarted):
            build = ctx.state.builds.get(event.build)
            if build is not None and build.state == "queued":
                build.state = "running"
                build.started = event.started
                build.url = event.url or build.url
        elif isinstance(event, BuildCompleted):
            _build_completed(ctx, event)
        elif isinstance(event, ReportDone):
            report_done(ctx, event)
        elif isinstance(event, Enqueue):
            _admin_enqueue(ctx, event)
        elif isinstance(event, Dequeue):
            _admin_dequeue(ctx, event)
        elif isinstance(event, Promote):
            _promote(ctx, event)
        elif isinstance(event, Reconfigured):
            self._layout = event.layout
            ctx.layout = event.layout
            _reconfigure(ctx)
        process(ctx, only)
        return ctx.actions

    def _by_number(self) -> dict[int, list[Item]]:
        """The items that hold each change number. An item's changes keep their
        numbers and every new item takes an id, so the index holds until the
        id counter moves (the items it lists may have left since)."""
        if self._index_counter != self._state.counter:
            index: dict[int, list[Item]] = {}
            for item in self._state.items.values():
                for change in item.changes:
                    index.setdefault(change.number, []).append(item)
            self._index = index
            self._index_counter = self._state.counter
        return self._index

    def _queues_of(self, event: GateEvent) -> list[str] | None:
        """The queues an outcome event can change (None: every queue). A build,
        merge or report concerns one item; what it frees elsewhere (a semaphore)
        sends every queue round again."""
        item_id: str | None = None
        if isinstance(event, MergeCompleted):
            item_id = event.item
        elif isinstance(event, BuildStarted | BuildCompleted):
            build = self._state.builds.get(event.build)
            item_id = build.item if build is not None else None
            if build is None:
                return []
        elif isinstance(event, ReportDone):
            pending = self._state.reports.get(event.report)
            if pending is None or pending.kind != "submit":
                return []
            item_id = pending.report.item
        else:
            return None
        item = self._state.items.get(item_id or "")
        return [item.queue] if item is not None else []

    def resume(self, now: float) -> list[GateAction]:
        """Re-issue, after a restart, what the old process asked for and never
        saw the outcome of: merges in flight, builds queued or running (as new
        builds: the old ones died with it), and unconfirmed reports (same ids,
        so the reporter can tell it has carried them out already)."""
        ctx = self._ctx(now)
        for pending in list(ctx.state.reports.values()):
            ctx.emit(pending.report)
        for item in list(ctx.state.items.values()):
            bs = buildset(ctx, item)
            if bs.merge == "pending":
                drop_buildset(ctx, bs)
                new_buildset(ctx, item)
                continue
            for job, ids in list(bs.builds.items()):
                build = ctx.state.builds.get(ids[-1])
                if build is None or build.state == "done":
                    continue
                release_semaphores(ctx, build)
                ctx.state.builds.pop(build.id, None)
                ids.pop()
                if not ids:
                    del bs.builds[job]
        process(ctx)
        return ctx.actions

    def status(self, now: float) -> dict[str, Any]:
        from lockgate.core.gating.status import tenant_status

        status: dict[str, Any] = tenant_status(self._state, self._layout, now)
        return status


def _uses_ages(layout: LayoutView) -> bool:
    return any(
        m.newer_than is not None or m.older_than is not None
        for name in layout.pipeline_names()
        for r in (*layout.pipeline(name).require, *layout.pipeline(name).reject)
        for m in r.approvals
    )


def _votes(change: Change, with_times: bool) -> list[tuple[object, ...]]:
    return sorted(
        (a.label, a.value, a.username, a.email, a.granted_on if with_times else 0.0)
        for a in change.approvals
    )


def _same_for_gating(old: Change, new: Change, with_times: bool) -> bool:
    """Whether a newer snapshot says nothing new to the gate: a repeated vote
    only moves its time, which matters to no requirement without an age."""
    if old is new or old == new:
        return True
    if with_times or any(getattr(old, f) != getattr(new, f) for f in _BESIDES_VOTES):
        return False
    return _votes(old, with_times) == _votes(new, with_times)


_BESIDES_VOTES = tuple(f.name for f in fields(Change) if f.name != "approvals")


def _refresh(
    ctx: Ctx, pool: dict[str, Change], event: TriggerEvent, by_number: dict[int, list[Item]]
) -> None:
    """Items keep snapshots of their changes; an event brings newer ones. A
    snapshot that differs in nothing the gate looks at is not taken, so that
    an event that changes nothing leaves the queues and the state alone."""
    newer = event.change
    numbers = {c.number for c in pool.values()}
    with_times: bool | None = None
    concerned = {id(i): i for number in numbers for i in by_number.get(number, ())}
    for item in concerned.values():
        if ctx.state.items.get(item.id) is not item:
            continue  # gone since the index was made
        for n, change in enumerate(item.changes):
            if change.key in pool:
                fresh = pool[change.key]
                if with_times is None:
                    with_times = _uses_ages(ctx.layout)
                if not _same_for_gating(change, fresh, with_times):
                    item.changes[n] = fresh
                    ctx.touched.add(item.queue)
            elif (
                newer is not None
                and change.number == newer.number
                and change.patchset < newer.patchset
                and change.is_current
            ):
                item.changes[n] = replace(change, is_current=False)
                ctx.touched.add(item.queue)


def _remove_change(ctx: Ctx, number: int, below_patchset: int | None, only_new_ps: bool) -> None:
    for name in list(ctx.state.pipelines):
        if not ctx.has_pipeline(name):
            continue
        pipeline = ctx.pipeline(name)
        if only_new_ps and not pipeline.dequeue_on_new_patchset:
            continue
        for item in ctx.state.pipeline_items(name):
            if not item.live or item.id not in ctx.state.items or item.submits:
                continue  # a change being submitted hears the outcome from the review server
            hit = any(
                c.number == number and (below_patchset is None or c.patchset < below_patchset)
                for c in item.changes
            )
            if hit:
                remove_item(
                    ctx,
                    item,
                    reset_behind=pipeline.manager in SHARED_MANAGERS,
                    report_dequeue=True,
                )


def _merged_elsewhere(ctx: Ctx, change: Change) -> None:
    """A change merged by someone else leaves the shared queues quietly: the
    items behind it were built on it, which is what the branch is now."""
    for name in list(ctx.state.pipelines):
        if not ctx.has_pipeline(name) or ctx.pipeline(name).manager not in SHARED_MANAGERS:
            continue
        for item in ctx.state.live_items_for(name, change.key):
            if not item.submits and item.changes == [change]:
                remove_item(ctx, item, reset_behind=False, report_dequeue=False)


def _trigger(ctx: Ctx, event: TriggerEvent, by_number: dict[int, list[Item]]) -> None:
    pool: dict[str, Change] = dict(event.dependencies)
    for behind in event.needed_by:
        pool[behind.key] = behind
    if event.change is not None:
        pool[event.change.key] = event.change
    _refresh(ctx, pool, event, by_number)
    change = event.change
    if change is not None:
        if change.status == "MERGED":
            if change.key not in ctx.state.merged:
                ctx.state.merged.append(change.key)
            _merged_elsewhere(ctx, change)
        if event.type == "patchset-created":
            _remove_change(ctx, change.number, change.patchset, only_new_ps=True)
        if event.type == "change-abandoned" or change.status == "ABANDONED":
            _remove_change(ctx, change.number, None, only_new_ps=False)
    for name in ctx.layout.pipeline_names():
        pipeline = ctx.pipeline(name)
        if not pipeline_triggered(pipeline, event, ctx.now):
            continue
        if change is not None:
            if unmet_requirements(change, pipeline.require, pipeline.reject, ctx.now):
                continue
            enqueue_change(ctx, name, change, pool)
        elif event.ref_update is not None:
            enqueue_ref(ctx, name, event.ref_update)


def _build_completed(ctx: Ctx, event: BuildCompleted) -> None:
    build = ctx.state.builds.get(event.build)
    if build is None or build.state == "done":
        return  # canceled, or from a build set that was reset
    build.state = "done"
    build.result = event.result
    build.started = build.started if build.started is not None else event.started
    build.ended = event.ended
    build.url = event.url or build.url
    build.error = event.error
    build.data = dict(event.data)
    release_semaphores(ctx, build)
    bs = ctx.state.buildsets.get(build.buildset)
    job = bs.job(build.job) if bs is not None else None
    if event.result == "RETRY" and job is not None and build.attempt >= job.attempts:
        build.result = "RETRY_LIMIT"


def _admin_enqueue(ctx: Ctx, event: Enqueue) -> None:
    if not ctx.has_pipeline(event.pipeline):
        return
    if isinstance(event.subject, Ref):
        enqueue_ref(ctx, event.pipeline, event.subject)
        return
    pool = dict(event.dependencies)
    pool[event.subject.key] = event.subject
    enqueue_change(ctx, event.pipeline, event.subject, pool, ignore_requirements=True)


def _matches(item: Item, key: str) -> bool:
    if key in item.keys:
        return True
    return item.ref is not None and key in (item.ref.ref, item.ref.newrev)


def _admin_dequeue(ctx: Ctx, event: Dequeue) -> None:
    if not ctx.has_pipeline(event.pipeline):
        return
    shared = ctx.pipeline(event.pipeline).manager in SHARED_MANAGERS
    for item in ctx.state.pipeline_items(event.pipeline):
        if item.live and not item.submits and _matches(item, event.key):
            remove_item(ctx, item, reset_behind=shared, report_dequeue=True)


def _promote(ctx: Ctx, event: Promote) -> None:
    if not ctx.has_pipeline(event.pipeline):
        return
    state = ctx.state
    shared = ctx.pipeline(event.pipeline).manager in SHARED_MANAGERS

    def rank(item: Item) -> int:
        for n, key in enumerate(event.keys):
            if key in item.keys:
                return n
        return len(event.keys)

    if not shared:
        queues = state.pipelines[event.pipeline]
        queues.sort(key=lambda q: min((rank(i) for i in state.queue_items(q)), default=99))
        return
    for queue_id in state.pipelines[event.pipeline]:
        queue = state.queues[queue_id]
        items = state.queue_items(queue_id)
        if any(i.submits for i in items):
            continue  # the head is merging; promote behind it next time
        before = {i.id: [a.id for a in state.chain(i)] for i in items}
        ordered = sorted(items, key=rank)  # stable: the others keep their order
        queue.items = [i.id for i in ordered]
        ahead: str | None = None
        for item in ordered:
            item.item_ahead = ahead
            ahead = item.id
        for item in ordered:
            if [a.id for a in state.chain(item)] != before[item.id]:
                drop_buildset(ctx, buildset(ctx, item))
                new_buildset(ctx, item)
                item.needs_failing = False


def _reconfigure(ctx: Ctx) -> None:
    state = ctx.state
    state.layout_generation = ctx.layout.generation
    for name in list(state.pipelines):
        if ctx.has_pipeline(name):
            continue
        for queue_id in list(state.pipelines[name]):
            for item in state.queue_items(queue_id):
                drop_buildset(ctx, buildset(ctx, item))
                state.items.pop(item.id, None)
            state.queues.pop(queue_id, None)
        del state.pipelines[name]
    for item in state.items.values():
        bs = buildset(ctx, item)
        if bs.merge == "done" and not bs.builds and not bs.dynamic_layout:
            freeze(ctx, item, bs, ctx.layout)

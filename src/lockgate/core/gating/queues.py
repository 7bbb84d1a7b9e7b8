"""The processing pass (zuul.md section 2): after every event each queue is
walked from head to tail, re-validating items, moving items behind the nearest
non-failing item, preparing and launching what is inside the window, and
reporting at the head."""

from __future__ import annotations

from lockgate.core.config.objects import PipelineDef
from lockgate.core.gating.changes import Change
from lockgate.core.gating.context import SHARED_MANAGERS, Ctx
from lockgate.core.gating.jobs import (
    all_complete,
    buildset,
    cancel_builds,
    launch,
    note_holding,
    request_merge,
    reset,
    voting_failures,
)
from lockgate.core.gating.reporting import fail_out, final_action, finish, remove_item, send
from lockgate.core.gating.reports import BAD_CONFIG_AHEAD, MISSING_REQUIREMENT, NEEDS_FAILED
from lockgate.core.gating.requirements import reporter_labels, unmet_requirements
from lockgate.core.gating.state import Item, Queue
from lockgate.core.gating.window import is_active

# A pass that keeps changing something is cut off here; each event then
# continues where the last one left off.
MAX_PASSES = 1000


def process(ctx: Ctx, only: list[str] | None = None) -> None:
    """Walk every queue (or the queues in `only`), then again the queues where
    something changed, until none does. A released semaphore may let a build of
    any queue start, so it sends every queue round again."""
    todo: list[str] | None = None if ctx.semaphore_freed else only  # None: every queue
    for _ in range(MAX_PASSES):
        ctx.holds.clear()
        ctx.semaphore_freed = False
        changed: list[str] = []
        for name in list(ctx.state.pipelines):
            if not ctx.has_pipeline(name):
                continue
            for queue_id in list(ctx.state.pipelines.get(name, [])):
                if todo is not None and queue_id not in todo:
                    continue
                queue = ctx.state.queues.get(queue_id)
                if queue is not None and process_queue(ctx, queue):
                    changed.append(queue_id)
        if not changed:
            return
        todo = None if ctx.semaphore_freed else changed


def needs_of(item: Item) -> list[str]:
    own = set(item.keys)
    return [n for c in item.changes for n in c.needs if n not in own]


def _ages(pipeline: PipelineDef) -> bool:
    return any(
        m.newer_than is not None or m.older_than is not None
        for r in (*pipeline.require, *pipeline.reject)
        for m in r.approvals
    )


def _unmet(ctx: Ctx, pipeline: PipelineDef, change: Change) -> bool:
    """The requirement check of every pass, remembered for a change snapshot
    (which never changes) unless the requirements depend on the time."""
    if _ages(pipeline):
        return unmet_requirements(change, pipeline.require, pipeline.reject, ctx.now)
    key = (id(pipeline), id(change))
    cached = ctx.requirement_cache.get(key)
    if cached is not None and cached[0] is pipeline and cached[1] is change:
        return cached[2]
    result = unmet_requirements(change, pipeline.require, pipeline.reject, ctx.now)
    ctx.requirement_cache[key] = (pipeline, change, result)
    return result


def _revalidate(ctx: Ctx, item: Item, pipeline: PipelineDef, ahead: set[str]) -> str:
    """Why the item can no longer be in this pipeline ("" when it still can).
    `ahead` holds the keys of the live items ahead of it in its queue."""
    dependent = pipeline.manager == "dependent"
    for change in item.changes:
        if dependent and not change.can_merge(reporter_labels(pipeline)):
            return MISSING_REQUIREMENT
        if (
            (pipeline.require or pipeline.reject)
            and not item.ignore_requirements
            and _unmet(ctx, pipeline, change)
        ):
            return MISSING_REQUIREMENT
    if dependent:
        for need in needs_of(item):
            if need not in ahead and need not in ctx.state.merged:
                return NEEDS_FAILED
    return ""


def _prepare(ctx: Ctx, item: Item, pipeline: PipelineDef) -> bool:
    bs = buildset(ctx, item)
    if bs.merge == "new":
        request_merge(ctx, item)
        return True
    if bs.merge != "done" or bs.graph is None:
        return False
    changed = False
    if not item.reported_start and bs.graph.jobs:
        item.reported_start = True
        send(ctx, pipeline, item.id, item.changes, "start", kind="start")
        changed = True
    return launch(ctx, item) or changed


def _live_ahead(ctx: Ctx, item: Item) -> bool:
    ahead = item.item_ahead
    while ahead is not None:
        other = ctx.state.items[ahead]
        if other.live:
            return True
        ahead = other.item_ahead
    return False


def process_queue(ctx: Ctx, queue: Queue) -> bool:
    pipeline = ctx.pipeline(queue.pipeline)
    shared = pipeline.manager in SHARED_MANAGERS
    state = ctx.state
    nnfi: str | None = None
    changed = False
    ahead_keys: set[str] = set()  # of the live items walked so far
    failing_keys: set[str] = set()  # of those that are failing
    bad_config_keys: set[str] = set()  # of those whose configuration is invalid
    for position, item_id in enumerate(list(queue.items)):
        item = state.items.get(item_id)
        if item is None or item.queue != queue.id:
            continue
        keys = item.keys
        if item.submits:  # at the head, waiting for the review server to merge it
            nnfi = item.id
            ahead_keys.update(keys)
            note_holding(ctx, item)
            continue
        if item.live and item.ref is None:
            reason = _revalidate(ctx, item, pipeline, ahead_keys)
            if reason == NEEDS_FAILED and (
                item.fail_reason == BAD_CONFIG_AHEAD or bad_config_keys.intersection(needs_of(item))
            ):
                reason = BAD_CONFIG_AHEAD  # what it needed left with its config errors
            if reason:
                fail_out(ctx, item, reason)
                changed = True
                continue
        item.active = is_active(position, queue.window)
        failing: list[str] = []
        if shared and failing_keys and failing_keys.intersection(needs_of(item)):
            if bad_config_keys.intersection(needs_of(item)):
                # Zuul's words for it, reported when it reaches the head
                item.fail_reason = BAD_CONFIG_AHEAD
            if not item.needs_failing:
                item.needs_failing = True
                cancel_builds(ctx, buildset(ctx, item), NEEDS_FAILED)
                changed = True
            failing.append("a needed change is failing")
        else:
            if item.needs_failing:
                # the change it needs is not failing any more (it was reset
                # onto a new base): this item starts again too
                item.needs_failing = False
                item.fail_reason = ""
                reset(ctx, item)
                changed = True
            if shared and item.item_ahead != nnfi:
                item.item_ahead = nnfi
                reset(ctx, item)
                changed = True
            if item.active and item.live:
                changed |= _prepare(ctx, item, pipeline)
        bs = buildset(ctx, item)
        if bs.merge == "conflict":
            failing.append("it has a merge conflict")
        if bs.merge == "config-error":
            failing.append("it has an invalid configuration")
            if item.live:
                bad_config_keys.update(keys)
        if item.fail_reason:
            failing.append(item.fail_reason)
        if voting_failures(ctx, bs):
            failing.append("at least one job failed")
            if bs.graph is not None and bs.graph.fail_fast and not all_complete(ctx, bs):
                cancel_builds(ctx, bs, "Skipped due to fail-fast")
                changed = True
        item.failing_reasons = failing
        if not item.live and not any(
            state.items[i].item_ahead == item.id for i in queue.items[position + 1 :]
        ):
            remove_item(ctx, item, reset_behind=False, report_dequeue=False)
            changed = True
            continue
        if item.live and not _live_ahead(ctx, item):
            outcome = final_action(ctx, item)
            if outcome is not None:
                changed = True
                if finish(ctx, item, *outcome):
                    continue
                nnfi = item.id
                ahead_keys.update(keys)
                note_holding(ctx, item)
                continue
        if item.live:
            ahead_keys.update(keys)
            if failing or item.needs_failing:
                failing_keys.update(keys)
            else:
                nnfi = item.id
        note_holding(ctx, item)
    return changed

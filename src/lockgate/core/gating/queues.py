"""The processing pass (zuul.md section 2): after every event each queue is
walked from head to tail, re-validating items, moving items behind the nearest
non-failing item, preparing and launching what is inside the window, and
reporting at the head."""

from __future__ import annotations

from lockgate.core.config.objects import PipelineDef
from lockgate.core.gating.context import SHARED_MANAGERS, Ctx
from lockgate.core.gating.jobs import (
    all_complete,
    buildset,
    cancel_builds,
    launch,
    request_merge,
    reset,
    voting_failures,
)
from lockgate.core.gating.reporting import fail_out, final_action, finish, remove_item, send
from lockgate.core.gating.reports import MISSING_REQUIREMENT, NEEDS_FAILED
from lockgate.core.gating.requirements import unmet_requirements
from lockgate.core.gating.state import Item, Queue
from lockgate.core.gating.window import is_active

# A pass that keeps changing something is cut off here; each event then
# continues where the last one left off.
MAX_PASSES = 1000


def process(ctx: Ctx) -> None:
    for _ in range(MAX_PASSES):
        changed = False
        for name in list(ctx.state.pipelines):
            if not ctx.has_pipeline(name):
                continue
            for queue_id in list(ctx.state.pipelines.get(name, [])):
                if queue_id in ctx.state.queues:
                    changed |= process_queue(ctx, ctx.state.queues[queue_id])
        if not changed:
            return


def needs_of(item: Item) -> list[str]:
    own = set(item.keys)
    return [n for c in item.changes for n in c.needs if n not in own]


def _revalidate(ctx: Ctx, item: Item, pipeline: PipelineDef, queue: Queue) -> str:
    """Why the item can no longer be in this pipeline ("" when it still can)."""
    dependent = pipeline.manager == "dependent"
    for change in item.changes:
        if dependent and (not change.is_open or not change.is_current or not change.submittable):
            return MISSING_REQUIREMENT
        if not item.ignore_requirements and unmet_requirements(
            change, pipeline.require, pipeline.reject, ctx.now
        ):
            return MISSING_REQUIREMENT
    if dependent:
        ahead: set[str] = set()
        for other in ctx.state.queue_items(queue.id):
            if other.id == item.id:
                break
            if other.live:
                ahead.update(other.keys)
        for need in needs_of(item):
            if need not in ahead and need not in ctx.state.merged:
                return NEEDS_FAILED
    return ""


def _needs_failing(ctx: Ctx, item: Item, queue: Queue) -> bool:
    needs = set(needs_of(item))
    if not needs:
        return False
    for other in ctx.state.queue_items(queue.id):
        if other.id == item.id:
            return False
        if (
            other.live
            and needs & set(other.keys)
            and (other.failing_reasons or other.needs_failing)
        ):
            return True
    return False


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
    return any(i.live for i in ctx.state.chain(item)[:-1])


def process_queue(ctx: Ctx, queue: Queue) -> bool:
    pipeline = ctx.pipeline(queue.pipeline)
    shared = pipeline.manager in SHARED_MANAGERS
    state = ctx.state
    nnfi: str | None = None
    changed = False
    for item_id in list(queue.items):
        item = state.items.get(item_id)
        if item is None or item_id not in queue.items:
            continue
        if item.submits:  # at the head, waiting for the review server to merge it
            nnfi = item.id
            continue
        if item.live and item.ref is None:
            reason = _revalidate(ctx, item, pipeline, queue)
            if reason:
                fail_out(ctx, item, reason)
                changed = True
                continue
        item.active = is_active(queue.items.index(item_id), queue.window)
        failing: list[str] = []
        if shared and _needs_failing(ctx, item, queue):
            if not item.needs_failing:
                item.needs_failing = True
                cancel_builds(ctx, buildset(ctx, item), NEEDS_FAILED)
                changed = True
            failing.append("a needed change is failing")
        else:
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
        if item.fail_reason:
            failing.append(item.fail_reason)
        failed_jobs = voting_failures(ctx, bs)
        if failed_jobs:
            failing.append("at least one job failed")
            if bs.graph is not None and bs.graph.fail_fast and not all_complete(ctx, bs):
                cancel_builds(ctx, bs, "Skipped due to fail-fast")
                changed = True
        item.failing_reasons = failing
        if not item.live and not state.behind(item):
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
                continue
        if item.live and not failing:
            nnfi = item.id
    return changed

"""Reports on changes (start, enqueue, results, dequeue) and taking items out of
their queues when they are done."""

from __future__ import annotations

from collections.abc import Sequence

from lockgate.core.config.objects import PipelineDef, ReporterDef
from lockgate.core.gating.actions import Report
from lockgate.core.gating.changes import Change
from lockgate.core.gating.context import SHARED_MANAGERS, Ctx
from lockgate.core.gating.events import ReportDone
from lockgate.core.gating.jobs import (
    all_complete,
    all_skipped,
    buildset,
    drop_buildset,
    outcomes,
    reset,
    voting_failures,
)
from lockgate.core.gating.reports import (
    CYCLE_FAILED,
    MERGE_FAILURE,
    NEEDS_FAILED,
    JobOutcome,
    config_error_reason,
    report_message,
)
from lockgate.core.gating.state import Item, PendingReport
from lockgate.core.gating.window import grown, shrunk

RESULTS = {
    "success": "SUCCESS",
    "failure": "FAILURE",
    "merge-conflict": "MERGE_CONFLICT",
    "config-error": "CONFIG_ERROR",
    "no-jobs": "NO_JOBS",
}
# actions whose reporters fall back to the failure reporters, as in Zuul
_FALLS_BACK = ("merge-conflict", "config-error")


def reporters_for(ctx: Ctx, pipeline: PipelineDef, action: str) -> tuple[ReporterDef, ...]:
    limit = pipeline.disable_after_consecutive_failures
    if (
        limit is not None
        and action in RESULTS
        and ctx.state.consecutive_failures.get(pipeline.name, 0) >= limit
    ):
        return pipeline.reporters.get("disabled", ())
    if action in pipeline.reporters:
        return pipeline.reporters[action]
    if action in _FALLS_BACK:
        return pipeline.reporters.get("failure", ())
    return ()


def send(
    ctx: Ctx,
    pipeline: PipelineDef,
    item_id: str,
    changes: Sequence[Change],
    action: str,
    *,
    kind: str,
    jobs: Sequence[JobOutcome] = (),
    reason: str = "",
    buildset: str = "",
    result: str = "",
) -> list[str]:
    """One Report per change; returns their ids (none when the action has no reporters).
    A report that concludes a build set names it and its result."""
    reporters = reporters_for(ctx, pipeline, action)
    if not reporters:
        return []
    message = report_message(pipeline, action, jobs, reason=reason)
    ids = []
    for change in changes:
        report = Report(
            report=ctx.state.next_id("r"),
            item=item_id,
            pipeline=pipeline.name,
            action=action,
            change=change,
            message=message,
            reporters=reporters,
            buildset=buildset,
            result=result,
        )
        ctx.state.reports[report.report] = PendingReport(report, kind)
        ctx.emit(report)
        ids.append(report.report)
    return ids


def remove_item(ctx: Ctx, item: Item, *, reset_behind: bool, report_dequeue: bool) -> None:
    """Take the item out of its queue: cancel its builds, reset the items behind
    when they were built on it, and tell the change when it leaves without a result."""
    state = ctx.state
    if reset_behind:
        for behind in state.behind(item):
            reset(ctx, behind)
    bs = state.buildsets.get(item.buildset)
    if (
        report_dequeue
        and item.live
        and item.reported_start
        and item.result is None
        and ctx.has_pipeline(item.pipeline)
    ):
        jobs = outcomes(ctx, bs) if bs is not None else []
        send(
            ctx,
            ctx.pipeline(item.pipeline),
            item.id,
            item.changes,
            "dequeue",
            kind="dequeue",
            jobs=jobs,
            buildset=bs.id if bs is not None else "",
            result="DEQUEUED",
        )
    if bs is not None:
        drop_buildset(ctx, bs)
    queue = state.queues[item.queue]
    ctx.touched.add(queue.id)
    if item.id in queue.items:
        queue.items.remove(item.id)
    for other in state.queue_items(queue.id):
        if other.item_ahead == item.id:
            other.item_ahead = item.item_ahead
    state.items.pop(item.id, None)
    if queue.dynamic and not queue.items:
        state.queues.pop(queue.id, None)
        ids = state.pipelines.get(queue.pipeline, [])
        if queue.id in ids:
            ids.remove(queue.id)


def final_action(ctx: Ctx, item: Item) -> tuple[str, str] | None:
    """What the item reports when it reaches the head, or None while it must wait."""
    bs = buildset(ctx, item)
    if item.fail_reason:
        return ("failure", item.fail_reason)
    if item.needs_failing:
        return ("failure", NEEDS_FAILED)
    if bs.merge == "conflict":
        return ("merge-conflict", "")
    if bs.merge == "config-error":
        return ("config-error", config_error_reason(bs.config_errors))
    if bs.merge != "done" or bs.graph is None:
        return None
    if not bs.graph.jobs:
        return ("no-jobs", "")
    if not all_complete(ctx, bs):
        return None
    if voting_failures(ctx, bs) or all_skipped(ctx, bs):
        return ("failure", CYCLE_FAILED if len(item.changes) > 1 else "")
    return ("success", "")


def _count(ctx: Ctx, pipeline: PipelineDef, success: bool) -> None:
    failures = ctx.state.consecutive_failures
    failures[pipeline.name] = 0 if success else failures.get(pipeline.name, 0) + 1


def finish(ctx: Ctx, item: Item, action: str, reason: str) -> bool:
    """Report the item's result. Returns True when the item left the queue (it
    stays, waiting for ReportDone, when its report submits)."""
    pipeline = ctx.pipeline(item.pipeline)
    queue = ctx.state.queues[item.queue]
    bs = buildset(ctx, item)
    jobs = outcomes(ctx, bs) if action in ("success", "failure") else []
    submitting = action == "success" and any(r.submit for r in reporters_for(ctx, pipeline, action))
    kind = "submit" if submitting and item.ref is None else "final"
    result = RESULTS.get(action, "FAILURE")
    ids = send(
        ctx,
        pipeline,
        item.id,
        item.changes,
        action,
        kind=kind,
        jobs=jobs,
        reason=reason,
        buildset=bs.id,
        result=result,
    )
    if kind == "submit" and ids:
        item.submits = ids
        return False
    item.result = result
    _count(ctx, pipeline, action == "success")
    if action == "failure" and pipeline.manager == "dependent" and item.live:
        queue.window = shrunk(pipeline, queue.window)
    remove_item(ctx, item, reset_behind=pipeline.manager in SHARED_MANAGERS, report_dequeue=False)
    return True


def fail_out(ctx: Ctx, item: Item, reason: str) -> None:
    """Report a failure now, wherever the item stands, and dequeue it: it can no
    longer merge (a requirement or a needed change is gone)."""
    pipeline = ctx.pipeline(item.pipeline)
    bs = buildset(ctx, item)
    if item.live and item.ref is None:
        send(
            ctx,
            pipeline,
            item.id,
            item.changes,
            "failure",
            kind="final",
            jobs=outcomes(ctx, bs),
            reason=reason,
            buildset=bs.id,
            result="FAILURE",
        )
    item.result = "FAILURE"
    remove_item(ctx, item, reset_behind=pipeline.manager in SHARED_MANAGERS, report_dequeue=False)


def report_done(ctx: Ctx, event: ReportDone) -> None:
    pending = ctx.state.reports.pop(event.report, None)
    if pending is None or pending.kind != "submit":
        return
    item = ctx.state.items.get(pending.report.item)
    if item is None or event.report not in item.submits:
        return
    item.submits.remove(event.report)
    key = pending.report.change.key
    if event.merged:
        item.merged_keys.append(key)
        if key not in ctx.state.merged:
            ctx.state.merged.append(key)
    else:
        item.submit_errors.append(event.error or "the review server did not merge it")
    if item.submits:
        return
    pipeline = ctx.pipeline(item.pipeline)
    queue = ctx.state.queues[item.queue]
    shared = pipeline.manager in SHARED_MANAGERS
    if not item.submit_errors:
        item.result = "SUCCESS"
        _count(ctx, pipeline, True)
        queue.window = grown(pipeline, queue.window)
        remove_item(ctx, item, reset_behind=False, report_dequeue=False)
        return
    item.result = "MERGE_FAILURE"
    _count(ctx, pipeline, False)
    reason = MERGE_FAILURE.format(error="; ".join(item.submit_errors))
    unmerged = [c for c in item.changes if c.key not in item.merged_keys]
    send(
        ctx,
        pipeline,
        item.id,
        unmerged,
        "failure",
        kind="final",
        reason=reason,
        buildset=item.buildset,
        result="MERGE_FAILURE",
    )
    remove_item(ctx, item, reset_behind=shared, report_dequeue=False)

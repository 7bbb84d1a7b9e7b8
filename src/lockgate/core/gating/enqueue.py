"""Putting changes and refs into pipelines (Zuul's addChange): queue choice,
the changes needed ahead, cycles, and the approved changes behind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lockgate.core.config.files import touches_config
from lockgate.core.config.objects import PipelineDef
from lockgate.core.gating.changes import Change, Ref
from lockgate.core.gating.context import SHARED_MANAGERS, Ctx
from lockgate.core.gating.dependencies import cycle_of, needed_by, transitive_needs
from lockgate.core.gating.jobs import new_buildset
from lockgate.core.gating.reporting import remove_item, send
from lockgate.core.gating.reports import (
    CYCLE_FORBIDDEN,
    NOT_SHARED_QUEUE,
    TOO_MANY_DEPENDENCIES,
    UNKNOWN_DEPENDENCY,
)
from lockgate.core.gating.requirements import reporter_labels, unmet_requirements
from lockgate.core.gating.state import Item, Queue
from lockgate.core.gating.window import initial_window

Pool = Mapping[str, Change]


def _queue(ctx: Ctx, pipeline: PipelineDef, name: str, branch: str, dynamic: bool) -> Queue:
    for queue_id in ctx.state.pipelines.setdefault(pipeline.name, []):
        q = ctx.state.queues[queue_id]
        if (q.name, q.branch, q.dynamic) == (name, branch, dynamic):
            return q
    return _new_queue(ctx, pipeline, name, branch, dynamic)


def _new_queue(ctx: Ctx, pipeline: PipelineDef, name: str, branch: str, dynamic: bool) -> Queue:
    q = Queue(
        id=ctx.state.next_id("q"),
        pipeline=pipeline.name,
        name=name,
        branch=branch,
        dynamic=dynamic,
        window=initial_window(pipeline),
    )
    ctx.state.queues[q.id] = q
    ctx.state.pipelines.setdefault(pipeline.name, []).append(q.id)
    return q


def shared_queue_key(ctx: Ctx, pipeline: str, project: str, branch: str) -> tuple[str, str, bool]:
    spec = ctx.layout.queue_for(pipeline, project)
    if spec is None:
        return (project, branch, True)
    return (spec.name, branch if spec.per_branch else "", False)


def _new_item(
    ctx: Ctx,
    queue: Queue,
    changes: Sequence[Change],
    ref: Ref | None,
    *,
    live: bool,
    ignore_requirements: bool = False,
) -> Item:
    item = Item(
        id=ctx.state.next_id("i"),
        pipeline=queue.pipeline,
        queue=queue.id,
        changes=list(changes),
        ref=ref,
        live=live,
        ignore_requirements=ignore_requirements,
        enqueue_time=ctx.now,
        item_ahead=queue.items[-1] if queue.items else None,
    )
    ctx.state.items[item.id] = item
    new_buildset(ctx, item)
    queue.items.append(item.id)
    ctx.touched.add(queue.id)
    return item


def _entered(ctx: Ctx, pipeline: PipelineDef, item: Item) -> None:
    """An item went live: the enqueue reporters, and the pipelines it supercedes."""
    send(ctx, pipeline, item.id, item.changes, "enqueue", kind="enqueue")
    for other in pipeline.supercedes:
        if not ctx.has_pipeline(other):
            continue
        shared = ctx.pipeline(other).manager in SHARED_MANAGERS
        for key in item.keys:
            for old in ctx.state.live_items_for(other, key):
                if not old.submits:
                    remove_item(ctx, old, reset_behind=shared, report_dequeue=False)


def _notice(ctx: Ctx, pipeline: PipelineDef, change: Change, reason: str) -> None:
    send(ctx, pipeline, "", [change], "failure", kind="notice", reason=reason)


def _is_merged(ctx: Ctx, key: str, pool: Pool) -> bool:
    return key in ctx.state.merged or (key in pool and pool[key].status == "MERGED")


def in_pipeline(ctx: Ctx, pipeline: str, subject: Change | Ref) -> bool:
    """Zuul's "No project-pipeline config; not enqueuing": a project that runs
    no jobs in the pipeline stays out of it, unless the change edits
    configuration (its own dynamic layout then says what it runs)."""
    if ctx.layout.queue_for(pipeline, subject.project) is not None:
        return True
    return isinstance(subject, Change) and touches_config(subject.files)


def _may_enter(ctx: Ctx, pipeline: PipelineDef, change: Change, ignore_requirements: bool) -> bool:
    if not change.is_open or not change.is_current:
        return False
    if not in_pipeline(ctx, pipeline.name, change):
        return False
    if pipeline.manager == "dependent" and not change.can_merge(reporter_labels(pipeline)):
        return False
    return ignore_requirements or not unmet_requirements(
        change, pipeline.require, pipeline.reject, ctx.now
    )


def enqueue_change(
    ctx: Ctx,
    pipeline_name: str,
    change: Change,
    pool: Pool,
    *,
    ignore_requirements: bool = False,
) -> bool:
    """Try to put `change` into the pipeline; whether it is (or already was) there."""
    pipeline = ctx.pipeline(pipeline_name)
    if ctx.state.live_items_for(pipeline_name, change.key):
        return True
    if not _may_enter(ctx, pipeline, change, ignore_requirements):
        return False
    if change.unresolved_needs and not pipeline.ignore_dependencies:
        _notice(ctx, pipeline, change, UNKNOWN_DEPENDENCY.format(footer=change.unresolved_needs[0]))
        return False
    pool = {**pool, change.key: change}
    limit = ctx.layout.max_dependencies()
    if limit is not None and not pipeline.ignore_dependencies:
        count = len(
            [k for k in transitive_needs([change.key], pool) if not _is_merged(ctx, k, pool)]
        )
        if count > limit:
            _notice(ctx, pipeline, change, TOO_MANY_DEPENDENCIES.format(count=count, max=limit))
            return False
    if pipeline.manager == "dependent":
        return _add_dependent(
            ctx, pipeline, change, pool, ignore_requirements=ignore_requirements, history=set()
        )
    if pipeline.manager == "serial":
        key = shared_queue_key(ctx, pipeline.name, change.project, change.branch)
        queue = _queue(ctx, pipeline, *key)
        _entered(
            ctx,
            pipeline,
            _new_item(
                ctx, queue, [change], None, live=True, ignore_requirements=ignore_requirements
            ),
        )
        return True
    if pipeline.manager == "supercedent":
        queue = _queue(ctx, pipeline, change.project, change.branch, True)
        _entered(
            ctx,
            pipeline,
            _new_item(
                ctx, queue, [change], None, live=True, ignore_requirements=ignore_requirements
            ),
        )
        _prune(ctx, queue)
        return True
    return _add_independent(ctx, pipeline, change, pool, ignore_requirements)


def _members(ctx: Ctx, pipeline: PipelineDef, change: Change, pool: Pool) -> list[Change] | None:
    """The changes one item holds: `change`, or its whole dependency cycle when
    the project's queue allows cycles. None (after a report) when it does not."""
    cycle = cycle_of(change.key, pool)
    if len(cycle) == 1:
        return [change]
    spec = ctx.layout.queue_for(pipeline.name, change.project)
    if spec is None or not spec.allow_circular_dependencies:
        _notice(ctx, pipeline, change, CYCLE_FORBIDDEN.format(project=change.project))
        return None
    return sorted((pool[k] for k in cycle), key=lambda c: c.number)


def _add_dependent(
    ctx: Ctx,
    pipeline: PipelineDef,
    change: Change,
    pool: Pool,
    *,
    ignore_requirements: bool,
    history: set[str],
) -> bool:
    if ctx.state.live_items_for(pipeline.name, change.key):
        return True
    if change.key in history:
        return True  # being added further up this call chain
    members = _members(ctx, pipeline, change, pool)
    if members is None:
        return False
    if any(not _may_enter(ctx, pipeline, m, ignore_requirements) for m in members):
        return False
    history = history | {m.key for m in members}
    key = shared_queue_key(ctx, pipeline.name, change.project, change.branch)
    own = {m.key for m in members}
    for need in [n for m in members for n in m.needs if n not in own]:
        if _is_merged(ctx, need, pool):
            continue
        needed = pool.get(need)
        if needed is None:
            return False
        if shared_queue_key(ctx, pipeline.name, needed.project, needed.branch) != key:
            _notice(
                ctx,
                pipeline,
                change,
                NOT_SHARED_QUEUE.format(
                    need=need,
                    need_project=needed.project,
                    change=change.key,
                    project=change.project,
                ),
            )
            return False
        if not _may_enter(ctx, pipeline, needed, ignore_requirements):
            return False
        if not _add_dependent(
            ctx, pipeline, needed, pool, ignore_requirements=ignore_requirements, history=history
        ):
            return False
    if ctx.state.live_items_for(pipeline.name, change.key):
        return True  # the changes behind a needed change brought it in
    queue = _queue(ctx, pipeline, *key)
    item = _new_item(ctx, queue, members, None, live=True, ignore_requirements=ignore_requirements)
    _entered(ctx, pipeline, item)
    for member in members:
        for behind in needed_by(member.key, pool):
            if shared_queue_key(ctx, pipeline.name, behind.project, behind.branch) != key:
                continue
            if _may_enter(ctx, pipeline, behind, ignore_requirements):
                _add_dependent(
                    ctx,
                    pipeline,
                    behind,
                    pool,
                    ignore_requirements=ignore_requirements,
                    history=set(),
                )
    return True


def _ahead_order(ctx: Ctx, change: Change, pool: Pool, own: set[str]) -> list[Change]:
    """The unmerged changes `change` needs, each after the ones it needs itself."""
    out: list[Change] = []
    seen: set[str] = set(own)

    def visit(key: str) -> None:
        if key in seen or key not in pool or _is_merged(ctx, key, pool):
            return
        seen.add(key)
        for need in pool[key].needs:
            visit(need)
        if pool[key].is_open:
            out.append(pool[key])

    for m in own:
        for need in pool[m].needs:
            visit(need)
    return out


def _add_independent(
    ctx: Ctx, pipeline: PipelineDef, change: Change, pool: Pool, ignore_requirements: bool
) -> bool:
    members = [change]
    if not pipeline.ignore_dependencies:
        found = _members(ctx, pipeline, change, pool)
        if found is None:
            return False
        members = found
    queue = _new_queue(ctx, pipeline, change.project, change.branch, True)
    if not pipeline.ignore_dependencies:
        for needed in _ahead_order(ctx, change, pool, {m.key for m in members}):
            _new_item(ctx, queue, [needed], None, live=False)
    item = _new_item(ctx, queue, members, None, live=True, ignore_requirements=ignore_requirements)
    _entered(ctx, pipeline, item)
    return True


def _prune(ctx: Ctx, queue: Queue) -> None:
    """Supercedent: only the running head and the newest item stay."""
    for item_id in queue.items[1:-1]:
        remove_item(ctx, ctx.state.items[item_id], reset_behind=False, report_dequeue=False)


def enqueue_ref(ctx: Ctx, pipeline_name: str, ref: Ref) -> bool:
    pipeline = ctx.pipeline(pipeline_name)
    for item in ctx.state.pipeline_items(pipeline_name):
        if item.ref is not None and item.ref.key == ref.key:
            return True
    if not in_pipeline(ctx, pipeline_name, ref):
        return False
    if pipeline.manager == "independent":
        queue = _new_queue(ctx, pipeline, ref.project, ref.ref, True)
    elif pipeline.manager == "supercedent":
        queue = _queue(ctx, pipeline, ref.project, ref.ref, True)
    else:
        queue = _queue(
            ctx, pipeline, *shared_queue_key(ctx, pipeline_name, ref.project, ref.branch)
        )
    item = _new_item(ctx, queue, [], ref, live=True)
    if pipeline.manager == "supercedent":
        _prune(ctx, queue)
    return item.id in ctx.state.items

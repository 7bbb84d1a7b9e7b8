"""An item's build set: its speculative merge, its frozen job graph, and the
builds of its jobs (dependencies, semaphores, retries, cancellation)."""

from __future__ import annotations

from lockgate.core.builds.returns import ParentBuild, ParentReturns, parent_returns
from lockgate.core.config.frozen import FrozenJob, JobGraph
from lockgate.core.gating.actions import CancelBuild, MergeRequest, StartBuild
from lockgate.core.gating.changes import Change
from lockgate.core.gating.context import PRECEDENCE, Ctx
from lockgate.core.gating.events import MergeCompleted
from lockgate.core.gating.layout_view import ConfigProblem, LayoutView
from lockgate.core.gating.reports import JobOutcome
from lockgate.core.gating.state import SUCCESS, Build, Buildset, Item

CONFIG_FILES = ("zuul.yaml", ".zuul.yaml")
CONFIG_DIRS = ("zuul.d/", ".zuul.d/")


def touches_config(change: Change) -> bool:
    return any(p in CONFIG_FILES or p.startswith(CONFIG_DIRS) for p in change.files)


def new_buildset(ctx: Ctx, item: Item) -> Buildset:
    bs = Buildset(id=ctx.state.next_id("bs"), item=item.id)
    ctx.state.buildsets[bs.id] = bs
    item.buildset = bs.id
    return bs


def buildset(ctx: Ctx, item: Item) -> Buildset:
    return ctx.state.buildsets[item.buildset]


def speculative_changes(ctx: Ctx, item: Item) -> tuple[Change, ...]:
    return tuple(c for i in ctx.state.chain(item) for c in i.changes)


def request_merge(ctx: Ctx, item: Item) -> None:
    bs = buildset(ctx, item)
    changes = speculative_changes(ctx, item)
    bs.merge = "pending"
    bs.changes = tuple(c.key for c in changes) or item.keys
    ctx.emit(
        MergeRequest(
            item=item.id,
            buildset=bs.id,
            changes=changes,
            ref=item.ref,
            config_changes=any(touches_config(c) for c in changes),
        )
    )


def _graph_for(layout: LayoutView, item: Item) -> JobGraph | ConfigProblem:
    if item.ref is not None:
        return layout.job_graph(item.pipeline, item.ref)
    jobs: list[FrozenJob] = []
    fail_fast = False
    for change in item.changes:
        graph = layout.job_graph(item.pipeline, change)
        if isinstance(graph, ConfigProblem):
            return graph
        fail_fast = fail_fast or graph.fail_fast
        # a cycle runs a job that several of its changes share once
        jobs.extend(j for j in graph.jobs if all(j.name != k.name for k in jobs))
    return JobGraph(tuple(jobs), fail_fast=fail_fast)


def freeze(ctx: Ctx, item: Item, bs: Buildset, layout: LayoutView) -> None:
    graph = _graph_for(layout, item)
    if isinstance(graph, ConfigProblem):
        bs.merge = "config-error"
        bs.config_errors = tuple(e.render() for e in graph.errors)
        bs.graph = None
        return
    bs.graph = graph


def merge_completed(ctx: Ctx, event: MergeCompleted) -> None:
    item = ctx.state.items.get(event.item)
    if item is None or item.buildset != event.buildset:
        return  # the item was reset or left the queue since it asked
    bs = buildset(ctx, item)
    if bs.merge != "pending":
        return
    bs.heads = dict(event.heads)
    if event.conflict is not None:
        bs.merge = "conflict"
        bs.conflict = event.conflict
        return
    if event.config_errors:
        bs.merge = "config-error"
        bs.config_errors = tuple(e.render() for e in event.config_errors)
        return
    bs.merge = "done"
    layout = ctx.layout
    if event.layout is not None:
        layout = event.layout
        bs.dynamic_layout = True
        ctx.dynamic[bs.id] = layout
    freeze(ctx, item, bs, layout)


# --- results ------------------------------------------------------------------


def last_build(ctx: Ctx, bs: Buildset, job: str) -> Build | None:
    ids = bs.builds.get(job)
    return ctx.state.builds.get(ids[-1]) if ids else None


def job_result(ctx: Ctx, bs: Buildset, job: str) -> str | None:
    """The job's final result, or None while it waits, runs or will be retried."""
    if job in bs.settled:
        return bs.settled[job][0]
    build = last_build(ctx, bs, job)
    if build is None or build.state != "done" or build.result == "RETRY":
        return None
    return build.result


def all_complete(ctx: Ctx, bs: Buildset) -> bool:
    if bs.graph is None:
        return False
    return all(job_result(ctx, bs, j.name) is not None for j in bs.graph.jobs)


def voting_failures(ctx: Ctx, bs: Buildset) -> list[str]:
    if bs.graph is None:
        return []
    out = []
    for job in bs.graph.jobs:
        result = job_result(ctx, bs, job.name)
        if job.voting and result is not None and result not in (SUCCESS, "SKIPPED"):
            out.append(job.name)
    return out


def all_skipped(ctx: Ctx, bs: Buildset) -> bool:
    if bs.graph is None or not bs.graph.jobs:
        return False
    return all(job_result(ctx, bs, j.name) == "SKIPPED" for j in bs.graph.jobs)


def outcomes(ctx: Ctx, bs: Buildset) -> list[JobOutcome]:
    out = []
    for job in bs.graph.jobs if bs.graph else ():
        result = job_result(ctx, bs, job.name) or "CANCELED"
        build = last_build(ctx, bs, job.name)
        detail = bs.settled.get(job.name, ("", ""))[1]
        elapsed = None
        url = ""
        if build is not None and job.name not in bs.settled:
            url = build.url
            if build.started is not None and build.ended is not None:
                elapsed = build.ended - build.started
        out.append(JobOutcome(job.name, result, job.voting, url, elapsed, detail))
    return out


# --- launching ----------------------------------------------------------------


def _holds_itself(ctx: Ctx, item: Item) -> bool:
    if not item.live:
        return False
    bs = buildset(ctx, item)
    if bs.graph is None:
        return False  # an item without a job graph yet holds nothing, as in Zuul
    return any(
        job.hold_following_changes and job_result(ctx, bs, job.name) != SUCCESS
        for job in bs.graph.jobs
    )


def note_holding(ctx: Ctx, item: Item) -> None:
    """Remember, for this pass, whether the item or one ahead of it holds the
    items behind (queues are walked head first, so the one ahead is known)."""
    ahead = ctx.holds.get(item.item_ahead, False) if item.item_ahead is not None else False
    ctx.holds[item.id] = ahead or _holds_itself(ctx, item)


def holding_following(ctx: Ctx, item: Item) -> bool:
    """Whether an item ahead has a hold-following-changes job that has not
    succeeded."""
    ahead = item.item_ahead
    if ahead is None:
        return False
    if ahead in ctx.holds:
        return ctx.holds[ahead]
    return any(_holds_itself(ctx, a) for a in ctx.state.chain(item)[:-1])


def relative_priority(ctx: Ctx, item: Item) -> int:
    pipeline = ctx.pipeline(item.pipeline)
    if pipeline.manager == "independent":
        same = [
            i.id
            for i in ctx.state.pipeline_items(item.pipeline)
            if i.live and i.project == item.project
        ]
        return same.index(item.id) if item.id in same else 0
    queue = ctx.state.queues[item.queue]
    return queue.items.index(item.id) if item.id in queue.items else 0


def _semaphores_free(ctx: Ctx, job: FrozenJob) -> list[str]:
    """The job's semaphores that are at their max (empty: it may start)."""
    full = []
    for name in job.semaphores:
        holders = ctx.state.semaphores.get(name, [])
        if len(holders) >= ctx.layout.semaphore_max(name):
            full.append(name)
    return full


# Zuul's built-in job: it succeeds at once, without an executor or nodes.
NOOP = "noop"


def _succeed_noop(ctx: Ctx, bs: Buildset, item: Item, job: FrozenJob, attempt: int) -> None:
    build = Build(
        id=ctx.state.next_id("b"),
        job=job.name,
        attempt=attempt,
        item=item.id,
        buildset=bs.id,
        state="done",
        result=SUCCESS,
        started=ctx.now,
        ended=ctx.now,
    )
    ctx.state.builds[build.id] = build
    bs.builds.setdefault(job.name, []).append(build.id)
    bs.waiting.pop(job.name, None)


def _start(ctx: Ctx, item: Item, bs: Buildset, job: FrozenJob, attempt: int) -> None:
    if job.name == NOOP:
        _succeed_noop(ctx, bs, item, job, attempt)
        return
    build = Build(
        id=ctx.state.next_id("b"),
        job=job.name,
        attempt=attempt,
        item=item.id,
        buildset=bs.id,
        semaphores=job.semaphores,
    )
    ctx.state.builds[build.id] = build
    bs.builds.setdefault(job.name, []).append(build.id)
    for name in job.semaphores:
        ctx.state.semaphores.setdefault(name, []).append(build.id)
    bs.waiting.pop(job.name, None)
    pipeline = ctx.pipeline(item.pipeline)
    returns = _parent_returns(ctx, item, bs, job)
    ctx.emit(
        StartBuild(
            build=build.id,
            item=item.id,
            buildset=bs.id,
            tenant=ctx.tenant,
            pipeline=item.pipeline,
            job=job,
            attempt=attempt,
            changes=speculative_changes(ctx, item),
            ref=item.ref,
            precedence=PRECEDENCE.get(pipeline.precedence, 1),
            relative_priority=relative_priority(ctx, item),
            heads=dict(bs.heads),
            post_review=pipeline.post_review,
            parent_data=returns.variables,
            artifacts=returns.artifacts,
        )
    )


def _parent_returns(ctx: Ctx, item: Item, bs: Buildset, job: FrozenJob) -> ParentReturns:
    """What `job`'s ancestors (its dependencies, theirs, ...) returned, from
    their successful builds, in the graph's order, as Zuul passes it on."""
    assert bs.graph is not None
    ancestors: set[str] = set()
    todo = [d.name for d in job.dependencies]
    while todo:
        name = todo.pop()
        if name not in ancestors:
            ancestors.add(name)
            todo.extend(bs.graph.parents(name))
    parents = []
    for ancestor in bs.graph.jobs:
        build = last_build(ctx, bs, ancestor.name) if ancestor.name in ancestors else None
        if build is not None and build.result == SUCCESS and build.data:
            parents.append(ParentBuild(ancestor.name, build.data))
    if not parents:
        return ParentReturns({}, ())
    own = item.changes[-1] if item.changes else None
    origin: dict[str, object] = {"project": item.project}
    if own is not None:
        origin.update(
            project=own.project,
            branch=own.branch,
            change=str(own.number),
            patchset=str(own.patchset),
        )
    elif item.ref is not None:
        origin.update(branch=item.ref.branch, ref=item.ref.ref)
    return parent_returns(parents, origin)


def launch(ctx: Ctx, item: Item) -> bool:
    """Start every job whose dependencies are done; skip those after a failed
    dependency. Returns whether anything changed."""
    bs = buildset(ctx, item)
    if bs.graph is None:
        return False
    changed = False
    holding: bool | None = None  # computed at the first job that could start
    for job in bs.graph.jobs:
        if job.name in bs.settled:
            continue
        build = last_build(ctx, bs, job.name)
        attempt = 1
        if build is not None:
            if build.state != "done" or build.result != "RETRY":
                continue
            attempt = build.attempt + 1
        if holding is None:
            holding = holding_following(ctx, item)
        if holding:
            bs.waiting[job.name] = "hold-following-changes ahead"
            continue
        # a frozen graph keeps only the dependencies on jobs it runs
        parents = [d.name for d in job.dependencies]
        failed = [p for p in parents if job_result(ctx, bs, p) not in (None, SUCCESS)]
        if failed:
            bs.settled[job.name] = ("SKIPPED", f"Skipped due to failed job {failed[0]}")
            bs.waiting.pop(job.name, None)
            changed = True
            continue
        if any(job_result(ctx, bs, p) is None for p in parents):
            bs.waiting[job.name] = "dependencies"
            continue
        if holding:
            bs.waiting[job.name] = "hold-following-changes ahead"
            continue
        full = _semaphores_free(ctx, job)
        if full:
            bs.waiting[job.name] = "semaphores: " + ", ".join(full)
            continue
        _start(ctx, item, bs, job, attempt)
        changed = True
    return changed


def release_semaphores(ctx: Ctx, build: Build) -> None:
    if build.semaphores:
        ctx.semaphore_freed = True
    for name in build.semaphores:
        holders = ctx.state.semaphores.get(name, [])
        if build.id in holders:
            holders.remove(build.id)
        if not holders:
            ctx.state.semaphores.pop(name, None)


def cancel_builds(ctx: Ctx, bs: Buildset, skip_detail: str = "") -> None:
    """Cancel the build set's builds: running ones end ABORTED, queued ones
    CANCELED. With `skip_detail`, jobs not started are settled SKIPPED."""
    for job, ids in bs.builds.items():
        build = ctx.state.builds.get(ids[-1])
        if build is None or build.state == "done":
            continue
        ctx.emit(CancelBuild(build.id))
        build.result = "ABORTED" if build.state == "running" else "CANCELED"
        build.state = "done"
        build.ended = ctx.now
        release_semaphores(ctx, build)
        bs.settled.setdefault(job, (build.result, ""))
    if skip_detail and bs.graph is not None:
        for frozen in bs.graph.jobs:
            if job_result(ctx, bs, frozen.name) is None:
                bs.settled[frozen.name] = ("SKIPPED", skip_detail)
        bs.waiting.clear()


def drop_buildset(ctx: Ctx, bs: Buildset) -> None:
    cancel_builds(ctx, bs)
    for ids in bs.builds.values():
        for bid in ids:
            ctx.state.builds.pop(bid, None)
    ctx.state.buildsets.pop(bs.id, None)
    ctx.dynamic.pop(bs.id, None)


def reset(ctx: Ctx, item: Item) -> None:
    """A fresh build set for `item` and, recursively, every item behind it: the
    speculative state they were built on no longer holds."""
    for behind in ctx.state.behind(item):
        reset(ctx, behind)
    old = ctx.state.buildsets.get(item.buildset)
    if old is not None:
        drop_buildset(ctx, old)
    new_buildset(ctx, item)

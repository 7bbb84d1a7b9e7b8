"""What the status document says beyond the gate's state: estimated and
remaining times from the builds' history, only what a viewer may see, and
where a change stands in its queues.

All of it works on the document `status.tenant_status` builds (Zuul's shape,
zuul.md 1.10), never on the gate's state, so that whoever holds a document
can ask it without the scheduler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Doc = dict[str, Any]


def items(status: Mapping[str, Any]) -> Iterator[tuple[Doc, Doc, Doc]]:
    """Every (pipeline, queue, item) of the document, in queue order."""
    for pipeline in status.get("pipelines", []):
        for queue in pipeline.get("change_queues", []):
            for head in queue.get("heads", []):
                for item in head:
                    yield pipeline, queue, item


def job_names(status: Mapping[str, Any]) -> set[str]:
    return {job["name"] for _p, _q, item in items(status) for job in item.get("jobs", [])}


# --- times ---------------------------------------------------------------------------------


def add_estimates(status: Doc, averages: Mapping[str, float]) -> Doc:
    """Fill in, in place, what Zuul's status page draws its progress bars
    from: each job's `estimated_time` (seconds, the mean of its past
    successful builds) and `remaining_time` (ms), and each item's
    `remaining_time` (ms) along the longest chain of its unfinished jobs;
    None wherever an unfinished job has no history to estimate from."""
    for _pipeline, _queue, item in items(status):
        jobs = item.get("jobs", [])
        for job in jobs:
            if job.get("estimated_time") is None and job["name"] in averages:
                job["estimated_time"] = round(averages[job["name"]], 1)
            job["remaining_time"] = _job_remaining(job)
        if item.get("remaining_time") is None:
            item["remaining_time"] = _item_remaining(jobs)
    return status


def _job_remaining(job: Mapping[str, Any]) -> int | None:
    if job.get("result") is not None:
        return 0
    estimate = job.get("estimated_time")
    if estimate is None:
        return None
    elapsed = job.get("elapsed_time") if job.get("start_time") is not None else None
    return max(int(estimate * 1000) - int(elapsed or 0), 0)


def _item_remaining(jobs: list[Doc]) -> int | None:
    """The longest path through the unfinished jobs: a job starts when its
    dependencies end, so its own remaining time adds to theirs."""
    by_name = {job["name"]: job for job in jobs}
    memo: dict[str, int | None] = {}

    def until_done(name: str, seen: frozenset[str]) -> int | None:
        if name in memo:
            return memo[name]
        job = by_name[name]
        own = job.get("remaining_time")
        if own is None:
            memo[name] = None
            return None
        before = 0
        for dep in job.get("dependencies", []):
            if dep not in by_name or dep in seen:
                continue
            ahead = until_done(dep, seen | {name})
            if ahead is None:
                memo[name] = None
                return None
            before = max(before, ahead)
        memo[name] = before + own
        return memo[name]

    longest = 0
    for name in by_name:
        total = until_done(name, frozenset())
        if total is None:
            return None
        longest = max(longest, total)
    return longest


# --- what a viewer may see -------------------------------------------------------------------


def visible_only(status: Doc, sees: Callable[[Mapping[str, Any]], bool]) -> Doc:
    """The document without the items holding a ref (a change or a ref
    update) that `sees` refuses: a shallow copy, the items it keeps pointing
    past the hidden ones to the nearest visible item ahead."""
    pipelines = []
    for pipeline in status.get("pipelines", []):
        queues = [_visible_queue(queue, sees) for queue in pipeline.get("change_queues", [])]
        pipelines.append({**pipeline, "change_queues": queues})
    return {**status, "pipelines": pipelines}


def _visible_queue(queue: Doc, sees: Callable[[Mapping[str, Any]], bool]) -> Doc:
    every = [item for head in queue.get("heads", []) for item in head]
    hidden = {item["id"] for item in every if not all(sees(r) for r in item.get("refs", []))}
    if not hidden:
        return queue
    ahead_of = {item["id"]: item.get("item_ahead") for item in every}

    def nearest_visible(item_id: str | None) -> str | None:
        while item_id is not None and item_id in hidden:
            item_id = ahead_of.get(item_id)
        return item_id

    kept = {
        item["id"]: {**item, "item_ahead": nearest_visible(item.get("item_ahead"))}
        for item in every
        if item["id"] not in hidden
    }
    behind: dict[str, list[str]] = {}
    for item_id, item in kept.items():
        if item["item_ahead"] is not None:
            behind.setdefault(item["item_ahead"], []).append(item_id)
    for item_id, item in kept.items():
        item["items_behind"] = behind.get(item_id, [])
    heads = []
    for head in queue.get("heads", []):
        chain = [kept[item["id"]] for item in head if item["id"] in kept]
        if chain:
            heads.append(chain)
    return {**queue, "heads": heads}


# --- a change's place in its queues -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """Where one patch set of a change stands in one queue of one pipeline."""

    tenant: str
    pipeline: str
    queue: str
    change: str  # "N,P"
    position: int  # 1 at the head, counting the queue's live items
    length: int  # the queue's live items
    active: bool  # inside the window: its jobs may run
    live: bool  # False: only there for a change behind it to be tested on
    failing: bool
    failing_reasons: tuple[str, ...]
    enqueue_time: int | None  # ms since the epoch
    remaining_time: int | None  # ms, None when no estimate
    jobs: int
    jobs_done: int
    item_id: str


def positions(tenant: str, status: Mapping[str, Any], number: int) -> list[QueuePosition]:
    """Every item of the document that holds change `number` (any patch set)."""
    found = []
    for pipeline in status.get("pipelines", []):
        for queue in pipeline.get("change_queues", []):
            line = [item for head in queue.get("heads", []) for item in head]
            live = [item["id"] for item in line if item.get("live", True)]
            for item in line:
                ref = next((r for r in item.get("refs", []) if r.get("change") == number), None)
                if ref is None:
                    continue
                jobs = item.get("jobs", [])
                place = live.index(item["id"]) + 1 if item["id"] in live else 0
                found.append(
                    QueuePosition(
                        tenant=tenant,
                        pipeline=pipeline["name"],
                        queue=queue.get("name") or "",
                        change=str(ref.get("id") or ""),
                        position=place,
                        length=len(live),
                        active=bool(item.get("active")),
                        live=bool(item.get("live", True)),
                        failing=bool(item.get("failing_reasons")),
                        failing_reasons=tuple(item.get("failing_reasons", [])),
                        enqueue_time=item.get("enqueue_time"),
                        remaining_time=item.get("remaining_time"),
                        jobs=len(jobs),
                        jobs_done=sum(1 for job in jobs if job.get("result") is not None),
                        item_id=item["id"],
                    )
                )
    return found

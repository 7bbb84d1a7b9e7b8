"""Zuul's status JSON (zuul.md 1.10) for one tenant, from the gate's state.

Times are in milliseconds since the epoch, as Zuul's web UI expects; `heads`
are chains, each starting at an item with no item ahead of it.
"""

from __future__ import annotations

from typing import Any

from lockgate.core.config.objects import PipelineDef
from lockgate.core.gating.layout_view import LayoutView
from lockgate.core.gating.state import Build, Buildset, GateState, Item


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


def _job(state: GateState, bs: Buildset, name: str, now: float) -> dict[str, Any]:
    job = bs.job(name)
    ids = bs.builds.get(name, [])
    build: Build | None = state.builds.get(ids[-1]) if ids else None
    settled = bs.settled.get(name)
    result = settled[0] if settled else None
    if result is None and build is not None and build.state == "done":
        result = build.result
    start = build.started if build is not None else None
    end = build.ended if build is not None and build.state == "done" else None
    elapsed = None
    if start is not None:
        elapsed = (end if end is not None else now) - start
    return {
        "name": name,
        "dependencies": [d.name for d in job.dependencies] if job else [],
        "result": result,
        "voting": job.voting if job else True,
        "uuid": build.id if build is not None else None,
        "url": build.url or None if build is not None else None,
        "report_url": build.url or None if build is not None and end is not None else None,
        "start_time": _ms(start),
        "end_time": _ms(end),
        "elapsed_time": _ms(elapsed),
        "remaining_time": None,
        "estimated_time": None,
        "queued": build is not None and build.state == "queued",
        "canceled": result in ("CANCELED", "ABORTED"),
        "paused": False,
        "retry": build is not None and build.result == "RETRY",
        "tries": len(ids),
        "waiting_status": bs.waiting.get(name),
        "pre_fail": False,
    }


def _refs(item: Item) -> list[dict[str, Any]]:
    if item.ref is not None:
        ref = item.ref
        return [
            {
                "project": ref.project,
                "ref": ref.ref,
                "oldrev": ref.oldrev,
                "newrev": ref.newrev,
                "url": ref.url or None,
                "id": None,
                "owner": None,
            }
        ]
    return [
        {
            "project": c.project,
            "branch": c.branch,
            "change": c.number,
            "patchset": c.patchset,
            "ref": c.ref,
            "url": c.url,
            "id": c.key,
            "owner": c.owner,
            "subject": c.subject,
        }
        for c in item.changes
    ]


def item_status(state: GateState, item: Item, now: float) -> dict[str, Any]:
    bs = state.buildsets.get(item.buildset)
    jobs = []
    if bs is not None and bs.graph is not None:
        jobs = [_job(state, bs, j.name, now) for j in bs.graph.jobs]
    return {
        "id": item.id,
        "active": item.active,
        "live": item.live,
        "refs": _refs(item),
        "item_ahead": item.item_ahead,
        "items_behind": [i.id for i in state.behind(item)],
        "failing_reasons": list(item.failing_reasons),
        "zuul_ref": f"Z{bs.id}" if bs is not None else None,
        "enqueue_time": _ms(item.enqueue_time),
        "remaining_time": None,
        "jobs": jobs,
    }


def _heads(state: GateState, queue_id: str, now: float) -> list[list[dict[str, Any]]]:
    chains: dict[str, list[dict[str, Any]]] = {}
    for item in state.queue_items(queue_id):
        root = state.chain(item)[0].id
        chains.setdefault(root, []).append(item_status(state, item, now))
    return list(chains.values())


def _pipeline(state: GateState, pipeline: PipelineDef, now: float) -> dict[str, Any]:
    queues = []
    for queue_id in state.pipelines.get(pipeline.name, []):
        queue = state.queues[queue_id]
        queues.append(
            {
                "name": queue.name,
                "window": queue.window,
                "branch": queue.branch or None,
                "dynamic": queue.dynamic,
                "heads": _heads(state, queue_id, now),
            }
        )
    return {
        "name": pipeline.name,
        "description": pipeline.description,
        "manager": pipeline.manager,
        "state": "normal",
        "triggers": [
            {"driver": t.driver, "connection": t.connection, "events": list(t.events)}
            for t in pipeline.triggers
        ],
        "change_queues": queues,
    }


def tenant_status(state: GateState, layout: LayoutView, now: float) -> dict[str, Any]:
    return {
        "zuul_version": "lockgate",
        "tenant": state.tenant,
        "layout_generation": state.layout_generation,
        "trigger_event_queue": {"length": 0},
        "management_event_queue": {"length": 0},
        "result_event_queue": {"length": 0},
        "pipelines": [_pipeline(state, layout.pipeline(n), now) for n in layout.pipeline_names()],
    }

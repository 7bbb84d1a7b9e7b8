"""The live status page of a tenant, in the shape of Zuul's (`/t/<tenant>/status`):
its pipelines, their change queues and items with their jobs, progress bars
from estimated times, failing items marked; and, for administrators, the
forms that dequeue, promote and enqueue.

The server renders the page once from the status document, so it is whole
without JavaScript; `static/status.js` then polls `/api/tenant/<t>/status`
every second and updates the page in place. The markup the script builds is
the markup the templates write, and what an item and a job show is decided
here and in `static/status_shown.js` alike: keep them in step.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.services.errors import BadRequest, NotFound, ServiceError, Unauthorized
from lockgate.services.gate_api import GateApi
from lockgate.web.auth import request_caller, services_of
from lockgate.web.gerrit.params import path_param
from lockgate.web.ui.pages import checked_form, page, redirect, render
from lockgate.web.zuul_api import may_admin_gate, require_gate_admin

FILTER = "filter"
# Above this many items on the page, the jobs of each item start folded.
EXPAND_LIMIT = 40
DONE_MESSAGES = {
    "dequeue": "Dequeue requested: the item leaves its queue at the scheduler's next step.",
    "promote": "Promote requested: the change moves to the head of its queue at the "
    "scheduler's next step.",
    "enqueue": "Enqueue requested: the item joins the pipeline at the scheduler's next step.",
}
_ZERO = "0" * 40


# --- the page's view of the status document ----------------------------------------------------


@dataclass(slots=True)
class JobView:
    name: str
    href: str | None
    nonvoting: bool
    state: str  # done, running, queued, waiting
    label: str  # the result, "running", "queued", "waiting"
    title: str
    percent: int | None  # running with an estimate
    log_href: str | None


@dataclass(slots=True)
class RefView:
    project: str
    label: str  # "12,1", or a ref and its new commit
    href: str | None
    subject: str


@dataclass(slots=True)
class ItemView:
    id: str
    state: str  # succeeding, failing, waiting, nonlive
    state_title: str
    refs: list[RefView]
    failing_text: str
    age: str
    eta: str
    jobs: list[JobView]
    branched: bool
    live: bool
    admin: dict[str, str] | None  # the forms' fields: pipeline, project, change or ref
    promotable: bool
    jobs_summary: str


@dataclass(slots=True)
class QueueView:
    name: str
    window: int | None
    branch: str | None
    chains: list[list[ItemView]]
    shown: bool  # shared queues (dependent pipelines) are named, with their window


@dataclass(slots=True)
class PipelineView:
    name: str
    description: str
    manager: str
    triggers: str
    count: int  # its items
    shown: int = 0  # of them, those the filter keeps
    queues: list[QueueView] = field(default_factory=list)


def words(ms: int | float | None) -> str:
    """A duration as Zuul's status page writes it: "1 hr 5 min", "3 min"."""
    if ms is None:
        return ""
    if ms < 60_000:
        return "< 1 min"
    minutes = int(ms // 60_000)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} hr {minutes} min" if hours else f"{minutes} min"


def change_href(project: str, number: int) -> str:
    return f"/c/{urllib.parse.quote(project, safe='/')}/+/{number}"


def filter_terms(text: str) -> list[str]:
    """The filter box's words: an item matches when any of them is part of
    its project, change, pipeline or queue (as Zuul's filter)."""
    return [t for t in re.split(r"[\s,]+", text.lower()) if t]


def _matches(terms: list[str], pipeline: str, queue: str, item: Mapping[str, Any]) -> bool:
    if not terms:
        return True
    fields = [pipeline.lower(), queue.lower()]
    for ref in item.get("refs", []):
        fields.append(str(ref.get("project") or "").lower())
        fields.append(str(ref.get("id") or ref.get("ref") or "").lower())
    return any(term in f for term in terms for f in fields)


def _ref_view(ref: Mapping[str, Any]) -> RefView:
    project = str(ref.get("project") or "")
    number = ref.get("change")
    if isinstance(number, int):
        return RefView(project, str(ref.get("id")), change_href(project, number), ref_subject(ref))
    newrev = str(ref.get("newrev") or "")
    label = str(ref.get("ref") or "")
    if newrev and newrev != _ZERO:
        label += f" {newrev[:7]}"
    return RefView(project, label, None, "")


def safe_href(url: object) -> str | None:
    """A link the page may follow: on this site or over http(s), never `javascript:`."""
    if not isinstance(url, str) or not url:
        return None
    if re.match(r"(?i)^https?://", url) or (url.startswith("/") and not url.startswith("//")):
        return url
    return None


def ref_subject(ref: Mapping[str, Any]) -> str:
    return str(ref.get("subject") or "")


def _job_view(tenant: str, job: Mapping[str, Any]) -> JobView:
    uuid = job.get("uuid")
    result = job.get("result")
    base = f"/t/{urllib.parse.quote(tenant, safe='')}"
    nonvoting = job.get("voting") is False
    if result:
        return JobView(
            job["name"],
            f"{base}/build/{uuid}" if uuid else None,
            nonvoting,
            "done",
            str(result),
            f"{result}: the build's page",
            None,
            safe_href(job.get("report_url") or job.get("url")),
        )
    if uuid and job.get("start_time") is not None and not job.get("queued"):
        elapsed = job.get("elapsed_time") or 0
        estimate = job.get("estimated_time")
        percent = None
        title = f"running for {words(elapsed)}"
        if estimate:
            percent = min(100, int(100 * elapsed / (estimate * 1000)))
            title += f" of about {words(estimate * 1000)}"
        return JobView(
            job["name"],
            f"{base}/stream/{uuid}",
            nonvoting,
            "running",
            "running",
            title,
            percent,
            None,
        )
    waiting = job.get("waiting_status")
    if waiting and not uuid:
        return JobView(job["name"], None, nonvoting, "waiting", "waiting", str(waiting), None, None)
    return JobView(job["name"], None, nonvoting, "queued", "queued", "queued", None, None)


def _state(item: Mapping[str, Any]) -> tuple[str, str]:
    reasons = item.get("failing_reasons") or []
    if reasons:
        return "failing", "Failing because " + ", ".join(reasons)
    if not item.get("live", True):
        return "nonlive", "Dependent change required for testing"
    if not item.get("active"):
        return "waiting", "Waiting until closer to the head of the queue to start jobs"
    return "succeeding", "Succeeding"


def _failing_text(item: Mapping[str, Any], ahead: list[Mapping[str, Any]]) -> str:
    reasons = list(item.get("failing_reasons") or [])
    if not reasons:
        return ""
    text = "Failing because " + ", ".join(reasons)
    if "a needed change is failing" in reasons:
        culprits = [
            str(r.get("id") or r.get("ref"))
            for a in ahead
            if a.get("failing_reasons")
            for r in a.get("refs", [])
        ]
        if culprits:
            text += f" ({', '.join(culprits)} ahead)"
    return text


def _jobs_summary(jobs: list[JobView]) -> str:
    counts: dict[str, int] = {}
    for job in jobs:
        key = job.label if job.state == "done" else job.state
        counts[key] = counts.get(key, 0) + 1
    if not jobs:
        return "no jobs yet"
    parts = ", ".join(f"{n} {key.lower()}" for key, n in counts.items())
    return f"{len(jobs)} job{'s' if len(jobs) != 1 else ''}: {parts}"


Keep = Callable[[str, str, Mapping[str, Any]], bool]


def keep_matching(text: str) -> Keep:
    terms = filter_terms(text)
    return lambda pipeline, queue, item: _matches(terms, pipeline, queue, item)


def keep_change(change: str) -> Keep:
    """Only the items holding `change`: "N,P" exactly, or any patch set of "N"."""

    def keep(_pipeline: str, _queue: str, item: Mapping[str, Any]) -> bool:
        for ref in item.get("refs", []):
            ident = str(ref.get("id") or "")
            if ident == change or ("," not in change and ident.split(",", maxsplit=1)[0] == change):
                return True
        return False

    return keep


def build_views(
    tenant: str, status: Mapping[str, Any], keep: Keep, *, admin: bool
) -> tuple[list[PipelineView], int]:
    """The pipelines as the page shows them, only the items `keep` keeps,
    and how many items the page holds."""
    now = status.get("now")
    shown = 0
    pipelines = []
    for pipeline in status.get("pipelines", []):
        name = pipeline["name"]
        queues = pipeline.get("change_queues", [])
        shared = pipeline.get("manager") == "dependent"
        view = PipelineView(
            name,
            str(pipeline.get("description") or ""),
            str(pipeline.get("manager") or ""),
            triggers_text(pipeline),
            sum(len(head) for q in queues for head in q.get("heads", [])),
        )
        live_ahead = False  # a live item is ahead: promoting this one would move it
        for queue in queues:
            queue_name = str(queue.get("name") or "")
            if shared:
                live_ahead = False
            chains = []
            for head in queue.get("heads", []):
                chain = []
                for index, item in enumerate(head):
                    live = bool(item.get("live", True))
                    promotable = live and live_ahead
                    live_ahead = live_ahead or live
                    if not keep(name, queue_name, item):
                        continue
                    shown_item = _item_view(tenant, name, item, head[:index], now=now, admin=admin)
                    shown_item.promotable = promotable and shown_item.promotable
                    # off the line: the items behind it are tested without it
                    shown_item.branched = not item.get("items_behind") and index < len(head) - 1
                    chain.append(shown_item)
                if chain:
                    chains.append(chain)
                    view.shown += len(chain)
            view.queues.append(
                QueueView(
                    queue_name,
                    queue.get("window"),
                    queue.get("branch"),
                    chains,
                    shared,
                )
            )
        pipelines.append(view)
        shown += view.shown
    return pipelines, shown


def triggers_text(pipeline: Mapping[str, Any]) -> str:
    events = []
    for trigger in pipeline.get("triggers", []):
        for event in trigger.get("events", []) or [trigger.get("driver")]:
            if event and event not in events:
                events.append(str(event))
    return ", ".join(events)


def _item_view(
    tenant: str,
    pipeline: str,
    item: Mapping[str, Any],
    ahead: list[Mapping[str, Any]],
    *,
    now: int | None,
    admin: bool,
) -> ItemView:
    refs = item.get("refs", [])
    state, title = _state(item)
    jobs = [_job_view(tenant, job) for job in item.get("jobs", [])]
    enqueued = item.get("enqueue_time")
    age = words(now - enqueued) if now is not None and enqueued else ""
    remaining = item.get("remaining_time")
    target = None
    first = refs[0] if refs else {}
    if admin and item.get("live", True) and first:
        target = {"pipeline": pipeline, "project": str(first.get("project") or "")}
        if isinstance(first.get("change"), int):
            target["change"] = str(first.get("id"))
        else:
            newrev = str(first.get("newrev") or "")
            target["ref"] = newrev if newrev and newrev != _ZERO else str(first.get("ref") or "")
    return ItemView(
        id=str(item["id"]),
        state=state,
        state_title=title,
        refs=[_ref_view(r) for r in refs],
        failing_text=_failing_text(item, ahead),
        age=age,
        eta=words(remaining) if remaining is not None and item.get("live", True) else "",
        jobs=jobs,
        branched=False,
        live=bool(item.get("live", True)),
        admin=target,
        promotable=target is not None and "change" in target,
        jobs_summary=_jobs_summary(jobs),
    )


# --- the pages ---------------------------------------------------------------------------------


def _api(request: Request) -> GateApi:
    api = services_of(request).gate_api
    if api is None:
        raise NotFound("gating is disabled on this site ([gating] enabled = false)")
    return api


@page
async def tenants(request: Request) -> Response:
    rows = await run_in_threadpool(_api(request).tenants)
    return render(request, "status_tenants.html", rows=rows)


@page
async def status(request: Request) -> Response:
    return await _status_page(request, path_param(request, "tenant"))


@page
async def change_status(request: Request) -> Response:
    change = path_param(request, "change")
    if not re.fullmatch(r"\d+(,\d+)?", change):
        raise BadRequest(f"{change!r} is not a change: write it as N,P (e.g. 1234,2)")
    return await _status_page(request, path_param(request, "tenant"), change=change)


async def _status_page(
    request: Request,
    tenant: str,
    *,
    change: str | None = None,
    flash: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    text = request.query_params.get(FILTER, "")
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))

    def read() -> tuple[dict[str, Any], bool, list[str], list[tuple[str, bool]]]:
        api = _api(request)
        admin = may_admin_gate(request)
        doc = api.status_for(tenant, request_caller(request))
        names = list(api.layout(tenant).pipeline_names()) if admin else []
        projects = api.projects(tenant) if admin else []
        return doc, admin, names, projects

    doc, admin, pipeline_names, projects = await run_in_threadpool(read)
    keep = keep_change(change) if change else keep_matching(text)
    pipelines, shown = build_views(tenant, doc, keep, admin=admin)
    return render(
        request,
        "status.html",
        status=status_code,
        tenant=tenant,
        pipelines=pipelines,
        shown=shown,
        expand=shown <= EXPAND_LIMIT,
        filter_text=text,
        filtering=bool(change or filter_terms(text)),
        only_change=change,
        admin=admin,
        pipeline_names=pipeline_names,
        projects=[name for name, _trusted in projects],
        events=(doc.get("trigger_event_queue") or {}).get("length", 0),
        results=(doc.get("result_event_queue") or {}).get("length", 0),
        flash=flash or done,
        error=error,
    )


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _admin_action(action: str) -> Any:
    @page
    async def endpoint(request: Request) -> Response:
        tenant = path_param(request, "tenant")
        form = await checked_form(request)

        def act() -> None:
            require_gate_admin(request)
            api = _api(request)
            pipeline = _field(form, "pipeline")
            if not pipeline:
                raise BadRequest("choose the pipeline")
            project = _field(form, "project")
            change = _field(form, "change") or None
            ref = _field(form, "ref") or None
            if action == "promote":
                if not change:
                    raise BadRequest("promote needs the change, as N,P")
                api.promote(tenant, pipeline, [change])
                return
            if not project:
                raise BadRequest("enqueue and dequeue need the project")
            if action == "dequeue":
                api.dequeue(tenant, project, pipeline, change=change, ref=ref)
            else:
                api.enqueue(
                    tenant,
                    project,
                    pipeline,
                    change=change,
                    ref=ref,
                    oldrev=_field(form, "oldrev") or None,
                    newrev=_field(form, "newrev") or None,
                )

        try:
            await run_in_threadpool(act)
        except Unauthorized:
            raise
        except ServiceError as refusal:
            return await _status_page(
                request, tenant, error=str(refusal), status_code=refusal.status
            )
        return redirect(f"/t/{urllib.parse.quote(tenant, safe='')}/status?done={action}")

    endpoint.__name__ = f"status_{action}"
    return endpoint


routes: list[BaseRoute] = [
    Route("/tenants", tenants, methods=["GET"]),
    Route("/t/{tenant}/status", status, methods=["GET"]),
    Route("/t/{tenant}/status/change/{change}", change_status, methods=["GET"]),
    Route("/t/{tenant}/status/dequeue", _admin_action("dequeue"), methods=["POST"]),
    Route("/t/{tenant}/status/promote", _admin_action("promote"), methods=["POST"]),
    Route("/t/{tenant}/status/enqueue", _admin_action("enqueue"), methods=["POST"]),
]

"""Gerrit REST: submitting and rebasing changes.

POST /changes/{id}/submit and /changes/{id}/rebase (also per revision, which
must then be the current one), GET /changes/{id}/revisions/{rev}/mergeable and
GET /changes/{id}/submitted_together.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.core.review.model import Change
from lockgate.services.errors import BadRequest, Conflict
from lockgate.services.review import LoadOptions
from lockgate.web.auth import request_caller, require_account, services_of
from lockgate.web.gerrit.change_info import parse_options
from lockgate.web.gerrit.changes import render_changes
from lockgate.web.gerrit.params import parse_input, path_param, with_body
from lockgate.web.gerrit.responses import gerrit_json


class _Input(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SubmitInput(_Input):
    """Gerrit's SubmitInput; `notify` and `notify_details` are accepted and ignored."""

    on_behalf_of: str | int | None = None
    notify: str | None = None


class RebaseInput(_Input):
    """Gerrit's RebaseInput; `on_behalf_of_uploader` and `committer_email` are ignored."""

    base: str | None = None
    allow_conflicts: bool = False


def _change(request: Request) -> Change:
    services = services_of(request)
    viewer = request_caller(request)
    change = services.review.resolve(request.path_params["change_id"], viewer)
    if "revision" in request.path_params:
        detail = services.review.details([change.number], LoadOptions(all_revisions=True))[0]
        wanted = services.review.patch_set(detail, path_param(request, "revision"))
        if wanted.number != change.current_patch_set:
            raise Conflict(
                f"revision {path_param(request, 'revision')} is not current revision of "
                f"change {change.number}; use the current patch set {change.current_patch_set}"
            )
    return change


def submit(request: Request, body: dict[str, Any]) -> Response:
    actor = require_account(request)
    wanted = parse_input(SubmitInput, body)
    if wanted.on_behalf_of is not None:
        raise BadRequest("on_behalf_of is not supported: submit as yourself")
    change = _change(request)
    services = services_of(request)
    services.submit.submit(change, actor)
    [info] = render_changes(request, [change.number], parse_options([]))
    return gerrit_json(info)


def rebase(request: Request, body: dict[str, Any]) -> Response:
    actor = require_account(request)
    wanted = parse_input(RebaseInput, body)
    change = _change(request)
    services = services_of(request)
    services.rebase.rebase(change, actor, base=wanted.base, allow_conflicts=wanted.allow_conflicts)
    [info] = render_changes(request, [change.number], parse_options(["CURRENT_REVISION"]))
    return gerrit_json(info)


def mergeable(request: Request) -> Response:
    services = services_of(request)
    detail = services.review.detail(
        request.path_params["change_id"], LoadOptions(all_revisions=True), request_caller(request)
    )
    patch_set = services.review.patch_set(detail, path_param(request, "revision"))
    found = services.submit.mergeable(detail.change, patch_set)
    info: dict[str, Any] = {
        "submit_type": found.submit_type.value,
        "strategy": "recursive",
        "mergeable": found.mergeable,
    }
    if found.commit_merged:
        info["commit_merged"] = True
        info["content_merged"] = True
    if found.conflicts:
        info["conflicts"] = list(found.conflicts)
    return gerrit_json(info)


def submitted_together(request: Request) -> Response:
    services = services_of(request)
    change = services.review.resolve(request.path_params["change_id"], request_caller(request))
    together = services.submit.submitted_together(change)
    # Gerrit lists them newest first: the change submitted, then its ancestors.
    numbers = [c.number for c in reversed(together)]
    return gerrit_json(render_changes(request, numbers, parse_options([])))


_CHANGE = "/changes/{change_id}"
_REVISION = _CHANGE + "/revisions/{revision}"

routes: list[BaseRoute] = [
    Route(_CHANGE + "/submit", with_body(submit), methods=["POST"]),
    Route(_REVISION + "/submit", with_body(submit), methods=["POST"]),
    Route(_CHANGE + "/rebase", with_body(rebase), methods=["POST"]),
    Route(_REVISION + "/rebase", with_body(rebase), methods=["POST"]),
    Route(_REVISION + "/mergeable", mergeable, methods=["GET"]),
    Route(_CHANGE + "/submitted_together", submitted_together, methods=["GET"]),
]

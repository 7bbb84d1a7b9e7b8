"""Gerrit REST: draft comments, each visible only to its author.

`GET /changes/{id}/drafts` lists the caller's drafts of every patch set,
`GET|PUT /changes/{id}/revisions/{rev}/drafts` lists or creates them on one,
and `GET|PUT|DELETE .../drafts/{draft_id}` reads, updates or deletes one. The
bodies are CommentInput, the answers CommentInfo without `author` (the
caller's own); a review publishes them (ReviewInput `drafts`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.core.review.comments import Comment
from lockgate.services.drafts import DraftListing, DraftUpdate
from lockgate.services.errors import BadRequest
from lockgate.web.auth import require_account, services_of
from lockgate.web.gerrit.params import parse_input, path_param, with_body
from lockgate.web.gerrit.responses import gerrit_json
from lockgate.web.gerrit.review import CommentInputModel, comment_info, comment_input


class DraftInputModel(CommentInputModel):
    id: str | None = None
    path: str | None = None


def draft_info(draft: Comment, commits: dict[int, str], *, with_path: bool) -> dict[str, Any]:
    info = comment_info(draft, commits=commits, accounts={}, with_path=with_path)
    info.pop("author", None)
    return info


def _by_path(listing: DraftListing) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for draft in listing.drafts:
        grouped[draft.path].append(draft_info(draft, listing.commits, with_path=False))
    return {path: grouped[path] for path in sorted(grouped)}


def _one(listing: DraftListing, status: int = 200) -> Response:
    [draft] = listing.drafts
    return gerrit_json(draft_info(draft, listing.commits, with_path=True), status)


def list_change_drafts(request: Request) -> Response:
    actor = require_account(request)
    listing = services_of(request).drafts.listing(request.path_params["change_id"], actor)
    return gerrit_json(_by_path(listing))


def list_revision_drafts(request: Request) -> Response:
    actor = require_account(request)
    listing = services_of(request).drafts.listing(
        request.path_params["change_id"], actor, path_param(request, "revision")
    )
    return gerrit_json(_by_path(listing))


def get_draft(request: Request) -> Response:
    actor = require_account(request)
    listing = services_of(request).drafts.get(
        request.path_params["change_id"],
        path_param(request, "revision"),
        path_param(request, "draft_id"),
        actor,
    )
    return _one(listing)


def create_draft(request: Request, body: dict[str, Any]) -> Response:
    actor = require_account(request)
    given = parse_input(DraftInputModel, body)
    if not given.path:
        raise BadRequest("path must be non-empty: name the file the draft is on")
    listing = services_of(request).drafts.create(
        request.path_params["change_id"],
        path_param(request, "revision"),
        actor,
        comment_input(given.path, given),
    )
    return _one(listing, 201)


def update_draft(request: Request, body: dict[str, Any]) -> Response:
    actor = require_account(request)
    given = parse_input(DraftInputModel, body)
    draft_id = path_param(request, "draft_id")
    if given.id is not None and given.id != draft_id:
        raise BadRequest(f"id {given.id} must match the URL's draft {draft_id}, or be left out")
    parsed = comment_input(given.path or "", given)
    update = DraftUpdate(
        path=given.path or None,
        message=given.message,
        side=parsed.side if given.side is not None else None,
        line=given.line,
        range=parsed.range,
        in_reply_to=given.in_reply_to,
        unresolved=given.unresolved,
        parent=given.parent,
    )
    listing = services_of(request).drafts.update(
        request.path_params["change_id"], path_param(request, "revision"), draft_id, actor, update
    )
    if listing is None:
        return Response(status_code=204)
    return _one(listing)


def delete_draft(request: Request) -> Response:
    actor = require_account(request)
    services_of(request).drafts.delete(
        request.path_params["change_id"],
        path_param(request, "revision"),
        path_param(request, "draft_id"),
        actor,
    )
    return Response(status_code=204)


_CHANGE = "/changes/{change_id}"
_REVISION = _CHANGE + "/revisions/{revision}"

routes: list[BaseRoute] = [
    Route(_CHANGE + "/drafts", list_change_drafts, methods=["GET"]),
    Route(_CHANGE + "/drafts/", list_change_drafts, methods=["GET"]),
    Route(_REVISION + "/drafts", list_revision_drafts, methods=["GET"]),
    Route(_REVISION + "/drafts/", list_revision_drafts, methods=["GET"]),
    Route(_REVISION + "/drafts", with_body(create_draft), methods=["PUT"]),
    Route(_REVISION + "/drafts/", with_body(create_draft), methods=["PUT"]),
    Route(_REVISION + "/drafts/{draft_id}", get_draft, methods=["GET"]),
    Route(_REVISION + "/drafts/{draft_id}", with_body(update_draft), methods=["PUT"]),
    Route(_REVISION + "/drafts/{draft_id}", delete_draft, methods=["DELETE"]),
]

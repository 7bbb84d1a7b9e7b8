"""Gerrit REST: changing a change: abandon, restore, topic, hashtags, WIP, private, reviewers.

Every write needs a signed-in caller (401 otherwise); the services decide
who may make it (403), whether the change's state allows it (409), and write
the fact, its change message and its stream event in one transaction.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.services.change_views import load_views
from lockgate.services.review import LoadOptions
from lockgate.services.reviewers import AddResult, ReviewerEntry
from lockgate.web.auth import request_account, require_account, services_of
from lockgate.web.gerrit.change_info import ChangeOptions, ChangeRenderer
from lockgate.web.gerrit.entities import account_info
from lockgate.web.gerrit.params import parse_input, path_param, with_body
from lockgate.web.gerrit.responses import gerrit_json


class _Input(BaseModel):
    # Gerrit's inputs carry fields lockgate does not act on yet (notify,
    # notify_details): they are accepted and ignored.
    model_config = ConfigDict(extra="ignore")


class MessageInput(_Input):
    """AbandonInput, RestoreInput, WorkInProgressInput, PrivateInput."""

    message: str | None = None
    notify: str | None = None


class TopicInput(_Input):
    topic: str | None = None


class HashtagsInput(_Input):
    add: list[str] | None = None
    remove: list[str] | None = None


class ReviewerInput(_Input):
    reviewer: str | None = None
    state: str | None = None
    confirmed: bool = False
    notify: str | None = None


def _change_id(request: Request) -> str:
    change_id: str = request.path_params["change_id"]
    return change_id


def _change_info(request: Request, number: int) -> dict[str, Any]:
    """ChangeInfo without options, as Gerrit answers its change-state endpoints."""
    review = services_of(request).review
    views = load_views(review, [number], LoadOptions())
    renderer = ChangeRenderer(
        public_url=review.public_url,
        options=ChangeOptions(frozenset()),
        submit_types=views.submit_types,
    )
    return renderer.change(views.details[0])


def _empty(status: int) -> Response:
    return Response(status_code=status)


# --- abandon and restore --------------------------------------------------------------


def abandon(request: Request, body: dict[str, Any]) -> Response:
    actor = require_account(request)
    data = parse_input(MessageInput, body)
    change = services_of(request).edits.abandon(_change_id(request), actor, data.message)
    return gerrit_json(_change_info(request, change.number))


def restore(request: Request, body: dict[str, Any]) -> Response:
    actor = require_account(request)
    data = parse_input(MessageInput, body)
    change = services_of(request).edits.restore(_change_id(request), actor, data.message)
    return gerrit_json(_change_info(request, change.number))


# --- topic and hashtags ----------------------------------------------------------------


def get_topic(request: Request) -> Response:
    viewer = request_account(request)
    target = services_of(request).edits.lookup.visible(_change_id(request), viewer)
    return gerrit_json(target.change.topic or "")


def put_topic(request: Request, body: dict[str, Any]) -> Response:
    actor = require_account(request)
    data = parse_input(TopicInput, body)
    topic = services_of(request).edits.set_topic(_change_id(request), actor, data.topic)
    return gerrit_json(topic) if topic else _empty(204)


def delete_topic(request: Request, body: dict[str, Any]) -> Response:
    actor = require_account(request)
    services_of(request).edits.set_topic(_change_id(request), actor, None)
    return _empty(204)


def get_hashtags(request: Request) -> Response:
    viewer = request_account(request)
    target = services_of(request).edits.lookup.visible(_change_id(request), viewer)
    return gerrit_json(sorted(target.change.hashtags))


def post_hashtags(request: Request, body: dict[str, Any]) -> Response:
    actor = require_account(request)
    data = parse_input(HashtagsInput, body)
    hashtags = services_of(request).edits.set_hashtags(
        _change_id(request), actor, data.add or [], data.remove or []
    )
    return gerrit_json(hashtags)


# --- work in progress and privacy ----------------------------------------------------------


def _wip(request: Request, body: dict[str, Any], *, wip: bool) -> Response:
    actor = require_account(request)
    data = parse_input(MessageInput, body)
    services_of(request).edits.set_work_in_progress(_change_id(request), actor, wip, data.message)
    return gerrit_json("")


def set_wip(request: Request, body: dict[str, Any]) -> Response:
    return _wip(request, body, wip=True)


def set_ready(request: Request, body: dict[str, Any]) -> Response:
    return _wip(request, body, wip=False)


def mark_private(request: Request, body: dict[str, Any]) -> Response:
    actor = require_account(request)
    data = parse_input(MessageInput, body)
    changed = services_of(request).edits.set_private(_change_id(request), actor, True, data.message)
    return _empty(201 if changed else 200)


def unmark_private(request: Request, body: dict[str, Any]) -> Response:
    actor = require_account(request)
    data = parse_input(MessageInput, body)
    services_of(request).edits.set_private(_change_id(request), actor, False, data.message)
    return _empty(204)


# --- reviewers -----------------------------------------------------------------------------


def reviewer_info(entry: ReviewerEntry) -> dict[str, Any]:
    return {"approvals": entry.approvals, **account_info(entry.account)}


def add_reviewer_result(result: AddResult) -> dict[str, Any]:
    out: dict[str, Any] = {"input": result.input}
    if result.error is not None:
        out["error"] = result.error
        if result.confirm:
            out["confirm"] = True
        return out
    out["ccs" if result.state == "CC" else "reviewers"] = [reviewer_info(e) for e in result.added]
    return out


def list_reviewers(request: Request) -> Response:
    viewer = request_account(request)
    entries = services_of(request).reviewers.all(_change_id(request), viewer)
    return gerrit_json([reviewer_info(e) for e in entries])


def get_reviewer(request: Request) -> Response:
    viewer = request_account(request)
    entry = services_of(request).reviewers.get(
        _change_id(request), path_param(request, "account"), viewer
    )
    return gerrit_json([reviewer_info(entry)])


def add_reviewer(request: Request, body: dict[str, Any]) -> Response:
    actor = require_account(request)
    data = parse_input(ReviewerInput, body)
    result = services_of(request).reviewers.add(
        _change_id(request), actor, data.reviewer, state=data.state, confirmed=data.confirmed
    )
    # Since Gerrit 3.9 a reviewer that cannot be added is a 400 with the result as its body.
    return gerrit_json(add_reviewer_result(result), 400 if result.error else 200)


def delete_reviewer(request: Request, body: dict[str, Any]) -> Response:
    actor = require_account(request)
    services_of(request).reviewers.remove(
        _change_id(request), actor, path_param(request, "account")
    )
    return _empty(204)


def list_votes(request: Request) -> Response:
    viewer = request_account(request)
    votes = services_of(request).reviewers.votes(
        _change_id(request), path_param(request, "account"), viewer
    )
    return gerrit_json(votes)


def delete_vote(request: Request, body: dict[str, Any]) -> Response:
    actor = require_account(request)
    services_of(request).reviewers.delete_vote(
        _change_id(request), actor, path_param(request, "account"), path_param(request, "label")
    )
    return _empty(204)


_CHANGE = "/changes/{change_id}"
_REVIEWER = _CHANGE + "/reviewers/{account}"
_VOTE = _REVIEWER + "/votes/{label}"

routes: list[BaseRoute] = [
    Route(_CHANGE + "/abandon", with_body(abandon), methods=["POST"]),
    Route(_CHANGE + "/restore", with_body(restore), methods=["POST"]),
    Route(_CHANGE + "/topic", get_topic, methods=["GET"]),
    Route(_CHANGE + "/topic", with_body(put_topic), methods=["PUT"]),
    Route(_CHANGE + "/topic", with_body(delete_topic), methods=["DELETE"]),
    Route(_CHANGE + "/hashtags", get_hashtags, methods=["GET"]),
    Route(_CHANGE + "/hashtags", with_body(post_hashtags), methods=["POST"]),
    Route(_CHANGE + "/wip", with_body(set_wip), methods=["POST"]),
    Route(_CHANGE + "/ready", with_body(set_ready), methods=["POST"]),
    Route(_CHANGE + "/private", with_body(mark_private), methods=["POST"]),
    Route(_CHANGE + "/private", with_body(unmark_private), methods=["DELETE"]),
    Route(_CHANGE + "/private.delete", with_body(unmark_private), methods=["POST"]),
    Route(_CHANGE + "/reviewers", list_reviewers, methods=["GET"]),
    Route(_CHANGE + "/reviewers/", list_reviewers, methods=["GET"]),
    Route(_CHANGE + "/reviewers", with_body(add_reviewer), methods=["POST"]),
    Route(_CHANGE + "/reviewers/", with_body(add_reviewer), methods=["POST"]),
    Route(_REVIEWER, get_reviewer, methods=["GET"]),
    Route(_REVIEWER, with_body(delete_reviewer), methods=["DELETE"]),
    Route(_REVIEWER + "/delete", with_body(delete_reviewer), methods=["POST"]),
    Route(_REVIEWER + "/votes", list_votes, methods=["GET"]),
    Route(_REVIEWER + "/votes/", list_votes, methods=["GET"]),
    Route(_VOTE, with_body(delete_vote), methods=["DELETE"]),
    Route(_VOTE + "/delete", with_body(delete_vote), methods=["POST"]),
]

"""Gerrit REST: reviews (votes, messages and inline comments) and reading comments back.

POST /changes/{id}/revisions/{rev}/review takes Gerrit's ReviewInput and
answers ReviewResult. GET /changes/{id}/comments, .../revisions/{rev}/comments
and .../comments/{comment_id} answer CommentInfo; a review publishes the
author's drafts (see drafts.py) as ReviewInput's `drafts` says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.core.review.comments import Comment, CommentInput, CommentRange, Side
from lockgate.core.review.model import Account
from lockgate.core.review.review_input import Drafts, Notify, ReviewRequest
from lockgate.core.review.timestamps import gerrit_timestamp
from lockgate.services.errors import BadRequest, NotFound
from lockgate.services.review import LoadOptions
from lockgate.web.auth import request_caller, require_signed_in, services_of
from lockgate.web.gerrit.entities import account_ref
from lockgate.web.gerrit.params import parse_input, path_param, with_body
from lockgate.web.gerrit.responses import gerrit_json

# --- ReviewInput ------------------------------------------------------------------


class _Input(BaseModel):
    model_config = ConfigDict(extra="ignore")


class RangeInput(_Input):
    start_line: int
    start_character: int = 0
    end_line: int
    end_character: int = 0


class CommentInputModel(_Input):
    line: int | None = None
    range: RangeInput | None = None
    message: str | None = None
    side: str | None = None
    parent: int | None = None
    in_reply_to: str | None = None
    unresolved: bool | None = None


class ReviewInput(_Input):
    message: str | None = None
    tag: str | None = None
    labels: dict[str, int] | None = None
    comments: dict[str, list[CommentInputModel] | None] | None = None
    # Robot comments (Zuul may send them) are kept as ordinary comments.
    robot_comments: dict[str, list[CommentInputModel] | None] | None = None
    drafts: str | None = None
    notify: str | None = None
    notify_details: dict[str, Any] | None = None
    omit_duplicate_comments: bool = False
    on_behalf_of: str | int | None = None
    ready: bool = False
    work_in_progress: bool = False
    strict_labels: bool = True


def _choice(kind: type[Drafts] | type[Notify], field: str, raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return kind(raw.upper())
    except ValueError:
        known = ", ".join(m.value for m in kind)
        raise BadRequest(f'{field} "{raw}" is not valid; use one of {known}') from None


def comment_input(path: str, given: CommentInputModel) -> CommentInput:
    side = Side.REVISION
    if given.side is not None:
        try:
            side = Side(given.side.upper())
        except ValueError:
            raise BadRequest(
                f'side "{given.side}" of the comment on {path} is not valid; use REVISION or PARENT'
            ) from None
    span = None
    if given.range is not None:
        r = given.range
        span = CommentRange(r.start_line, r.start_character, r.end_line, r.end_character)
    return CommentInput(
        path=path,
        message=given.message or "",
        side=side,
        line=given.line,
        range=span,
        in_reply_to=given.in_reply_to,
        unresolved=given.unresolved,
        parent=given.parent,
    )


def review_request(body: dict[str, Any]) -> ReviewRequest:
    given = parse_input(ReviewInput, body)
    if given.on_behalf_of is not None:
        raise BadRequest(
            "on_behalf_of is not supported: post the review with the voter's own account"
        )
    comments: list[CommentInput] = []
    for group in (given.comments, given.robot_comments):
        for path, items in (group or {}).items():
            comments.extend(comment_input(path, item) for item in items or [])
    return ReviewRequest(
        message=given.message or "",
        tag=given.tag or None,  # pygerrit2 sends an empty tag
        labels=given.labels or {},
        comments=tuple(comments),
        drafts=_choice(Drafts, "drafts", given.drafts) or Drafts.PUBLISH_ALL_REVISIONS,
        notify=_choice(Notify, "notify", given.notify) or Notify.ALL,
        omit_duplicate_comments=given.omit_duplicate_comments,
        ready=given.ready,
        work_in_progress=given.work_in_progress,
        strict_labels=given.strict_labels,
    )


def post_review(request: Request, body: dict[str, Any]) -> Response:
    # The review reads the account again in its transaction.
    actor = require_signed_in(request)
    wanted = review_request(body)
    outcome = services_of(request).reviews.post(
        request.path_params["change_id"], path_param(request, "revision"), actor, wanted
    )
    result: dict[str, Any] = {"labels": outcome.labels}
    if outcome.ready:
        result["ready"] = True
    return gerrit_json(result)


# --- CommentInfo ------------------------------------------------------------------


def comment_info(
    comment: Comment,
    *,
    commits: Mapping[int, str],
    accounts: Mapping[int, Account],
    with_path: bool = False,
) -> dict[str, Any]:
    info: dict[str, Any] = {"id": comment.id}
    if with_path:
        info["path"] = comment.path
    if comment.side is Side.PARENT:
        info["side"] = Side.PARENT.value
        if comment.parent:
            info["parent"] = comment.parent
    if comment.line:
        info["line"] = comment.line
    if comment.range is not None:
        r = comment.range
        info["range"] = {
            "start_line": r.start_line,
            "start_character": r.start_character,
            "end_line": r.end_line,
            "end_character": r.end_character,
        }
    if comment.in_reply_to:
        info["in_reply_to"] = comment.in_reply_to
    info["message"] = comment.message
    info["updated"] = gerrit_timestamp(comment.created_at)
    info["author"] = account_ref(accounts, comment.author_id, detailed=True)
    info["patch_set"] = comment.patch_set
    if comment.patch_set in commits:
        info["commit_id"] = commits[comment.patch_set]
    info["unresolved"] = comment.unresolved
    if comment.change_message_id:
        info["change_message_id"] = comment.change_message_id
    if comment.tag:
        info["tag"] = comment.tag
    return info


def comments_by_path(
    comments: Iterable[Comment], *, commits: Mapping[int, str], accounts: Mapping[int, Account]
) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in comments:
        grouped[c.path].append(comment_info(c, commits=commits, accounts=accounts))
    return {path: grouped[path] for path in sorted(grouped)}


def _comments(
    request: Request, *, per_revision: bool
) -> tuple[list[Comment], dict[int, str], dict[int, Account]]:
    services = services_of(request)
    detail = services.review.detail(
        request.path_params["change_id"], LoadOptions(all_revisions=True), request_caller(request)
    )
    patch_set = None
    if per_revision:
        patch_set = services.review.patch_set(detail, path_param(request, "revision")).number
    found = services.comments.of_change(detail.change.number, patch_set)
    commits = {ps.number: ps.commit.sha for ps in detail.patch_sets}
    return found.comments, commits, found.accounts


def list_change_comments(request: Request) -> Response:
    comments, commits, accounts = _comments(request, per_revision=False)
    return gerrit_json(comments_by_path(comments, commits=commits, accounts=accounts))


def list_revision_comments(request: Request) -> Response:
    comments, commits, accounts = _comments(request, per_revision=True)
    return gerrit_json(comments_by_path(comments, commits=commits, accounts=accounts))


def get_comment(request: Request) -> Response:
    comments, commits, accounts = _comments(request, per_revision=True)
    wanted = path_param(request, "comment_id")
    for comment in comments:
        if comment.id == wanted:
            return gerrit_json(
                comment_info(comment, commits=commits, accounts=accounts, with_path=True)
            )
    raise NotFound(f"Not found: comment {wanted} on revision {path_param(request, 'revision')}")


_CHANGE = "/changes/{change_id}"
_REVISION = _CHANGE + "/revisions/{revision}"

routes: list[BaseRoute] = [
    Route(_REVISION + "/review", with_body(post_review), methods=["POST"]),
    Route(_CHANGE + "/comments", list_change_comments, methods=["GET"]),
    Route(_CHANGE + "/comments/", list_change_comments, methods=["GET"]),
    Route(_REVISION + "/comments", list_revision_comments, methods=["GET"]),
    Route(_REVISION + "/comments/", list_revision_comments, methods=["GET"]),
    Route(_REVISION + "/comments/{comment_id}", get_comment, methods=["GET"]),
]

"""Gerrit REST: the change read API.

`GET /changes/?q=` (several `q=` give a list of lists), `GET /changes/{id}`,
`/detail`, `/messages`, and per revision `/commit`, `/files` and `/related`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.core.review.model import ChangeDetail, PatchSet
from lockgate.services.change_views import load_views, parent_subjects, revision_files
from lockgate.services.errors import NotFound
from lockgate.services.review import LoadOptions, ReviewService
from lockgate.web.auth import request_account, request_caller, services_of
from lockgate.web.gerrit.change_info import (
    DETAIL_OPTIONS,
    ChangeOptions,
    ChangeRenderer,
    commit_info,
    files_info,
    parse_options,
    related_info,
)
from lockgate.web.gerrit.params import int_param, limit_param, path_param, start_param, text_param
from lockgate.web.gerrit.responses import gerrit_json

# Without q=, Gerrit lists the open changes.
_DEFAULT_QUERY = "status:open"


def _review(request: Request) -> ReviewService:
    return services_of(request).review


def _options(request: Request) -> ChangeOptions:
    return parse_options(request.query_params.getlist("o"))


def render_changes(
    request: Request, numbers: list[int], options: ChangeOptions
) -> list[dict[str, Any]]:
    """ChangeInfo of each change in `numbers`, as the request's caller sees it."""
    services = services_of(request)
    views = load_views(
        services.review,
        numbers,
        options.load_options(),
        commits_of=options.commits_of,
        labels=services.label_views,
        comments=services.comments,
        viewer=request_account(request),
    )
    renderer = ChangeRenderer.for_views(
        views, public_url=services.review.public_url, options=options
    )
    return [renderer.change(detail) for detail in views.details]


def query_changes(request: Request) -> Response:
    viewer = request_account(request)
    options = _options(request)
    queries = request.query_params.getlist("q") or [_DEFAULT_QUERY]
    limit = limit_param(request)
    start = start_param(request)
    review = _review(request)
    results: list[list[dict[str, Any]]] = []
    for text in queries:
        page = review.query(text, limit=limit, start=start, viewer=viewer)
        infos = render_changes(request, page.numbers, options)
        if page.more and infos:
            infos[-1]["_more_changes"] = True
        results.append(infos)
    return gerrit_json(results[0] if len(results) == 1 else results)


def _change(request: Request, options: ChangeOptions) -> Response:
    review = _review(request)
    change = review.resolve(request.path_params["change_id"], request_caller(request))
    [info] = render_changes(request, [change.number], options)
    return gerrit_json(info)


def get_change(request: Request) -> Response:
    return _change(request, _options(request))


def get_detail(request: Request) -> Response:
    return _change(request, _options(request).with_names(DETAIL_OPTIONS))


def _detail_and_revision(request: Request, *, files: bool = False) -> tuple[ChangeDetail, PatchSet]:
    review = _review(request)
    detail = review.detail(
        request.path_params["change_id"],
        LoadOptions(all_revisions=True, files=files),
        request_caller(request),
    )
    return detail, review.patch_set(detail, path_param(request, "revision"))


def get_messages(request: Request) -> Response:
    review = _review(request)
    detail = review.detail(
        request.path_params["change_id"], LoadOptions(messages=True), request_caller(request)
    )
    renderer = ChangeRenderer(
        public_url=review.public_url, options=ChangeOptions(frozenset({"DETAILED_ACCOUNTS"}))
    )
    return gerrit_json([renderer.message(detail, m) for m in detail.messages])


def get_message(request: Request) -> Response:
    review = _review(request)
    detail = review.detail(
        request.path_params["change_id"], LoadOptions(messages=True), request_caller(request)
    )
    wanted = path_param(request, "message_id")
    renderer = ChangeRenderer(
        public_url=review.public_url, options=ChangeOptions(frozenset({"DETAILED_ACCOUNTS"}))
    )
    for message in detail.messages:
        if message.id == wanted:
            return gerrit_json(renderer.message(detail, message))
    raise NotFound(f"Not found: message {wanted} of change {detail.change.number}")


def get_commit(request: Request) -> Response:
    detail, ps = _detail_and_revision(request)
    subjects = parent_subjects(_review(request), detail.change.project, ps)
    return gerrit_json(commit_info(ps.commit, subjects, with_sha=True))


def get_files(request: Request) -> Response:
    detail, ps = _detail_and_revision(request, files=True)
    review = _review(request)
    if "reviewed" in request.query_params:
        # Reviewed-file flags arrive with the review issue; nobody has marked any yet.
        return gerrit_json([])
    base_param = text_param(request, "base")
    base = review.patch_set(detail, base_param) if base_param else None
    parent = int_param(request, "parent", minimum=1)
    files = revision_files(review, detail, ps, base=base, parent=parent)
    needle = text_param(request, "q")
    if needle is not None:
        return gerrit_json([f.path for f in files if needle.lower() in f.path.lower()])
    return gerrit_json(files_info(files))


def get_related(request: Request) -> Response:
    detail, ps = _detail_and_revision(request)
    return gerrit_json(related_info(_review(request).related(detail, ps)))


_CHANGE = "/changes/{change_id}"
_REVISION = _CHANGE + "/revisions/{revision}"

routes: list[BaseRoute] = [
    Route("/changes/", query_changes, methods=["GET"]),
    Route("/changes", query_changes, methods=["GET"]),
    Route(_CHANGE, get_change, methods=["GET"]),
    Route(_CHANGE + "/", get_change, methods=["GET"]),
    Route(_CHANGE + "/detail", get_detail, methods=["GET"]),
    Route(_CHANGE + "/messages", get_messages, methods=["GET"]),
    Route(_CHANGE + "/messages/", get_messages, methods=["GET"]),
    Route(_CHANGE + "/messages/{message_id}", get_message, methods=["GET"]),
    Route(_REVISION + "/commit", get_commit, methods=["GET"]),
    Route(_REVISION + "/files", get_files, methods=["GET"]),
    Route(_REVISION + "/files/", get_files, methods=["GET"]),
    Route(_REVISION + "/related", get_related, methods=["GET"]),
]

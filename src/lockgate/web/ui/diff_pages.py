"""The diff page and its comment forms.

`GET /c/<project>/+/<number>/<patch set>/<path>` shows a file of a patch set
against its parent, `?base=<ps>` or `/<base>..<ps>/` against another patch
set, as Gerrit's web UI names them. `POST` to the same address saves the
reader's drafts there: a new one on a line, a reply, Done or Ack, an edit, a
deletion; then the browser comes back to the thread (303).
"""

from __future__ import annotations

import urllib.parse

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lockgate.core.review.comments import CommentInput
from lockgate.core.review.comments import Side as CommentSide
from lockgate.core.review.diff_rows import Mode, Side
from lockgate.services.drafts import DraftListing, DraftUpdate
from lockgate.services.errors import BadRequest, NotFound, Unauthorized
from lockgate.web.auth import request_caller, services_of
from lockgate.web.ui.diff_view import Options, Target, build_page
from lockgate.web.ui.pages import checked_form, page, redirect, render, viewer

MODE_COOKIE = "lockgate_diff_mode"
_YEAR = 365 * 24 * 3600


def _number(raw: str, what: str) -> int:
    if not raw.isdigit() or len(raw) > 9:
        raise NotFound(f"Not found: {what} {raw!r} is not a number")
    return int(raw)


def target_of(request: Request) -> Target:
    """The page's address, read from the path as sent (still percent-encoded):
    the project ends at the first `/+/`, the file is all after the revision."""
    raw = str(request.scope["path"])
    project, found, rest = raw.removeprefix("/c/").partition("/+/")
    number, _, rest = rest.partition("/")
    revision, _, path = rest.partition("/")
    if not found or not path:
        raise NotFound("Not found: a diff is at /c/<project>/+/<number>/<patch set>/<file>")
    base_text, dots, patch_text = urllib.parse.unquote(revision).rpartition("..")
    base = _number(base_text, "patch set") if dots else None
    query_base = request.query_params.get("base")
    if base is None and query_base:
        base = _number(query_base, "base patch set")
    return Target(
        project=urllib.parse.unquote(project),
        number=_number(number, "change"),
        patch_set=_number(patch_text, "patch set"),
        base=base,
        path=urllib.parse.unquote(path),
    )


def _mode(request: Request) -> Mode:
    for raw in (request.query_params.get("mode"), request.cookies.get(MODE_COOKIE)):
        if raw in (Mode.SIDE_BY_SIDE.value, Mode.UNIFIED.value):
            return Mode(raw)
    return Mode.SIDE_BY_SIDE


def _comment_at(raw: str | None) -> tuple[Side, int] | None:
    if not raw:
        return None
    side, _, line = raw.partition(":")
    if side not in ("a", "b") or not line.isdigit():
        raise BadRequest(
            f"comment={raw} is not a place in the diff: give a side and a line, e.g. comment=b:12"
        )
    return Side(side), int(line)


def _back(request: Request, target: Target, anchor: str = "") -> str:
    """The page without its open form, keeping how it is shown."""
    query = request.query_params
    url = target.url(context=query.get("context"), mode=query.get("mode"))
    return url + (f"#{anchor}" if anchor else "")


@page
async def diff_page(request: Request) -> Response:
    target = target_of(request)
    query = request.query_params
    if "to" in query:
        # The patch set chooser's answer: the page of the chosen pair.
        chosen_base = query.get("from") or None
        chosen = Target(
            target.project,
            target.number,
            _number(query["to"], "patch set"),
            _number(chosen_base, "base patch set") if chosen_base else None,
            target.path,
        )
        if chosen.base is not None and chosen.base >= chosen.patch_set:
            chosen = Target(chosen.project, chosen.number, chosen.patch_set, None, chosen.path)
        return redirect(chosen.url(mode=query.get("mode"), context=query.get("context")))
    if "base" in query:
        # One address per pair of sides (Gerrit's `<base>..<ps>`): the page's
        # relative links keep it.
        kept = {name: value for name, value in query.items() if name != "base"}
        return redirect(target.url(**kept))
    options = Options(
        mode=_mode(request),
        whole_file=query.get("context", "").lower() == "all",
        comment_at=_comment_at(query.get("comment")),
        reply_to=query.get("reply") or None,
        edit=query.get("edit") or None,
    )
    account = viewer(request)
    caller = request_caller(request)
    found = await run_in_threadpool(
        build_page, services_of(request), account, caller, target, options
    )
    response = render(
        request, "diff.html", page=found, Mode=Mode, Side=Side, back_url=_back(request, target)
    )
    if "mode" in query:
        response.set_cookie(
            MODE_COOKIE,
            options.mode.value,
            max_age=_YEAR,
            httponly=True,
            samesite="lax",
            path="/",
            secure=request.url.scheme == "https",
        )
    return response


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@page
async def save_draft(request: Request) -> Response:
    form = await checked_form(request)
    target = target_of(request)
    account = viewer(request)
    if account is None:
        raise Unauthorized("sign in to comment")
    drafts = services_of(request).drafts
    change_id = f"{target.project}~{target.number}"
    op = _field(form, "op")
    message = _field(form, "message")
    unresolved = _field(form, "resolved") != "1"

    def act() -> DraftListing | None:
        if op == "create":
            side = _field(form, "side") or CommentSide.REVISION.value
            if side not in (CommentSide.REVISION.value, CommentSide.PARENT.value):
                raise BadRequest(f"side {side!r} is not REVISION or PARENT")
            line = _field(form, "line")
            given = CommentInput(
                path=_field(form, "path"),
                message=message,
                side=CommentSide(side),
                line=int(line) if line.isdigit() and int(line) > 0 else None,
                unresolved=unresolved,
            )
            return drafts.create(change_id, _field(form, "patch_set"), account, given)
        if op in ("reply", "done", "ack"):
            text = {"done": "Done", "ack": "Ack"}.get(op, message)
            return drafts.reply(
                change_id,
                account,
                _field(form, "in_reply_to"),
                text,
                unresolved=unresolved if op == "reply" else False,
            )
        draft_id, patch_set = _field(form, "draft_id"), _field(form, "patch_set")
        if op == "update":
            return drafts.update(
                change_id,
                patch_set,
                draft_id,
                account,
                DraftUpdate(message=message, unresolved=unresolved),
            )
        if op == "delete":
            drafts.delete(change_id, patch_set, draft_id, account)
            return None
        raise BadRequest(f"unknown action {op!r}: create, reply, done, ack, update or delete")

    saved = await run_in_threadpool(act)
    thread = _field(form, "thread")
    anchor = f"c-{saved.drafts[0].id}" if saved is not None else (f"t-{thread}" if thread else "")
    return redirect(_back(request, target, anchor))


_DIFF = "/c/{project:path}/+/{number:int}/{revision}/{file:path}"

routes = [
    Route(_DIFF, diff_page, methods=["GET"]),
    Route(_DIFF, save_draft, methods=["POST"]),
]

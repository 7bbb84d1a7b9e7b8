"""The change page's forms: reply (a message and votes), submit, abandon,
restore, rebase, work in progress / ready, and adding or removing reviewers.

Each is a POST to `/c/<project>/+/<number>/<action>` that checks the form's
CSRF token first (a post without it is refused and changes nothing), then
asks the same service as the REST endpoint it stands for, as the signed-in
viewer: the service decides who may (403), what the change's state allows
(409) and what input is valid (400). Done, the browser goes back to the
change (303); refused, the change page answers with the refusal on it and
the refusal's status.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Sequence

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.core.review.model import Account, Change
from lockgate.core.review.review_input import Drafts, ReviewRequest
from lockgate.services.errors import BadRequest, NotFound, ServiceError, Unauthorized
from lockgate.web.auth import request_caller, require_account, services_of
from lockgate.web.ui.change_page import change_number, change_url, load, render_change
from lockgate.web.ui.pages import checked_form, page, redirect

LABEL_FIELD = "label-"

# What an action does, given the change, the form and the acting account; it
# raises a ServiceError to refuse.
Action = Callable[[Request, Change, FormData, Account], None]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _message(form: FormData) -> str | None:
    return _text(form, "message").strip() or None


def reply_request(form: FormData) -> ReviewRequest:
    """The review a reply form asks for: its message and a vote per `label-<Name>` field."""
    labels: dict[str, int] = {}
    for name, value in form.multi_items():
        if not name.startswith(LABEL_FIELD) or not isinstance(value, str):
            continue
        label = name[len(LABEL_FIELD) :]
        try:
            labels[label] = int(value.strip().lstrip("+"))
        except ValueError:
            raise BadRequest(f"the vote {value!r} on {label} is not a number") from None
    return ReviewRequest(
        message=_text(form, "message"),
        labels=labels,
        # Gerrit's reply publishes the replier's drafts with it.
        drafts=Drafts.PUBLISH_ALL_REVISIONS,
    )


def _reply(request: Request, change: Change, form: FormData, actor: Account) -> None:
    revision = _text(form, "patch_set") or "current"
    services_of(request).reviews.post(str(change.number), revision, actor, reply_request(form))


def _submit(request: Request, change: Change, form: FormData, actor: Account) -> None:
    services_of(request).submit.submit(change, actor)


def _abandon(request: Request, change: Change, form: FormData, actor: Account) -> None:
    services_of(request).edits.abandon(str(change.number), actor, _message(form))


def _restore(request: Request, change: Change, form: FormData, actor: Account) -> None:
    services_of(request).edits.restore(str(change.number), actor, _message(form))


def _rebase(request: Request, change: Change, form: FormData, actor: Account) -> None:
    services_of(request).rebase.rebase(change, actor, base=None)


def _wip(request: Request, change: Change, form: FormData, actor: Account) -> None:
    edits = services_of(request).edits
    edits.set_work_in_progress(str(change.number), actor, True, _message(form))


def _ready(request: Request, change: Change, form: FormData, actor: Account) -> None:
    edits = services_of(request).edits
    edits.set_work_in_progress(str(change.number), actor, False, _message(form))


def _add_reviewer(request: Request, change: Change, form: FormData, actor: Account) -> None:
    state = "CC" if _text(form, "state").upper() == "CC" else None
    result = services_of(request).reviewers.add(
        str(change.number),
        actor,
        _text(form, "reviewer").strip(),
        state=state,
        confirmed=_text(form, "confirmed") == "true",
    )
    if result.error is not None:
        raise BadRequest(result.error)


def _remove_reviewer(request: Request, change: Change, form: FormData, actor: Account) -> None:
    account = _text(form, "account").strip()
    services_of(request).reviewers.remove(str(change.number), actor, account)


def _act(request: Request, form: FormData, action: Action) -> Response:
    project = urllib.parse.unquote(request.path_params["project"])
    number = change_number(request.path_params["number"])
    actor = require_account(request)
    change = services_of(request).review.resolve(str(number), request_caller(request))
    if change.project != project:
        raise NotFound(f"Not found: change {number} of {project}")
    try:
        action(request, change, form, actor)
    except Unauthorized:
        raise
    except ServiceError as refused:
        shown = _text(form, "patch_set")
        again = load(request, number, shown if shown.isdigit() else None)
        return render_change(
            request,
            again,
            status=refused.status,
            refusal=str(refused),
            reply_message=_text(form, "message") if action is _reply else "",
        )
    return redirect(change_url(change.project, number))


def _endpoint(action: Action) -> Callable[[Request], object]:
    @page
    async def endpoint(request: Request) -> Response:
        # The token first: a post without it is refused before anything is read.
        form = await checked_form(request)
        return await run_in_threadpool(_act, request, form, action)

    endpoint.__name__ = action.__name__.lstrip("_")
    return endpoint


_CHANGE = "/c/{project:path}/+/{number}"
ACTIONS: dict[str, Action] = {
    "reply": _reply,
    "submit": _submit,
    "abandon": _abandon,
    "restore": _restore,
    "rebase": _rebase,
    "wip": _wip,
    "ready": _ready,
    "add-reviewer": _add_reviewer,
    "remove-reviewer": _remove_reviewer,
}

routes: Sequence[BaseRoute] = [
    Route(f"{_CHANGE}/{name}", _endpoint(action), methods=["POST"])
    for name, action in ACTIONS.items()
]

"""The change page: `/c/<project>/+/<number>[/<patch set>]`, as Gerrit's.

It shows the change as `services/change_page.py` loads it: the commit message
with linked footers, owner, reviewers and the facts of the change, the
relation chain, votes with who cast them, why it is or is not submittable,
the CI results table built from the CI systems' reports, the message history
(with a "Toggle CI" switch that hides CI messages), the patch sets and their
files, the reply form and the buttons for what the viewer may do; and, for
each queue holding the change, its place there. The forms post to
`change_actions.py`.

`/c/<number>` and `/<number>` go to the change's own address.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.core.review.comments import PATCHSET_LEVEL, Comment
from lockgate.core.review.labels import LabelType
from lockgate.core.review.model import Account, ChangeMessage, ChangeStatus, FileChange
from lockgate.core.review.refs import change_ref
from lockgate.services.change_page import ChangePage, load_change_page
from lockgate.services.errors import NotFound
from lockgate.services.push_records import NEW_PATCH_SET_TAG
from lockgate.web.auth import request_caller, services_of
from lockgate.web.ui.change_text import commit_message, linkify
from lockgate.web.ui.pages import page, redirect, render


@functools.lru_cache(maxsize=4096)
def _quoted(path: str) -> str:
    # A page links each file several times (file list, comments): quote once.
    return urllib.parse.quote(path, safe="/")


def change_url(project: str, number: int, patch_set: int | None = None) -> str:
    """The change page's address; a project `a/b` keeps its slash, as in Gerrit."""
    url = f"/c/{_quoted(project)}/+/{number}"
    return f"{url}/{patch_set}" if patch_set is not None else url


def file_url(project: str, number: int, patch_set: int, path: str) -> str:
    """The diff page of one file of a patch set."""
    return f"/c/{_quoted(project)}/+/{number}/{patch_set}/{_quoted(path)}"


def link_ok(url: str) -> bool:
    """Whether an address someone wrote may become a link: http(s) only."""
    return url.lower().startswith(("http://", "https://"))


def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


_FILE_STATUS = {
    "A": "added",
    "M": "modified",
    "D": "deleted",
    "R": "renamed",
    "C": "copied",
    "W": "rewritten",
}
_SUBMIT_TYPES = {
    "MERGE_IF_NECESSARY": "Merge if necessary",
    "FAST_FORWARD_ONLY": "Fast forward only",
    "REBASE_IF_NECESSARY": "Rebase if necessary",
    "REBASE_ALWAYS": "Rebase always",
    "MERGE_ALWAYS": "Merge always",
    "CHERRY_PICK": "Cherry pick",
}


def state_of(change_page: ChangePage) -> tuple[str, str]:
    """(words, css class) of where the change stands, as Gerrit's change line says it."""
    change = change_page.change
    if change.status is ChangeStatus.MERGED:
        return "Merged", "merged"
    if change.status is ChangeStatus.ABANDONED:
        return "Abandoned", "abandoned"
    if change.work_in_progress:
        return "Work in progress", "wip"
    unmet = [r.label.name for r in change_page.labels.record.unmet]
    if not unmet:
        return "Ready to submit", "ready"
    return "Needs " + ", ".join(unmet), "needs"


def change_number(raw: object) -> int:
    text = urllib.parse.unquote(str(raw))
    if not text.isdigit():
        raise NotFound(f"Not found: change {text!r}; a change is named by its number")
    return int(text)


@dataclass(frozen=True, slots=True)
class FileRow:
    file: FileChange
    url: str
    comments: int


@dataclass(frozen=True, slots=True)
class MessageView:
    message: ChangeMessage
    author: Account | None
    ci: bool
    text: Markup
    comments: list[tuple[str, list[Comment]]]  # by file, in Gerrit's order


@dataclass(frozen=True, slots=True)
class LabelChoice:
    label: LabelType
    values: list[tuple[int, str]]  # (value, what it means), lowest first
    current: int


def _messages(change_page: ChangePage) -> list[MessageView]:
    views = []
    for message in change_page.detail.messages:
        grouped: dict[str, list[Comment]] = {}
        for comment in change_page.comments_of(message):
            grouped.setdefault(comment.path, []).append(comment)
        author = (
            change_page.accounts.get(message.author_id) if message.author_id is not None else None
        )
        views.append(
            MessageView(
                message=message,
                author=author,
                ci=change_page.is_ci(message),
                text=linkify(message.message),
                comments=list(grouped.items()),
            )
        )
    return views


def _choices(change_page: ChangePage) -> list[LabelChoice]:
    """The labels the viewer may vote on, each with the values in their range."""
    change = change_page.change
    if (
        change_page.viewer is None
        or not change.is_open
        or change_page.patch_set.number != change.current_patch_set
    ):
        return []
    mine = change_page.viewer_votes()
    choices = []
    for label in change_page.labels.labels:
        allowed = change_page.labels.permitted.get(label.name)
        if allowed is None:
            continue
        low, high = allowed
        values = [(v, label.values[v]) for v in sorted(label.values) if low <= v <= high]
        if len(values) > 1:
            choices.append(LabelChoice(label, values, mine.get(label.name, 0)))
    return choices


def _files(change_page: ChangePage) -> list[FileRow]:
    change = change_page.change
    counts = change_page.file_comment_counts()
    ps = change_page.patch_set.number
    return [
        FileRow(f, file_url(change.project, change.number, ps, f.path), counts.get(f.path, 0))
        for f in sorted(change_page.patch_set.files, key=lambda f: f.path)
    ]


def render_change(
    request: Request,
    change_page: ChangePage,
    *,
    status: int = 200,
    refusal: str | None = None,
    reply_message: str = "",
) -> Response:
    """The change page; with `refusal`, what the server refused of the form just posted."""
    services = services_of(request)
    change = change_page.change
    ps = change_page.patch_set
    summary = change_page.labels
    actions = set(summary.change_actions) | set(summary.revision_actions)
    ci_hidden = request.query_params.get("ci") == "hide"
    state_text, state_css = state_of(change_page)
    is_current = ps.number == change.current_patch_set
    # The page's own address, also when it answers a form posted elsewhere.
    toggle_base = change_url(change.project, change.number, None if is_current else ps.number)
    messages = _messages(change_page)

    def file_link(patch_set: int, path: str) -> str:
        return file_url(change.project, change.number, patch_set, path)

    context: dict[str, Any] = {
        "cp": change_page,
        "change": change,
        "ps": ps,
        "url": change_url(change.project, change.number),
        "ps_url": change_url(change.project, change.number, ps.number),
        "commit_message": commit_message(ps.commit.message, bug_url=services.settings.web.bug_url),
        "fetch_url": f"{services.public_url}{change.project}",
        "fetch_ref": change_ref(change.number, ps.number),
        "files": _files(change_page),
        "messages": messages,
        "ci_count": sum(1 for m in messages if m.ci),
        "ci_toggle_base": toggle_base,
        "ci_toggle_href": f"{toggle_base}?ci={'show' if ci_hidden else 'hide'}#history",
        "state_text": state_text,
        "state_css": state_css,
        "submit_type_text": _SUBMIT_TYPES.get(
            change_page.submit_type.value, change_page.submit_type.value
        ),
        "file_status": _FILE_STATUS,
        "filesize": filesize,
        "link_ok": link_ok,
        "file_link": file_link,
        "patchset_level": PATCHSET_LEVEL,
        "ci_results": change_page.ci_results(),
        "ci_hidden": ci_hidden,
        "label_votes": change_page.label_votes(),
        "blockers": change_page.submit_blockers(),
        "choices": _choices(change_page),
        "drafts": change_page.drafts,
        "actions": actions,
        "removable": set(summary.removable),
        "is_current": is_current,
        "refusal": refusal,
        "reply_message": reply_message,
        "change_url": change_url,
        "upload_tag": NEW_PATCH_SET_TAG,
    }
    return render(request, "change.html", status=status, **context)


def load(request: Request, number: int, patch_set: str | None = None) -> ChangePage:
    return load_change_page(services_of(request), str(number), patch_set, request_caller(request))


def _show(request: Request) -> Response:
    project = urllib.parse.unquote(request.path_params["project"])
    number = change_number(request.path_params["number"])
    raw_ps = request.path_params.get("patchset")
    patch_set = urllib.parse.unquote(raw_ps) if raw_ps is not None else None
    if patch_set is not None and not patch_set.isdigit():
        raise NotFound(f"Not found: patch set {patch_set!r} of change {number}")
    change_page = load(request, number, patch_set)
    change = change_page.change
    if change.project != project:
        # Gerrit sends a change named under the wrong project to its own address.
        shown = int(patch_set) if patch_set is not None else None
        target = change_url(change.project, number, shown)
        return redirect(target + (f"?{request.url.query}" if request.url.query else ""))
    return render_change(request, change_page)


@page
async def show(request: Request) -> Response:
    return await run_in_threadpool(_show, request)


def _canonical(request: Request) -> Response:
    number = change_number(request.path_params["number"])
    change = services_of(request).review.resolve(str(number), request_caller(request))
    return redirect(change_url(change.project, number))


@page
async def by_number(request: Request) -> Response:
    """`/c/<number>` and `/<number>`: the change's own address."""
    return await run_in_threadpool(_canonical, request)


_CHANGE = "/c/{project:path}/+/{number}"

routes: Sequence[BaseRoute] = [
    Route(_CHANGE, show, methods=["GET"]),
    Route(_CHANGE + "/{patchset}", show, methods=["GET"]),
    Route("/c/{number:int}", by_number, methods=["GET"]),
    Route("/c/{number:int}/", by_number, methods=["GET"]),
    # A change's number alone, as Gerrit answers it. Git's paths all end in
    # /info/refs, /git-upload-pack or /git-receive-pack, so a project named
    # by digits is still cloned at /<digits>.
    Route("/{number:int}", by_number, methods=["GET"]),
]

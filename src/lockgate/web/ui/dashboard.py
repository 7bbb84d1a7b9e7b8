"""Search and dashboards: `/q/<query>` and `/dashboard/self`, Gerrit's shapes.

Both run the search language through ReviewService.query, the service behind
`GET /changes/?q=`, for the viewer: private changes and changes of projects the
viewer may not read are never found, so never shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lockgate.core.query.ast import split_limit
from lockgate.core.query.errors import QueryError
from lockgate.core.query.parser import parse_query
from lockgate.core.review.model import Account
from lockgate.services.errors import BadRequest, Unauthorized
from lockgate.web.auth import services_of
from lockgate.web.ui.change_table import COLUMNS, ChangeRow, change_rows
from lockgate.web.ui.links import query_of, query_url
from lockgate.web.ui.pages import page, redirect, render, viewer

# Gerrit's change list pages by 25.
PAGE_SIZE = 25
RECENTLY_CLOSED = 10
DEFAULT_QUERY = "status:open"


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    query: str  # what the section's heading links to
    rows: list[ChangeRow]
    more: bool


def start_of(request: Request) -> int:
    raw = request.query_params.get("start", "0")
    if not raw.isdigit():
        raise BadRequest(f"start must be 0 or a positive number of changes, not {raw!r}")
    return int(raw)


# --- search ---------------------------------------------------------------------


def page_size(text: str) -> int:
    """The changes a page of `text` holds: 25, or fewer when it says `limit:`."""
    _, limit = split_limit(parse_query(text))
    return PAGE_SIZE if limit is None else min(PAGE_SIZE, limit)


@page
async def search_box(request: Request) -> Response:
    """`/q?q=...`: the search box's form, sent on to `/q/<query>`."""
    text = request.query_params.get("q", "").strip()
    return redirect(query_url(text or DEFAULT_QUERY))


@page
async def search(request: Request) -> Response:
    return await run_in_threadpool(_search, request)


def _search(request: Request) -> Response:
    text = query_of(request.path_params["query"]).strip()
    if not text:
        return redirect(query_url(DEFAULT_QUERY))
    start = start_of(request)
    services = services_of(request)
    try:
        size = page_size(text)
        found = services.review.query(text, limit=PAGE_SIZE, start=start, viewer=viewer(request))
    except (QueryError, BadRequest) as error:
        return render(
            request,
            "search.html",
            status=400,
            query=text,
            error=str(error),
            rows=[],
            columns=COLUMNS,
            start=start,
            size=PAGE_SIZE,
            more=False,
            base=query_url(text),
        )
    return render(
        request,
        "search.html",
        query=text,
        error=None,
        rows=change_rows(services, found.numbers),
        columns=COLUMNS,
        start=start,
        size=size,
        more=found.more,
        base=query_url(text),
    )


# --- dashboards ---------------------------------------------------------------


def sections_for(who: str, *, own: bool) -> list[tuple[str, str, int]]:
    """Gerrit's default dashboard for the account `who` names: (title, query,
    how many rows). Work in progress is on one's own dashboard only."""
    sections = [
        ("Outgoing reviews", f"is:open owner:{who} -is:wip", PAGE_SIZE),
        ("Incoming reviews", f"is:open reviewer:{who} -owner:{who} -is:wip", PAGE_SIZE),
        ("Recently closed", f"is:closed (owner:{who} OR reviewer:{who})", RECENTLY_CLOSED),
    ]
    if own:
        sections.insert(0, ("Work in progress", f"is:open owner:{who} is:wip", PAGE_SIZE))
    return sections


@page
async def own_dashboard(request: Request) -> Response:
    account = viewer(request)
    if account is None:
        raise Unauthorized("sign in to see your dashboard")
    return await run_in_threadpool(_dashboard, request, account, "self", True)


@page
async def user_dashboard(request: Request) -> Response:
    ref = query_of(request.path_params["who"])
    if ref == "self":
        return await own_dashboard(request)
    account = await run_in_threadpool(services_of(request).accounts.get, ref)
    me = viewer(request)
    if me is not None and me.id == account.id:
        return redirect("/dashboard/self")
    # By id, as Gerrit's dashboards do: a username can also be someone's full name.
    return await run_in_threadpool(_dashboard, request, account, str(account.id), False)


def _dashboard(request: Request, account: Account, who: str, own: bool) -> Response:
    services = services_of(request)
    looking = viewer(request)
    wanted = sections_for(who, own=own)
    pages = services.review.query_many([(q, size) for _, q, size in wanted], viewer=looking)
    found = [(title, query, page) for (title, query, _), page in zip(wanted, pages, strict=True)]
    # One read of rows for every section: a change can be in only one of them.
    numbers = [n for _, _, result in found for n in result.numbers]
    rows = {row.change.number: row for row in change_rows(services, numbers)}
    sections = [
        Section(title, query, [rows[n] for n in result.numbers if n in rows], result.more)
        for title, query, result in found
    ]
    return render(
        request,
        "dashboard.html",
        account=account,
        own=own,
        sections=sections,
        columns=COLUMNS,
    )


routes = [
    Route("/q", search_box, methods=["GET"]),
    Route("/q/", search_box, methods=["GET"]),
    Route("/q/{query:path}", search, methods=["GET"]),
    Route("/dashboard/self", own_dashboard, methods=["GET"]),
    Route("/dashboard/{who}", user_dashboard, methods=["GET"]),
]

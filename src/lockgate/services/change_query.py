"""Change search: parse Gerrit's query language and run it on the database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lockgate.adapters.db.change_search import search_changes
from lockgate.adapters.db.engine import read_transaction
from lockgate.core.query.ast import Query, split_limit
from lockgate.core.query.labels import LabelScopes, label_names, label_scopes
from lockgate.core.query.parser import parse_query
from lockgate.core.review.model import Account
from lockgate.services.errors import BadRequest

if TYPE_CHECKING:
    from lockgate.services.review import QueryPage, ReviewService

# Gerrit's default page, and the most one page may hold (Gerrit's default
# queryLimit capability): `n=` and `limit:` can only lower it.
DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 500


def query_changes(
    review: ReviewService, text: str, *, limit: int | None, start: int, viewer: Account | None
) -> QueryPage:
    """One page of the changes matching `text`, most recently updated first.

    The page holds the smallest of `limit` (the caller's `n=`), the query's
    `limit:` and MAX_PAGE_SIZE; `start` skips that many results. A malformed
    query raises QueryError naming the token and its position.
    """
    [page] = query_many(review, [(text, limit)], start=start, viewer=viewer)
    return page


def query_many(
    review: ReviewService,
    queries: Sequence[tuple[str, int | None]],
    *,
    start: int = 0,
    viewer: Account | None,
) -> list[QueryPage]:
    """A page of each (query, limit), as `query_changes` gives it, for one viewer:
    what the viewer may see is worked out once, and every query runs in one read
    (a dashboard's sections)."""
    from lockgate.services.review import QueryPage

    if start < 0:
        raise BadRequest(f"start must be 0 or more, not {start}")
    parsed = []
    for text, limit in queries:
        if limit is not None and limit < 1:
            raise BadRequest(f"the page size must be a positive number of changes, not {limit}")
        query, query_limit = split_limit(parse_query(text))
        page_size = min(DEFAULT_PAGE_SIZE if limit is None else limit, MAX_PAGE_SIZE)
        if query_limit is not None:
            page_size = min(page_size, query_limit)
        parsed.append((query, page_size, _label_scopes(review, query)))
    caller = review.permissions.caller(viewer)
    # The rule of Permissions.can_see_change, put as SQL: the projects the
    # viewer may not read are few; administrators see every private change.
    unreadable = [
        p.name for p in review.projects.all() if not review.permissions.can_read(caller, p)
    ]
    pages = []
    with read_transaction(review.engine) as conn:
        now = review.clock()
        for query, page_size, labels in parsed:
            page = search_changes(
                conn,
                query,
                viewer_id=viewer.id if viewer is not None else None,
                now=now,
                labels=labels,
                limit=page_size,
                start=start,
                sees_private=caller.admin,
                unreadable=unreadable,
            )
            pages.append(QueryPage(page.numbers, page.more))
    return pages


def _label_scopes(review: ReviewService, query: Query | None) -> LabelScopes:
    """How each project defines the labels the query names, for MAX, MIN and the
    canonical name votes are stored under; nothing to look up without `label:`."""
    names = label_names(query)
    if not names:
        return {}
    per_project = {p.name: review.labels.for_project(p.name) for p in review.projects.all()}
    return label_scopes(names, per_project)

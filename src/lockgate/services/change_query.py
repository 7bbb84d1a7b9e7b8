"""Change search: parse Gerrit's query language and run it on the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lockgate.core.review.model import Account

if TYPE_CHECKING:
    from lockgate.services.review import QueryPage, ReviewService


def query_changes(
    review: ReviewService, text: str, *, limit: int | None, start: int, viewer: Account | None
) -> QueryPage:
    raise NotImplementedError("change search is being built")

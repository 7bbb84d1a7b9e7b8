"""Errors of the change search language."""

from __future__ import annotations


class QueryError(ValueError):
    """A query that cannot be run; the message names the offending token and position.

    `position` counts characters from 1, as a person reading the query would;
    it is None for problems of the query as a whole (an empty query).
    """

    def __init__(self, message: str, *, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


def at(offset: int) -> str:
    """`at position N` for a 0-based offset into the query text."""
    return f"at position {offset + 1}"

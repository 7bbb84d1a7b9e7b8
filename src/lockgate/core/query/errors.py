"""Errors of the change search language."""

from __future__ import annotations


class QueryError(ValueError):
    """A query that cannot be run; the message names the offending token and position."""

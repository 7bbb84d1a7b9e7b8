"""Gerrit REST: reviews (votes, messages and inline comments) and reading comments back."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []

"""Gerrit REST: file diffs and contents of a revision."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []

"""The internal endpoint that git hooks of the hosted repositories call back to."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []

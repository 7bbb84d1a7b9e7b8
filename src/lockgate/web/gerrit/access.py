"""Gerrit REST: project access (`/projects/{p}/access`) and label definitions."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []

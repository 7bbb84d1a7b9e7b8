"""Gerrit REST: changing a change: abandon, restore, topic, hashtags, WIP, private, reviewers."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []

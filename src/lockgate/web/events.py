"""The event stream: server-sent events at `/events` (under `/a/`), and the
webhooks' delivery log for administrators."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []

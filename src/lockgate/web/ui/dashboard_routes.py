"""The pages of search, dashboards, projects and administration, as one list
for routes.py."""

from __future__ import annotations

from starlette.routing import BaseRoute

from lockgate.web.ui import admin_pages, dashboard, project_pages

routes: list[BaseRoute] = [*dashboard.routes, *project_pages.routes, *admin_pages.routes]

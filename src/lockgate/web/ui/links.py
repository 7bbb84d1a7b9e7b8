"""The addresses of pages, in the shapes Gerrit's web UI uses, so that a link
copied from one (or typed from habit) works here.

- `/c/<project>/+/<number>`: a change, the project's slashes kept as they are
  in the links a push prints;
- `/q/<query>`: a search, spaces written `+` and a literal `+` as `%2B`, as
  Gerrit writes `/q/status:open+label:Code-Review%2B2`;
- `/admin/repos/<project>` and `/admin/repos/<project>,access`.

They are Jinja filters too (`{{ change|change_url }}` needs project and
number, so it takes the change), registered on the shared environment.
"""

from __future__ import annotations

import urllib.parse

from lockgate.core.review.model import Change
from lockgate.web.ui.pages import templates

ACCESS_SUFFIX = ",access"


def change_url(project: str, number: int) -> str:
    return f"/c/{urllib.parse.quote(project, safe='/')}/+/{number}"


def query_url(query: str) -> str:
    return "/q/" + urllib.parse.quote_plus(query, safe=":/")


def query_of(path_value: str) -> str:
    """The query a `/q/<query>` path names (its `+` are spaces)."""
    return urllib.parse.unquote_plus(path_value)


def project_url(name: str) -> str:
    return "/admin/repos/" + urllib.parse.quote(name, safe="/")


def access_url(name: str) -> str:
    return project_url(name) + ACCESS_SUFFIX


def project_of(path_value: str) -> tuple[str, str | None]:
    """(project, view) from what follows `/admin/repos/`: `team/app` or
    `team%2Fapp` is the project page, `team/app,access` its access page."""
    name = urllib.parse.unquote(path_value).strip("/")
    base, comma, view = name.rpartition(",")
    if comma and view in ("access", "branches", "dashboards", "tags", "commands"):
        return base, view
    return name, None


def _change_link(change: Change) -> str:
    return change_url(change.project, change.number)


templates.filters["change_url"] = _change_link
templates.filters["query_url"] = query_url
templates.filters["project_url"] = project_url
templates.filters["access_url"] = access_url

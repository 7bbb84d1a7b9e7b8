"""Projects: the list (`/admin/repos`) and a project's page
(`/admin/repos/<project>`), with its branches, how to clone it and set up
git-review, and its open changes. `/admin/repos/<project>,access` is the
access page (access_pages.py).

Only projects the viewer may read are listed or shown; any other answers 404,
as one that does not exist.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lockgate.core.review.model import Project
from lockgate.core.review.refs import HEADS
from lockgate.services.errors import NotFound
from lockgate.services.project_listing import ProjectFilter, list_projects, readable_project
from lockgate.web.auth import services_of
from lockgate.web.ui import access_pages
from lockgate.web.ui.change_table import COLUMNS, change_rows
from lockgate.web.ui.dashboard import PAGE_SIZE, start_of
from lockgate.web.ui.links import project_of, project_url
from lockgate.web.ui.pages import CSRF_FIELD, checked_form, page, redirect, render, viewer


@dataclass(frozen=True, slots=True)
class BranchHead:
    name: str  # short, without refs/heads/
    revision: str


def gitreview(public_url: str, project: str, default_branch: str) -> str:
    """The `.gitreview` that makes `git review -s` set up a clone for this site."""
    url = urllib.parse.urlsplit(public_url)
    lines = ["[gerrit]", f"host={url.hostname}"]
    if url.port is not None:
        lines.append(f"port={url.port}")
    lines += [f"scheme={url.scheme}", f"project={project}.git"]
    if default_branch != "master":
        lines.append(f"defaultbranch={default_branch}")
    return "\n".join(lines) + "\n"


@page
async def project_list(request: Request) -> Response:
    return await run_in_threadpool(_project_list, request)


def _project_list(request: Request) -> Response:
    services = services_of(request)
    wanted = request.query_params.get("filter", "").strip()
    start = start_of(request)
    found = list_projects(
        services.projects,
        services.accounts,
        services.permissions,
        viewer(request),
        ProjectFilter(substring=wanted or None),
    )
    shown = found[start : start + PAGE_SIZE]
    base = "/admin/repos" + (f"?filter={urllib.parse.quote_plus(wanted)}" if wanted else "")
    return render(
        request,
        "projects.html",
        projects=shown,
        filter=wanted,
        start=start,
        more=len(found) > start + PAGE_SIZE,
        total=len(found),
        base=base,
    )


def _project(request: Request) -> tuple[Project, str | None]:
    name, view = project_of(request.path_params["project"])
    services = services_of(request)
    project = readable_project(services.projects, services.permissions, viewer(request), name)
    return project, view


@page
async def project_page(request: Request) -> Response:
    project, view = await run_in_threadpool(_project, request)
    if view == "access":
        return await run_in_threadpool(access_pages.access_page, request, project)
    if view is not None:
        # Gerrit's other tabs (branches, tags, ...) are parts of this one page.
        return redirect(project_url(project.name))
    return await run_in_threadpool(_project_page, request, project)


@page
async def project_post(request: Request) -> Response:
    # The form first: until its CSRF token is checked, the cookie is nobody.
    form = await checked_form(request)
    project, view = await run_in_threadpool(_project, request)
    if view != "access":
        raise NotFound(f"Not found: nothing takes a form at {request.url.path}")
    values = {k: str(v) for k, v in form.items() if k != CSRF_FIELD}
    return await run_in_threadpool(access_pages.change_access, request, project, values)


def _project_page(request: Request, project: Project) -> Response:
    services = services_of(request)
    head = services.projects.head(project.name)
    default_branch = head[len(HEADS) :] if head.startswith(HEADS) else head
    branches = [
        BranchHead(b.ref[len(HEADS) :], b.revision)
        for b in services.projects.branches(project.name)
        if b.ref.startswith(HEADS)
    ]
    open_query = f"project:{project.name} status:open"
    found = services.review.query(open_query, limit=PAGE_SIZE, viewer=viewer(request))
    clone_url = services.public_url + project.name
    return render(
        request,
        "project.html",
        project=project,
        branches=branches,
        default_branch=default_branch,
        clone_url=clone_url,
        gitreview=gitreview(services.public_url, project.name, default_branch),
        hook_url=services.public_url + "tools/hooks/commit-msg",
        rows=change_rows(services, found.numbers),
        more=found.more,
        columns=COLUMNS,
        open_query=open_query,
        merged_query=f"project:{project.name} status:merged",
    )


routes = [
    Route("/admin/repos", project_list, methods=["GET"]),
    Route("/admin/repos/", project_list, methods=["GET"]),
    Route("/admin/repos/{project:path}", project_page, methods=["GET"]),
    Route("/admin/repos/{project:path}", project_post, methods=["POST"]),
]

"""Gerrit REST: projects.

PUT /a/projects/{name} (admins; `owners` are granted `owner` on refs/*),
GET /projects/ (map name → ProjectInfo, with d, t, b, n, S, p, m, r, state,
all), GET /projects/{name}, /projects/{name}/HEAD, /projects/{name}/branches/
and /projects/{name}/branches/{branch}.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.core.review.model import Project, ProjectState
from lockgate.core.review.refs import branch_ref
from lockgate.services.admin_rules import require_admin
from lockgate.services.bootstrap import Services
from lockgate.services.errors import BadRequest, NotFound
from lockgate.services.project_listing import ProjectFilter, list_projects, visible_project
from lockgate.web.auth import request_account, require_account, services_of
from lockgate.web.gerrit.entities import branch_info, project_info
from lockgate.web.gerrit.inputs import ProjectInput
from lockgate.web.gerrit.params import (
    flag,
    int_param,
    parse_input,
    path_param,
    text_param,
    with_body,
)
from lockgate.web.gerrit.responses import gerrit_json


def _project(request: Request) -> tuple[Services, Project]:
    services = services_of(request)
    viewer = request_account(request)
    name = path_param(request, "project")
    return services, visible_project(services.projects, services.accounts, viewer, name)


def create_project(request: Request, body: dict[str, Any]) -> Response:
    caller = require_account(request)
    services = services_of(request)
    require_admin(services.accounts, caller, "create project")
    name = path_param(request, "project")
    wanted = parse_input(ProjectInput, body)
    if wanted.name is not None and wanted.name.removesuffix(".git") != name.removesuffix(".git"):
        raise BadRequest(f"name {wanted.name!r} in the body must match {name!r} in the URL")
    project = services.projects.create(
        name,
        parent=wanted.parent or "All-Projects",
        description=wanted.description,
        create_empty_commit=wanted.create_empty_commit,
        branches=wanted.branches,
        submit_type=wanted.submit_type,
        creator=caller,
        owners=services.access.owner_groups(wanted.owners or []),
    )
    return gerrit_json(project_info(project), status=201)


def _state(request: Request) -> ProjectState | None:
    raw = text_param(request, "state")
    if raw is None:
        return None
    try:
        return ProjectState(raw.upper())
    except ValueError:
        choices = ", ".join(s.value for s in ProjectState)
        raise BadRequest(f"state={raw} is not one of {choices}") from None


def list_all(request: Request) -> Response:
    services = services_of(request)
    viewer = request_account(request)
    wanted = ProjectFilter(
        prefix=text_param(request, "p"),
        substring=text_param(request, "m"),
        regex=text_param(request, "r"),
        state=_state(request),
        include_hidden=flag(request, "all"),
        limit=int_param(request, "n", "limit"),
        skip=int_param(request, "S", "start") or 0,
    )
    found = list_projects(
        services.projects, services.accounts, services.permissions, viewer, wanted
    )
    show_description = flag(request, "d", "description")
    show_parent = flag(request, "t", "tree")
    wanted_branches = request.query_params.getlist("b")
    result: dict[str, Any] = {}
    for project in found:
        branches = None
        if wanted_branches:
            branches = {}
            for branch in wanted_branches:
                tip = services.projects.branch_tip(project.name, branch)
                if tip is not None:
                    branches[branch] = tip
        result[project.name] = project_info(
            project,
            with_name=False,
            with_parent=show_parent,
            with_description=show_description,
            branches=branches,
        )
    return gerrit_json(result)


def get_project(request: Request) -> Response:
    _, project = _project(request)
    return gerrit_json(project_info(project))


def get_head(request: Request) -> Response:
    services, project = _project(request)
    return gerrit_json(services.projects.head(project.name))


def list_branches(request: Request) -> Response:
    services, project = _project(request)
    viewer = request_account(request)
    can_delete = services.accounts.is_admin(viewer)
    branches = services.projects.branches(project.name)
    substring = text_param(request, "m")
    regex = text_param(request, "r")
    if substring and regex:
        raise BadRequest("m and r cannot be combined; use only one of them")
    if substring:
        branches = [b for b in branches if substring.lower() in b.ref.lower()]
    if regex:
        try:
            pattern = re.compile(regex)
        except re.error as error:
            raise BadRequest(f"r={regex} is not a valid regular expression: {error}") from None
        branches = [b for b in branches if pattern.fullmatch(b.ref)]
    skip = int_param(request, "S", "start") or 0
    limit = int_param(request, "n", "limit")
    branches = branches[skip:] if limit is None else branches[skip : skip + limit]
    return gerrit_json([branch_info(b, can_delete=can_delete) for b in branches])


def get_branch(request: Request) -> Response:
    services, project = _project(request)
    name = path_param(request, "branch")
    ref = "HEAD" if name == "HEAD" else branch_ref(name)
    for branch in services.projects.branches(project.name):
        if branch.ref == ref:
            return gerrit_json(branch_info(branch))
    raise NotFound(f"Not found: branch {name} of {project.name}")


_PROJECT = "/projects/{project}"

routes: list[BaseRoute] = [
    Route("/projects/", list_all, methods=["GET"]),
    Route("/projects", list_all, methods=["GET"]),
    Route(_PROJECT, get_project, methods=["GET"]),
    Route(_PROJECT, with_body(create_project), methods=["PUT"]),
    Route(_PROJECT + "/HEAD", get_head, methods=["GET"]),
    Route(_PROJECT + "/branches", list_branches, methods=["GET"]),
    Route(_PROJECT + "/branches/", list_branches, methods=["GET"]),
    Route(_PROJECT + "/branches/{branch}", get_branch, methods=["GET"]),
]

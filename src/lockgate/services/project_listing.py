"""`GET /projects/`: Gerrit's project list with its filters.

A project the caller may not read is left out of the list and answers 404 as
if it did not exist, as in Gerrit: its name is not the caller's to know."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lockgate.core.review.model import Account, Project, ProjectState
from lockgate.services.accounts import AccountService
from lockgate.services.errors import BadRequest, NotFound
from lockgate.services.permissions import Permissions
from lockgate.services.projects import ProjectService


@dataclass(frozen=True, slots=True)
class ProjectFilter:
    prefix: str | None = None  # p=
    substring: str | None = None  # m=, case-insensitive as in Gerrit
    regex: str | None = None  # r=, matching the whole name
    state: ProjectState | None = None  # state=
    include_hidden: bool = False  # all
    limit: int | None = None  # n=
    skip: int = 0  # S=


def list_projects(
    projects: ProjectService,
    accounts: AccountService,
    permissions: Permissions,
    viewer: Account | None,
    wanted: ProjectFilter,
) -> list[Project]:
    given = [
        k for k, v in (("p", wanted.prefix), ("m", wanted.substring), ("r", wanted.regex)) if v
    ]
    if len(given) > 1:
        raise BadRequest(f"{' and '.join(given)} cannot be combined; use only one of p, m and r")
    pattern = None
    if wanted.regex:
        try:
            pattern = re.compile(wanted.regex)
        except re.error as error:
            raise BadRequest(
                f"r={wanted.regex} is not a valid regular expression: {error}"
            ) from None
    admin = accounts.is_admin(viewer)
    caller = permissions.caller(viewer)
    result: list[Project] = []
    for project in projects.all():
        # Hidden projects are for administrators who ask for them (all, state=HIDDEN).
        asked = wanted.include_hidden or wanted.state is ProjectState.HIDDEN
        if project.state is ProjectState.HIDDEN and not (admin and asked):
            continue
        if wanted.state is not None and project.state is not wanted.state:
            continue
        if wanted.prefix and not project.name.startswith(wanted.prefix):
            continue
        if wanted.substring and wanted.substring.lower() not in project.name.lower():
            continue
        if pattern is not None and not pattern.fullmatch(project.name):
            continue
        if not permissions.can_read(caller, project):
            continue
        result.append(project)
    result = result[wanted.skip :]
    return result if wanted.limit is None else result[: wanted.limit]


def visible_project(
    projects: ProjectService, accounts: AccountService, viewer: Account | None, name: str
) -> Project:
    """The project, unless it is hidden from `viewer`: then, as when missing, 404."""
    project = projects.get(name)
    if project.state is ProjectState.HIDDEN and not accounts.is_admin(viewer):
        raise NotFound(f"Not found: {name}")
    return project


def readable_project(
    projects: ProjectService, permissions: Permissions, viewer: Account | None, name: str
) -> Project:
    """The project, if `viewer` may read it (hidden ones only administrators);
    otherwise 404, the answer for a project that does not exist."""
    project = projects.find(name)
    if project is None or not permissions.can_read(viewer, project):
        raise NotFound(f"Not found: {name}")
    return project

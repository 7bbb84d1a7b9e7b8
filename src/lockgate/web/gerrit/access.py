"""Gerrit REST: project access and label definitions.

GET /projects/{p}/access and GET /access/?project=P (ProjectAccessInfo),
POST /a/projects/{p}/access (ProjectAccessInput: remove, add, parent, message),
GET /projects/{p}/labels/ (`inherited` for the parents' too) and
GET/PUT/DELETE /projects/{p}/labels/{name} (LabelDefinitionInfo / Input).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.core.review.acl import LABEL_PREFIX, AccessSection
from lockgate.core.review.label_definitions import LabelDefinition
from lockgate.core.review.model import Project
from lockgate.services.access import AccessView
from lockgate.services.bootstrap import Services
from lockgate.services.errors import BadRequest
from lockgate.services.project_listing import visible_project
from lockgate.web.auth import request_account, request_caller, require_account, services_of
from lockgate.web.gerrit.entities import group_info, project_info
from lockgate.web.gerrit.params import flag, path_param, with_body
from lockgate.web.gerrit.responses import gerrit_json


def _project(request: Request, name: str | None = None) -> tuple[Services, Project]:
    services = services_of(request)
    viewer = request_account(request)
    wanted = name if name is not None else path_param(request, "project")
    return services, visible_project(services.projects, services.accounts, viewer, wanted)


# --- rendering ------------------------------------------------------------------


def section_info(section: AccessSection) -> dict[str, Any]:
    permissions: dict[str, Any] = {}
    for name, permission in section.permissions.items():
        info: dict[str, Any] = {}
        if name.startswith(LABEL_PREFIX):
            info["label"] = name[len(LABEL_PREFIX) :]
        if permission.exclusive:
            info["exclusive"] = True
        rules: dict[str, Any] = {}
        for rule in permission.rules:
            shown: dict[str, Any] = {"action": rule.action.value}
            if rule.force:
                shown["force"] = True
            if rule.min is not None and rule.max is not None and (rule.min, rule.max) != (0, 0):
                shown["min"] = rule.min
                shown["max"] = rule.max
            rules[rule.group] = shown
        info["rules"] = rules
        permissions[name] = info
    return {"permissions": permissions}


def access_info(services: Services, view: AccessView) -> dict[str, Any]:
    """ProjectAccessInfo; Gerrit leaves out the flags that are false."""
    info: dict[str, Any] = {"revision": view.revision}
    if view.parent is not None:
        info["inherits_from"] = project_info(view.parent)
    info["local"] = {s.ref_pattern: section_info(s) for s in view.local}
    if view.is_owner:
        info["is_owner"] = True
    info["owner_of"] = list(view.owner_of)
    for key, value in (
        ("can_upload", view.can_upload),
        ("can_add", view.can_add),
        ("can_add_tags", view.can_add_tags),
        ("config_visible", view.config_visible),
    ):
        if value:
            info[key] = True
    groups: dict[str, Any] = {}
    for uuid, group in view.groups.items():
        if isinstance(group, str):
            groups[uuid] = {"options": {}, "name": group}
            continue
        owner = services.accounts.group(group.owner_uuid) if group.owner_uuid else None
        shown = group_info(group, owner=owner)
        shown.pop("id")
        groups[uuid] = shown
    info["groups"] = groups
    return info


def label_info(definition: LabelDefinition) -> dict[str, Any]:
    """LabelDefinitionInfo; booleans that are false are left out, as Gerrit does."""
    label = definition.label
    info: dict[str, Any] = {"name": label.name, "project_name": definition.project}
    if label.description:
        info["description"] = label.description
    info["function"] = label.function.value
    info["values"] = label.formatted_values()
    info["default_value"] = label.default_value
    if definition.can_override:
        info["can_override"] = True
    for key in (
        "copy_min_score",
        "copy_max_score",
        "copy_all_scores_if_no_change",
        "copy_all_scores_if_no_code_change",
        "copy_all_scores_on_trivial_rebase",
    ):
        if getattr(label, key):
            info[key] = True
    info["allow_post_submit"] = True
    return info


# --- access ---------------------------------------------------------------------


def get_access(request: Request) -> Response:
    services, project = _project(request)
    view = services.access.view(request_caller(request), project)
    return gerrit_json(access_info(services, view))


def list_access(request: Request) -> Response:
    names = request.query_params.getlist("project") or request.query_params.getlist("p")
    if not names:
        raise BadRequest("name the projects: GET /access/?project=NAME (repeatable)")
    viewer = request_caller(request)
    result: dict[str, Any] = {}
    for name in sorted(set(names)):
        services, project = _project(request, name)
        result[project.name] = access_info(services, services.access.view(viewer, project))
    return gerrit_json(result)


def set_access(request: Request, body: dict[str, Any]) -> Response:
    caller = require_account(request)
    services, project = _project(request)
    view = services.access.change_access(caller, project, body)
    return gerrit_json(access_info(services, view))


# --- labels ---------------------------------------------------------------------


def list_labels(request: Request) -> Response:
    services, project = _project(request)
    if flag(request, "inherited"):
        found = services.access.all_labels(project)
    else:
        found = services.access.own_labels(project)
    return gerrit_json([label_info(d) for d in found])


def get_label(request: Request) -> Response:
    services, project = _project(request)
    return gerrit_json(label_info(services.access.label(project, path_param(request, "label"))))


def put_label(request: Request, body: dict[str, Any]) -> Response:
    caller = require_account(request)
    services, project = _project(request)
    definition, created = services.access.put_label(
        caller, project, path_param(request, "label"), body
    )
    return gerrit_json(label_info(definition), status=201 if created else 200)


def delete_label(request: Request, body: dict[str, Any]) -> Response:
    caller = require_account(request)
    services, project = _project(request)
    services.access.delete_label(caller, project, path_param(request, "label"))
    return Response(status_code=204)


_PROJECT = "/projects/{project}"

routes: list[BaseRoute] = [
    Route("/access/", list_access, methods=["GET"]),
    Route("/access", list_access, methods=["GET"]),
    Route(_PROJECT + "/access", get_access, methods=["GET"]),
    Route(_PROJECT + "/access", with_body(set_access), methods=["POST"]),
    Route(_PROJECT + "/labels/", list_labels, methods=["GET"]),
    Route(_PROJECT + "/labels", list_labels, methods=["GET"]),
    Route(_PROJECT + "/labels/{label}", get_label, methods=["GET"]),
    Route(_PROJECT + "/labels/{label}", with_body(put_label), methods=["PUT"]),
    Route(_PROJECT + "/labels/{label}", with_body(delete_label), methods=["DELETE"]),
]

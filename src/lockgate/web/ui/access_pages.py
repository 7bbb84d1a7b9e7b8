"""A project's access page (`/admin/repos/<project>,access`): its own rules and
those it inherits, and for its owners and administrators a form to add a rule
and a button to remove each one.

Changes go through AccessService.change_access, the service behind
`POST /projects/{p}/access`, with the same checks: only owners and
administrators, known groups, label ranges within the label's values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from lockgate.core.review.acl import KNOWN_PERMISSIONS, LABEL_PREFIX, AccessSection, Action
from lockgate.core.review.model import Group, Project
from lockgate.services.access import AccessView
from lockgate.services.admin_rules import can_see_group
from lockgate.services.errors import BadRequest, NotFound
from lockgate.services.permissions import SYSTEM_GROUPS
from lockgate.web.auth import request_caller, services_of
from lockgate.web.ui.links import access_url
from lockgate.web.ui.pages import redirect, render

# Parents deeper than this are a broken chain, not a project tree.
_MAX_DEPTH = 50
_SAVED = {"added": "The rule was added.", "removed": "The rule was removed."}


@dataclass(frozen=True, slots=True)
class RuleRow:
    ref: str
    permission: str
    group_uuid: str
    group_name: str
    action: str
    range: str  # "-2..+2" for labels, else ""
    force: bool
    exclusive: bool


@dataclass(frozen=True, slots=True)
class Level:
    """The rules of one project of the chain, the viewed project first."""

    project: Project
    rules: list[RuleRow]


def _signed(value: int) -> str:
    return f"{value:+d}" if value else "0"


def rule_rows(sections: tuple[AccessSection, ...], names: dict[str, Group | str]) -> list[RuleRow]:
    rows = []
    for section in sections:
        for permission, held in section.permissions.items():
            for rule in held.rules:
                named = names.get(rule.group)
                name = named if isinstance(named, str) else named.name if named else rule.group
                shown = (
                    f"{_signed(rule.min)}..{_signed(rule.max)}"
                    if rule.min is not None and rule.max is not None
                    else ""
                )
                rows.append(
                    RuleRow(
                        section.ref_pattern,
                        permission,
                        rule.group,
                        name,
                        rule.action.value,
                        shown,
                        rule.force,
                        held.exclusive,
                    )
                )
    return rows


def _levels(request: Request, project: Project) -> tuple[AccessView, list[Level]]:
    services = services_of(request)
    caller = request_caller(request)
    own = services.access.view(caller, project)
    levels = [Level(project, rule_rows(own.local, dict(own.groups)))]
    parent = own.parent
    while parent is not None and len(levels) < _MAX_DEPTH:
        view = services.access.view(caller, parent)
        levels.append(Level(parent, rule_rows(view.local, dict(view.groups))))
        parent = view.parent
    return own, levels


def _permission_choices(request: Request, project: Project) -> list[str]:
    labels = services_of(request).labels.for_project(project.name)
    return sorted(KNOWN_PERMISSIONS) + [LABEL_PREFIX + label.name for label in labels]


def _group_choices(request: Request) -> list[str]:
    """The groups a rule may name, as far as the viewer may see them (a group's
    UUID names any other)."""
    accounts = services_of(request).accounts
    looking = request_caller(request).account
    stored = [
        g.name
        for g in accounts.groups()
        if g.uuid not in SYSTEM_GROUPS and can_see_group(accounts, looking, g)
    ]
    return sorted({*SYSTEM_GROUPS.values(), *stored})


def access_page(
    request: Request,
    project: Project,
    *,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    own, levels = _levels(request, project)
    saved = _SAVED.get(request.query_params.get("saved", ""))
    return render(
        request,
        "project_access.html",
        status=status,
        project=project,
        view=own,
        levels=levels,
        may_edit=own.is_owner,
        permissions=_permission_choices(request, project) if own.is_owner else [],
        groups=_group_choices(request) if own.is_owner else [],
        actions=[a.value for a in Action],
        error=error,
        saved=None if error else saved,
        values=values or {"ref": "refs/heads/*", "action": "ALLOW"},
    )


def group_uuid(request: Request, name: str) -> str:
    """A group named in the form: a system group's name or UUID, or a stored
    group's name, UUID or number."""
    for uuid, system_name in SYSTEM_GROUPS.items():
        if name in (uuid, system_name):
            return uuid
    try:
        return services_of(request).accounts.group(name).uuid
    except NotFound:
        raise BadRequest(
            f"there is no group {name!r}: name a group from the list, or create it first"
        ) from None


def _int_field(values: dict[str, str], name: str) -> int:
    raw = values.get(name, "").strip()
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(
            f"{name} of a label rule must be a whole number such as -2 or 2, not {raw!r}"
        ) from None


def _addition(request: Request, values: dict[str, str]) -> dict[str, Any]:
    ref = values.get("ref", "").strip()
    permission = values.get("permission", "").strip()
    group = values.get("group", "").strip()
    if not ref or not permission or not group:
        raise BadRequest("a rule needs a ref pattern, a permission and a group")
    rule: dict[str, Any] = {"action": values.get("action", "ALLOW")}
    if permission.startswith(LABEL_PREFIX):
        rule["min"] = _int_field(values, "min")
        rule["max"] = _int_field(values, "max")
    if values.get("force"):
        rule["force"] = True
    uuid = group_uuid(request, group)
    return {"add": {ref: {"permissions": {permission: {"rules": {uuid: rule}}}}}}


def _removal(values: dict[str, str]) -> dict[str, Any]:
    ref, permission, uuid = (values.get(k, "") for k in ("ref", "permission", "group_uuid"))
    if not ref or not permission or not uuid:
        raise BadRequest("say which rule to remove: its ref pattern, permission and group")
    return {"remove": {ref: {"permissions": {permission: {"rules": {uuid: {}}}}}}}


def change_access(request: Request, project: Project, values: dict[str, str]) -> Response:
    """Add or remove one rule from the posted form (its CSRF token checked)."""
    services = services_of(request)
    caller = request_caller(request)
    removing = values.get("do") == "remove"
    try:
        body = _removal(values) if removing else _addition(request, values)
        body["message"] = f"{'Remove' if removing else 'Add'} a rule from the web interface"
        services.access.change_access(caller, project, body)
    except BadRequest as error:
        return access_page(
            request,
            project,
            error=str(error),
            values={} if removing else values,
            status=error.status,
        )
    return redirect(access_url(project.name) + f"?saved={'removed' if removing else 'added'}")

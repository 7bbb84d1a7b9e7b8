"""Gerrit REST: groups.

PUT /a/groups/{name} (admins), GET /groups/ (map name → GroupInfo),
GET /groups/{id}, GET /groups/{id}/members/, PUT and DELETE
/a/groups/{id}/members/{account}. A group is named by name, UUID or number.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.core.review.model import Group
from lockgate.services.accounts import AccountService
from lockgate.services.admin_rules import can_see_group, require_admin, require_group_owner
from lockgate.services.errors import BadRequest, NotFound
from lockgate.web.auth import request_account, require_account, services_of
from lockgate.web.gerrit.entities import account_info, group_info
from lockgate.web.gerrit.inputs import GroupInput
from lockgate.web.gerrit.params import (
    flag,
    int_param,
    parse_input,
    path_param,
    text_param,
    with_body,
)
from lockgate.web.gerrit.responses import gerrit_json


def _accounts(request: Request) -> AccountService:
    return services_of(request).accounts


def _owner(accounts: AccountService, group: Group) -> Group | None:
    if not group.owner_uuid:
        return None
    try:
        return accounts.group(group.owner_uuid)
    except NotFound:
        return None


def _visible(accounts: AccountService, request: Request, group: Group) -> bool:
    return can_see_group(accounts, request_account(request), group)


def _group(request: Request) -> Group:
    accounts = _accounts(request)
    ref = path_param(request, "group")
    group = accounts.group(ref)
    if not _visible(accounts, request, group):
        raise NotFound(f"Group Not Found: {ref}")
    return group


def create_group(request: Request, body: dict[str, Any]) -> Response:
    caller = require_account(request)
    accounts = _accounts(request)
    require_admin(accounts, caller, "create group")
    name = path_param(request, "group")
    wanted = parse_input(GroupInput, body)
    if wanted.name is not None and wanted.name != name:
        raise BadRequest(f"name {wanted.name!r} in the body must match {name!r} in the URL")
    members = []
    for ref in wanted.members or []:
        member = accounts.find(ref)
        if member is None:
            raise BadRequest(f"member {ref!r} is not an account; create it first")
        members.append(member)
    group = accounts.create_group(
        name,
        description=wanted.description,
        owner=wanted.owner_id,
        visible_to_all=bool(wanted.visible_to_all),
        creator=caller,
    )
    for member in members:
        accounts.add_member(group, member)
    return gerrit_json(group_info(group, owner=_owner(accounts, group)), status=201)


def list_groups(request: Request) -> Response:
    accounts = _accounts(request)
    with_members = any(
        o.upper() == "MEMBERS"
        for value in request.query_params.getlist("o")
        for o in value.split(",")
    )
    substring = text_param(request, "m")
    skip = int_param(request, "S", "start") or 0
    limit = int_param(request, "n", "limit")
    groups = [
        g
        for g in accounts.groups()
        if _visible(accounts, request, g)
        and (substring is None or substring.lower() in g.name.lower())
    ]
    groups = groups[skip:] if limit is None else groups[skip : skip + limit]
    by_uuid = {g.uuid: g for g in accounts.groups()}
    return gerrit_json(
        {
            g.name: group_info(
                g,
                owner=by_uuid.get(g.owner_uuid or ""),
                with_name=False,
                members=accounts.members(g) if with_members else None,
            )
            for g in groups
        }
    )


def get_group(request: Request) -> Response:
    accounts = _accounts(request)
    group = _group(request)
    with_members = flag(request, "members") or any(
        o.upper() == "MEMBERS" for o in request.query_params.getlist("o")
    )
    return gerrit_json(
        group_info(
            group,
            owner=_owner(accounts, group),
            members=accounts.members(group) if with_members else None,
        )
    )


def get_members(request: Request) -> Response:
    group = _group(request)
    return gerrit_json([account_info(a) for a in _accounts(request).members(group)])


def add_member(request: Request, body: dict[str, Any]) -> Response:
    caller = require_account(request)
    accounts = _accounts(request)
    group = _group(request)
    require_group_owner(accounts, caller, group)
    account = accounts.get(path_param(request, "account"))
    added = accounts.add_member(group, account)
    return gerrit_json(account_info(account), status=201 if added else 200)


def remove_member(request: Request) -> Response:
    caller = require_account(request)
    accounts = _accounts(request)
    group = _group(request)
    require_group_owner(accounts, caller, group)
    account = accounts.get(path_param(request, "account"))
    if not accounts.remove_member(group, account):
        raise NotFound(f"{account.username} is not a member of {group.name}")
    return Response(status_code=204)


_GROUP = "/groups/{group}"

routes: list[BaseRoute] = [
    Route("/groups/", list_groups, methods=["GET"]),
    Route("/groups", list_groups, methods=["GET"]),
    Route(_GROUP, get_group, methods=["GET"]),
    Route(_GROUP, with_body(create_group), methods=["PUT"]),
    Route(_GROUP + "/members", get_members, methods=["GET"]),
    Route(_GROUP + "/members/", get_members, methods=["GET"]),
    Route(_GROUP + "/members/{account}", with_body(add_member), methods=["PUT"]),
    Route(_GROUP + "/members/{account}", remove_member, methods=["DELETE"]),
]

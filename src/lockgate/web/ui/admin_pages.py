"""Groups and their members (`/admin/groups`, `/admin/groups/<group>`), and the
webhooks' delivery logs (`/admin/webhooks`, `/admin/webhooks/<name>`).

Who sees and changes what is what the REST API decides: a group not visible
to all is shown to administrators and its members (`GET /groups/`); members are
managed by administrators and the owning group's members (`PUT` and `DELETE
/groups/{g}/members/{a}`); webhooks are for administrators
(`/config/server/webhooks/{name}/deliveries`).
"""

from __future__ import annotations

import urllib.parse

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lockgate.core.review.model import Account, Group
from lockgate.services.accounts import SYSTEM_GROUPS
from lockgate.services.admin_rules import (
    can_see_group,
    may_manage_members,
    require_admin,
    require_group_owner,
)
from lockgate.services.errors import BadRequest, NotFound, Unauthorized
from lockgate.web.auth import services_of
from lockgate.web.ui.dashboard import PAGE_SIZE, start_of
from lockgate.web.ui.pages import checked_form, page, redirect, render, viewer

_SAVED = {"added": "The member was added.", "removed": "The member was removed."}


def group_url(group: Group) -> str:
    return "/admin/groups/" + urllib.parse.quote(group.uuid, safe="")


def _group(request: Request) -> Group:
    ref = urllib.parse.unquote(request.path_params["group"]).removesuffix(",members")
    accounts = services_of(request).accounts
    group = accounts.group(ref.removeprefix("uuid-"))
    if not can_see_group(accounts, viewer(request), group):
        raise NotFound(f"Group Not Found: {ref}")
    return group


# --- groups -------------------------------------------------------------------


@page
async def group_list(request: Request) -> Response:
    return await run_in_threadpool(_group_list, request)


def _group_list(request: Request) -> Response:
    accounts = services_of(request).accounts
    looking = viewer(request)
    groups = accounts.groups()
    by_uuid = {g.uuid: g for g in groups}
    shown = [g for g in groups if can_see_group(accounts, looking, g)]
    return render(
        request,
        "groups.html",
        groups=shown,
        owners={g.uuid: by_uuid.get(g.owner_uuid or "") for g in shown},
        urls={g.uuid: group_url(g) for g in groups},
    )


@page
async def group_page(request: Request) -> Response:
    return await run_in_threadpool(_group_page, request)


def _group_page(
    request: Request,
    *,
    error: str | None = None,
    account_value: str = "",
    status: int = 200,
) -> Response:
    accounts = services_of(request).accounts
    group = _group(request)
    owner = None
    if group.owner_uuid:
        try:
            owner = accounts.group(group.owner_uuid)
        except NotFound:
            owner = None
    implied = group.uuid in SYSTEM_GROUPS.values()
    saved = _SAVED.get(request.query_params.get("saved", ""))
    return render(
        request,
        "group.html",
        status=status,
        group=group,
        owner=owner,
        owner_url=group_url(owner) if owner else None,
        url=group_url(group),
        members=[] if implied else accounts.members(group),
        implied=implied,
        may_manage=not implied and may_manage_members(accounts, viewer(request), group),
        error=error,
        saved=None if error else saved,
        account_value=account_value,
    )


@page
async def change_members(request: Request) -> Response:
    form = await checked_form(request)
    values = {k: str(v) for k, v in form.items()}
    return await run_in_threadpool(_change_members, request, values)


def _change_members(request: Request, values: dict[str, str]) -> Response:
    accounts = services_of(request).accounts
    caller = viewer(request)
    if caller is None:
        raise Unauthorized("sign in to change a group's members")
    group = _group(request)
    require_group_owner(accounts, caller, group)
    removing = values.get("do") == "remove"
    ref = values.get("account", "").strip()
    try:
        if not ref:
            raise BadRequest("name the account: its username, email or account id")
        account: Account = accounts.get(ref)
        if removing:
            if not accounts.remove_member(group, account):
                raise BadRequest(f"{account.username} is not a member of {group.name}")
        else:
            accounts.add_member(group, account)
    except (BadRequest, NotFound) as error:
        return _group_page(
            request,
            error=str(error),
            account_value="" if removing else ref,
            status=400,
        )
    return redirect(group_url(group) + f"?saved={'removed' if removing else 'added'}")


# --- webhooks -----------------------------------------------------------------


def _require_admin(request: Request) -> None:
    account = viewer(request)
    if account is None:
        raise Unauthorized("sign in as an administrator to read webhooks")
    require_admin(services_of(request).accounts, account, "read webhooks")


@page
async def webhook_list(request: Request) -> Response:
    return await run_in_threadpool(_webhook_list, request)


def _webhook_list(request: Request) -> Response:
    _require_admin(request)
    return render(request, "webhooks.html", hooks=services_of(request).webhooks.status())


@page
async def webhook_page(request: Request) -> Response:
    return await run_in_threadpool(_webhook_page, request)


def _webhook_page(request: Request) -> Response:
    _require_admin(request)
    webhooks = services_of(request).webhooks
    name = urllib.parse.unquote(request.path_params["name"])
    hook = webhooks.find(name)
    start = start_of(request)
    found = webhooks.deliveries(name, limit=PAGE_SIZE + 1, start=start)
    state = next(s for s in webhooks.status() if s.webhook.name == name)
    return render(
        request,
        "webhook.html",
        hook=hook,
        state=state,
        deliveries=found[:PAGE_SIZE],
        start=start,
        more=len(found) > PAGE_SIZE,
        base="/admin/webhooks/" + urllib.parse.quote(name, safe=""),
    )


routes = [
    Route("/admin/groups", group_list, methods=["GET"]),
    Route("/admin/groups/", group_list, methods=["GET"]),
    Route("/admin/groups/{group}", group_page, methods=["GET"]),
    Route("/admin/groups/{group}", change_members, methods=["POST"]),
    Route("/admin/webhooks", webhook_list, methods=["GET"]),
    Route("/admin/webhooks/", webhook_list, methods=["GET"]),
    Route("/admin/webhooks/{name}", webhook_page, methods=["GET"]),
]

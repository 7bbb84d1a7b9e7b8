"""Gerrit REST: accounts.

PUT /a/accounts/{username} (admins), GET /accounts/self, /accounts/{id},
/accounts/{id}/detail, /accounts/{id}/groups, PUT and DELETE
/a/accounts/{id}/password.http, GET /accounts/?q=.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.core.review.model import Account
from lockgate.services.account_search import search_accounts
from lockgate.services.admin_rules import require_admin, require_password_change
from lockgate.services.errors import BadRequest, NotFound
from lockgate.web.auth import request_account, require_account, services_of
from lockgate.web.gerrit.entities import account_detail_info, account_info, group_info
from lockgate.web.gerrit.inputs import AccountInput, HttpPasswordInput
from lockgate.web.gerrit.params import (
    limit_param,
    parse_input,
    path_param,
    start_param,
    text_param,
    with_body,
)
from lockgate.web.gerrit.responses import gerrit_json


def _account(request: Request) -> Account:
    """The account the path names: `self`, a numeric id, a username or an email."""
    ref = path_param(request, "account")
    if ref == "self":
        return require_account(request)
    request_account(request)
    return services_of(request).accounts.get(ref)


def create_account(request: Request, body: dict[str, Any]) -> Response:
    caller = require_account(request)
    services = services_of(request)
    require_admin(services.accounts, caller, "create account")
    username = path_param(request, "account")
    wanted = parse_input(AccountInput, body)
    if wanted.username is not None and wanted.username != username:
        raise BadRequest(
            f"username {wanted.username!r} in the body must match {username!r} in the URL"
        )
    for name in wanted.groups or []:
        try:
            services.accounts.group(name)
        except NotFound:
            raise BadRequest(
                f"group {name!r} not found; create it first with PUT /a/groups/{name}"
            ) from None
    account = services.accounts.create_account(
        username,
        full_name=wanted.name or wanted.display_name,
        email=wanted.email,
        http_password=wanted.http_password,
        groups=wanted.groups,
    )
    return gerrit_json(account_info(account), status=201)


def get_account(request: Request) -> Response:
    return gerrit_json(account_info(_account(request)))


def get_account_detail(request: Request) -> Response:
    return gerrit_json(account_detail_info(_account(request)))


def get_account_groups(request: Request) -> Response:
    account = _account(request)
    accounts = services_of(request).accounts
    groups = [accounts.group(name) for name in accounts.groups_of(account)]
    by_uuid = {g.uuid: g for g in accounts.groups()}
    return gerrit_json([group_info(g, owner=by_uuid.get(g.owner_uuid or "")) for g in groups])


def set_http_password(request: Request, body: dict[str, Any]) -> Response:
    caller = require_account(request)
    target = _account(request)
    accounts = services_of(request).accounts
    require_password_change(accounts, caller, target)
    wanted = parse_input(HttpPasswordInput, body)
    if wanted.generate and wanted.http_password:
        raise BadRequest("give either generate or http_password, not both")
    password = accounts.set_http_password(
        target, wanted.http_password or None, generate=wanted.generate
    )
    if password is None:
        return Response(status_code=204)
    return gerrit_json(password)


def delete_http_password(request: Request) -> Response:
    caller = require_account(request)
    target = _account(request)
    accounts = services_of(request).accounts
    require_password_change(accounts, caller, target)
    accounts.set_http_password(target, None)
    return Response(status_code=204)


def query_accounts(request: Request) -> Response:
    viewer = request_account(request)
    query = text_param(request, "q", "query")
    suggest = "suggest" in request.query_params
    if query is None:
        if not suggest:
            raise BadRequest("missing query field: add q=, e.g. q=username:alice or q=name:Alice")
        query = ""
    options = {o.upper() for value in request.query_params.getlist("o") for o in value.split(",")}
    unknown = options - {"DETAILS", "ALL_EMAILS"}
    if unknown:
        names = ", ".join(sorted(unknown))
        raise BadRequest(f'"{names}" is not a valid value for "o"; use DETAILS or ALL_EMAILS')
    limit = limit_param(request)
    page = search_accounts(
        services_of(request).engine, query, limit=limit, start=start_param(request), viewer=viewer
    )
    detailed = suggest or bool(options)
    infos = [account_info(a, detailed=detailed) for a in page.accounts]
    if page.more and infos:
        infos[-1]["_more_accounts"] = True
    return gerrit_json(infos)


_ACCOUNT = "/accounts/{account}"

routes: list[BaseRoute] = [
    Route("/accounts/", query_accounts, methods=["GET"]),
    Route("/accounts", query_accounts, methods=["GET"]),
    Route(_ACCOUNT, get_account, methods=["GET"]),
    Route(_ACCOUNT, with_body(create_account), methods=["PUT"]),
    Route(_ACCOUNT + "/detail", get_account_detail, methods=["GET"]),
    Route(_ACCOUNT + "/groups", get_account_groups, methods=["GET"]),
    Route(_ACCOUNT + "/groups/", get_account_groups, methods=["GET"]),
    Route(_ACCOUNT + "/password.http", with_body(set_http_password), methods=["PUT"]),
    Route(_ACCOUNT + "/password.http", delete_http_password, methods=["DELETE"]),
]

"""Gerrit's JSON shapes for accounts, groups, projects and branches.

Gerrit leaves a field out rather than sending null or false; so do these.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from lockgate.core.review.model import Account, Group, Project
from lockgate.core.review.timestamps import gerrit_timestamp
from lockgate.services.projects import Branch


def encode(name: str) -> str:
    """A name as Gerrit puts it into ids and URLs: every `/` encoded too."""
    return urllib.parse.quote(name, safe="")


# --- accounts -------------------------------------------------------------------


def account_info(account: Account, *, detailed: bool = True) -> dict[str, Any]:
    """AccountInfo: only `_account_id` unless details are asked for (DETAILED_ACCOUNTS
    on changes, o=DETAILS on account queries); name, email and username then."""
    info: dict[str, Any] = {"_account_id": account.id}
    if not detailed:
        return info
    if account.full_name:
        info["name"] = account.full_name
    if account.email:
        info["email"] = account.email
    info["username"] = account.username
    if account.inactive:
        info["inactive"] = True
    return info


def account_ref(
    accounts: Mapping[int, Account], account_id: int, *, detailed: bool
) -> dict[str, Any]:
    """AccountInfo of an account known only by id (as changes refer to people)."""
    account = accounts.get(account_id)
    if account is None:
        return {"_account_id": account_id}
    return account_info(account, detailed=detailed)


def account_detail_info(account: Account) -> dict[str, Any]:
    """AccountDetailInfo: AccountInfo and when the account was registered."""
    info = account_info(account)
    info["registered_on"] = gerrit_timestamp(account.created_at)
    return info


# --- groups ---------------------------------------------------------------------


def group_info(
    group: Group,
    *,
    owner: Group | None,
    with_name: bool = True,
    members: list[Account] | None = None,
) -> dict[str, Any]:
    """GroupInfo; `owner` is the owning group (Gerrit: the group itself when unset)."""
    info: dict[str, Any] = {"id": encode(group.uuid)}
    if with_name:
        info["name"] = group.name
    info["url"] = f"#/admin/groups/uuid-{encode(group.uuid)}"
    info["options"] = {"visible_to_all": True} if group.visible_to_all else {}
    if group.description:
        info["description"] = group.description
    info["group_id"] = group.id
    owning = owner or group
    info["owner"] = owning.name
    info["owner_id"] = encode(owning.uuid)
    info["created_on"] = gerrit_timestamp(group.created_at)
    if members is not None:
        info["members"] = [account_info(a) for a in members]
        info["includes"] = []
    return info


# --- projects -------------------------------------------------------------------


def project_info(
    project: Project,
    *,
    with_name: bool = True,
    with_parent: bool = True,
    with_description: bool = True,
    branches: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """ProjectInfo. Listings leave out the name (it is the map's key), the parent
    unless asked for (`t`) and the description unless asked for (`d`)."""
    info: dict[str, Any] = {"id": encode(project.name)}
    if with_name:
        info["name"] = project.name
    if with_parent and project.parent:
        info["parent"] = project.parent
    if with_description and project.description:
        info["description"] = project.description
    info["state"] = project.state.value
    if branches is not None:
        info["branches"] = dict(branches)
    return info


def branch_info(branch: Branch, *, can_delete: bool = False) -> dict[str, Any]:
    info: dict[str, Any] = {"ref": branch.ref, "revision": branch.revision}
    if can_delete and branch.ref.startswith("refs/heads/"):
        info["can_delete"] = True
    return info

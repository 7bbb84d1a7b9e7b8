"""Gerrit's input entities (request bodies) for accounts, groups and projects.

Fields Gerrit defines but lockgate does not act on yet (an account's `ssh_key`,
a project's `permissions_only`) are accepted and ignored, so that scripts written
for Gerrit keep working; docs/rest-api.md lists them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Input(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AccountInput(_Input):
    username: str | None = None
    name: str | None = None
    display_name: str | None = None
    email: str | None = None
    ssh_key: str | None = None
    http_password: str | None = None
    groups: list[str] | None = None


class HttpPasswordInput(_Input):
    generate: bool = False
    http_password: str | None = None


class GroupInput(_Input):
    name: str | None = None
    description: str | None = None
    visible_to_all: bool | None = None
    owner_id: str | None = None
    members: list[str] | None = None


class ProjectInput(_Input):
    name: str | None = None
    parent: str | None = None
    description: str | None = None
    permissions_only: bool = False
    create_empty_commit: bool = False
    submit_type: str | None = None
    branches: list[str] | None = None
    owners: list[str] | None = None

"""Helpers for tests of the Gerrit REST API against a live server."""

from __future__ import annotations

import json
from typing import Any

import httpx

from lockgate.testing.server import LiveServer

XSSI = ")]}'\n"


def decode(response: httpx.Response, status: int = 200) -> Any:
    """The JSON of a Gerrit response, after checking its status and `)]}'` prefix."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/json")
    assert response.text.startswith(XSSI), response.text[:20]
    return json.loads(response.text[len(XSSI) :])


def get(
    server: LiveServer, path: str, *, auth: tuple[str, str] | None = None, **params: Any
) -> Any:
    prefix = "a/" if auth else ""
    return decode(httpx.get(f"{server.url}{prefix}{path}", params=params or None, auth=auth))


def put(
    server: LiveServer,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    auth: tuple[str, str],
    status: int = 201,
) -> Any:
    response = httpx.put(f"{server.url}a/{path}", json=body, auth=auth)
    return decode(response, status)


def ci_account(server: LiveServer) -> tuple[str, str]:
    """The credentials of the site's CI account (a Service User), as init wrote them."""
    fields = dict(
        line.split("=", 1)
        for line in (server.site_path / "ci.credentials").read_text().splitlines()
    )
    return fields["username"], fields["password"]


def make_user(server: LiveServer, username: str, password: str | None = None) -> tuple[str, str]:
    """An account created through the API by admin; returns its credentials."""
    password = password or f"pw-{username}"
    put(
        server,
        f"accounts/{username}",
        {
            "name": username.title(),
            "email": f"{username}@example.com",
            "http_password": password,
        },
        auth=server.admin,
    )
    return username, password

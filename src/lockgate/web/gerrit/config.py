"""Gerrit REST: server configuration — GET /config/server/version and /info.

The version is what clients gate features on: gertty and Zuul parse the part
before any `-` as dotted numbers. 3.13 makes Zuul send plain `comments` (no
robot comments) and ask for SUBMIT_REQUIREMENTS.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.core.review.model import ALL_PROJECTS, ALL_USERS
from lockgate.web.auth import request_account, services_of
from lockgate.web.gerrit.change_info import download_commands
from lockgate.web.gerrit.responses import gerrit_json

GERRIT_VERSION = "3.13.0"


def get_version(request: Request) -> Response:
    request_account(request)
    return gerrit_json(GERRIT_VERSION)


def server_info(public_url: str) -> dict[str, Any]:
    """ServerInfo: what this server offers, in Gerrit's terms."""
    project, ref = "${project}", "${ref}"
    schemes = {}
    for scheme, url, auth_required in (
        ("anonymous http", f"{public_url}{project}", False),
        ("http", f"{public_url}a/{project}", True),
    ):
        commands = download_commands(url, ref, 0, 0)
        commands["Branch"] = commands["Branch"].replace("change-0-0", "change-${number}")
        schemes[scheme] = {
            "url": url,
            "is_auth_required": auth_required,
            "is_auth_supported": auth_required,
            "commands": commands,
            "clone_commands": {"Clone": f'git clone "{url}"'},
        }
    return {
        "accounts": {"visibility": "ALL", "default_display_name": "FULL_NAME"},
        "auth": {
            "auth_type": "HTTP",
            "use_contributor_agreements": False,
            "editable_account_fields": ["FULL_NAME", "REGISTER_NEW_EMAIL"],
            "git_basic_auth_policy": "HTTP",
        },
        "change": {
            "allow_blame": True,
            "large_change": 500,
            "reply_label": "Reply",
            "reply_tooltip": "Reply and score",
            "update_delay": 300,
            "submit_whole_topic": False,
            "disable_private_changes": False,
            "mergeability_computation_behavior": "NEVER",
            "enable_robot_comments": False,
            "conflicts_predicate_enabled": True,
        },
        "download": {"schemes": schemes, "archives": []},
        "gerrit": {
            "all_projects": ALL_PROJECTS,
            "all_users": ALL_USERS,
            "doc_search": False,
            "instance_id": "lockgate",
        },
        "note_db_enabled": True,
        "plugin": {"has_avatars": False, "js_resource_paths": []},
        "receive": {"enable_signed_push": False, "max_batch_changes": 1000},
        "suggest": {"from": 0},
        "user": {"anonymous_coward_name": "Name of user not set"},
    }


def get_info(request: Request) -> Response:
    request_account(request)
    return gerrit_json(server_info(services_of(request).public_url))


routes: list[BaseRoute] = [
    Route("/config/server/version", get_version, methods=["GET"]),
    Route("/config/server/info", get_info, methods=["GET"]),
]

"""Label definitions through the REST API, on SQLite and PostgreSQL: the defaults,
a project's own review categories, overriding an inherited label, and refusals."""

from __future__ import annotations

from typing import Any

import httpx

from lockgate.testing.server import LiveServer
from tests.system.rest import decode, get, make_user, put


def label_put(
    server: LiveServer, path: str, body: dict[str, Any], *, auth: tuple[str, str]
) -> httpx.Response:
    return httpx.put(f"{server.url}a/{path}", json=body, auth=auth)


def names(server: LiveServer, project: str) -> list[str]:
    return [label.name for label in server.services.labels.for_project(project)]


def test_all_projects_defines_the_three_openstack_labels(server: LiveServer) -> None:
    listed = get(server, "projects/All-Projects/labels/")

    assert [label["name"] for label in listed] == ["Code-Review", "Verified", "Workflow"]
    code_review, verified, workflow = listed
    assert code_review == {
        "name": "Code-Review",
        "project_name": "All-Projects",
        "function": "MaxWithBlock",
        "values": {
            "-2": "Do not merge",
            "-1": "This patch needs further work before it can be merged",
            " 0": "No score",
            "+1": "Looks good to me, but someone else must approve",
            "+2": "Looks good to me (core reviewer)",
        },
        "default_value": 0,
        "can_override": True,
        "copy_min_score": True,
        "copy_all_scores_if_no_change": True,
        "copy_all_scores_if_no_code_change": True,
        "copy_all_scores_on_trivial_rebase": True,
        "allow_post_submit": True,
    }
    assert verified["values"]["+2"] == "Verified"
    assert workflow["values"] == {
        "-1": "Work in progress",
        " 0": "Ready for reviews",
        "+1": "Approved",
    }
    assert get(server, "projects/All-Projects/labels/workflow")["name"] == "Workflow"
    put(server, "projects/nova", {}, auth=server.admin)
    assert get(server, "projects/nova/labels/") == []
    inherited = get(server, "projects/nova/labels/", inherited="")
    assert [(d["project_name"], d["name"]) for d in inherited] == [
        ("All-Projects", "Code-Review"),
        ("All-Projects", "Verified"),
        ("All-Projects", "Workflow"),
    ]
    missing = httpx.get(f"{server.url}projects/nova/labels/Code-Review")
    assert missing.status_code == 404 and "PUT it here to override" in missing.text


def test_a_project_adds_a_review_category_and_overrides_an_inherited_label(
    server: LiveServer,
) -> None:
    put(server, "projects/nova", {}, auth=server.admin)
    put(server, "projects/nova-client", {"parent": "nova"}, auth=server.admin)

    created = decode(
        label_put(
            server,
            "projects/nova/labels/Backport-Candidate",
            {
                "values": {"-1": "No", " 0": "Maybe", "+1": "Yes"},
                "function": "NoBlock",
                "description": "Should this go to stable branches?",
                "copy_all_scores_if_no_change": False,
            },
            auth=server.admin,
        ),
        201,
    )
    assert created["function"] == "NoBlock"
    assert created["project_name"] == "nova"
    assert "copy_all_scores_if_no_change" not in created
    overridden = decode(
        label_put(
            server,
            "projects/nova/labels/Verified",
            {"values": {"-1": "Fails", " 0": "No score", "+1": "Works for me"}},
            auth=server.admin,
        ),
        201,
    )
    assert overridden["values"] == {"-1": "Fails", " 0": "No score", "+1": "Works for me"}

    # The override keeps Verified's place; the project's own labels come after.
    assert names(server, "nova") == ["Code-Review", "Verified", "Workflow", "Backport-Candidate"]
    assert names(server, "nova-client") == names(server, "nova")
    assert names(server, "All-Projects") == ["Code-Review", "Verified", "Workflow"]
    verified = server.services.labels.find("nova-client", "verified")
    assert verified is not None and (verified.min, verified.max) == (-1, 1)
    nova = server.services.projects.get("nova")
    bots = server.services.accounts.get("zuul")  # the site's CI account, a Service User
    # Service Users' -2..+2 grant is clipped to the label's values in nova.
    assert server.services.permissions.label_range(bots, nova, "Verified", "refs/heads/master") == (
        -1,
        1,
    )

    updated = decode(
        label_put(
            server,
            "projects/nova/labels/Backport-Candidate",
            {"function": "MaxNoBlock", "copy_max_score": True},
            auth=server.admin,
        ),
        200,
    )
    assert updated["function"] == "MaxNoBlock" and updated["copy_max_score"] is True
    assert updated["values"] == created["values"]
    assert updated["description"] == "Should this go to stable branches?"
    renamed = decode(
        label_put(
            server,
            "projects/nova/labels/Backport-Candidate",
            {"name": "Backport"},
            auth=server.admin,
        ),
        200,
    )
    assert renamed["name"] == "Backport"
    assert [d["name"] for d in get(server, "projects/nova/labels/")] == ["Backport", "Verified"]

    deleted = httpx.delete(f"{server.url}a/projects/nova/labels/Verified", auth=server.admin)
    assert deleted.status_code == 204
    verified = server.services.labels.find("nova", "Verified")
    assert verified is not None and verified.max == 2
    again = httpx.delete(f"{server.url}a/projects/nova/labels/Verified", auth=server.admin)
    assert again.status_code == 404


def test_bad_label_definitions_are_refused_and_write_nothing(server: LiveServer) -> None:
    alice = make_user(server, "alice")
    put(server, "projects/nova", {}, auth=server.admin)
    put(server, "projects/nova-child", {"parent": "nova"}, auth=server.admin)
    decode(
        label_put(
            server,
            "projects/nova/labels/Locked",
            {"values": {" 0": "No score", "+1": "Yes"}, "can_override": False},
            auth=server.admin,
        ),
        201,
    )
    before = get(server, "projects/nova/labels/", inherited="")
    values = {" 0": "No score", "+1": "Yes"}
    refusals: list[tuple[str, dict[str, Any], tuple[str, str], int, str]] = [
        ("nova/labels/Ok", {"values": values}, alice, 403, "only owners"),
        ("nova/labels/New", {}, server.admin, 400, "needs values"),
        ("nova/labels/-Bad", {"values": values}, server.admin, 400, "invalid label name"),
        ("nova/labels/Bad_Name", {"values": values}, server.admin, 400, "invalid label name"),
        (
            "nova/labels/F",
            {"values": values, "function": "Maybe"},
            server.admin,
            400,
            "MaxWithBlock",
        ),
        ("nova/labels/V", {"values": {"+x": "?"}}, server.admin, 400, "invalid value '+x'"),
        ("nova/labels/V", {"values": {"1": "a", "+1": "b"}}, server.admin, 400, "given twice"),
        ("nova/labels/V", {"values": {"+1": ""}}, server.admin, 400, "needs a description"),
        (
            "nova/labels/D",
            {"values": {"+1": "Yes", "+2": "Sure"}},
            server.admin,
            400,
            "default_value 0 is not one of",
        ),
        (
            "nova/labels/B",
            {"values": values, "branches": ["master"]},
            server.admin,
            400,
            "branches is not supported",
        ),
        (
            "nova/labels/Fresh",
            {"values": values, "name": "LOCKED"},
            server.admin,
            409,
            "already exists",
        ),
        (
            "nova-child/labels/Locked",
            {"values": values},
            server.admin,
            409,
            "may not be overridden",
        ),
    ]
    for path, body, auth, status, words in refusals:
        response = label_put(server, f"projects/{path}", body, auth=auth)
        assert response.status_code == status, (path, body, response.text)
        assert words in response.text, response.text
    refused = httpx.delete(f"{server.url}a/projects/nova/labels/Locked", auth=alice)
    assert refused.status_code == 403

    assert get(server, "projects/nova/labels/", inherited="") == before
    assert get(server, "projects/nova-child/labels/") == []

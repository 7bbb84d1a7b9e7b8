"""Project access through the REST API, on SQLite and PostgreSQL: All-Projects'
defaults, grants to a project's core group, who may change access, and that a
refused change writes nothing."""

from __future__ import annotations

from typing import Any

import httpx

from lockgate.core.review.model import Account, Project
from lockgate.testing.server import LiveServer
from tests.system.rest import decode, get, make_user, put

REGISTERED = "global:Registered-Users"


def post(server: LiveServer, path: str, body: dict[str, Any], *, auth: tuple[str, str]) -> Any:
    return httpx.post(f"{server.url}a/{path}", json=body, auth=auth)


def grant(ref: str, **permissions: dict[str, Any]) -> dict[str, Any]:
    return {ref: {"permissions": {k.replace("_", "-"): v for k, v in permissions.items()}}}


def rules(*groups: str, **fields: Any) -> dict[str, Any]:
    return {"rules": {g: {"action": "ALLOW", **fields} for g in groups}}


def group(server: LiveServer, name: str, *members: str) -> str:
    """A group made through the API, with `members`; returns its UUID."""
    made = put(server, f"groups/{name}", {}, auth=server.admin)
    for member in members:
        put(server, f"groups/{name}/members/{member}", auth=server.admin)
    return str(made["id"])


def account(server: LiveServer, name: str) -> Account:
    return server.services.accounts.get(name)


def project(server: LiveServer, name: str) -> Project:
    return server.services.projects.get(name)


def test_all_projects_carries_the_openstack_defaults(server: LiveServer) -> None:
    alice = make_user(server, "alice")
    bots = server.services.accounts.group("Service Users").uuid

    seen = get(server, "projects/All-Projects/access", auth=server.admin)

    assert "inherits_from" not in seen
    local = seen["local"]
    assert local["refs/*"]["permissions"]["read"]["rules"] == {
        "global:Anonymous-Users": {"action": "ALLOW"}
    }
    assert local["refs/for/*"]["permissions"]["push"]["rules"] == {REGISTERED: {"action": "ALLOW"}}
    heads = local["refs/heads/*"]["permissions"]
    assert heads["label-Code-Review"]["label"] == "Code-Review"
    assert heads["label-Code-Review"]["rules"][REGISTERED] == {
        "action": "ALLOW",
        "min": -1,
        "max": 1,
    }
    assert heads["label-Verified"]["rules"] == {bots: {"action": "ALLOW", "min": -2, "max": 2}}
    assert heads["label-Workflow"]["rules"]["global:Change-Owner"] == {
        "action": "ALLOW",
        "min": -1,
        "max": 0,
    }
    assert bots in heads["submit"]["rules"]
    assert seen["groups"]["global:Project-Owners"] == {"options": {}, "name": "Project Owners"}
    assert seen["groups"][bots]["name"] == "Service Users"
    assert seen["is_owner"] is True and seen["config_visible"] is True
    assert "refs/*" in seen["owner_of"]

    as_alice = get(server, "projects/All-Projects/access", auth=alice)
    assert "is_owner" not in as_alice and as_alice["owner_of"] == []
    assert as_alice["can_upload"] is True and "can_add" not in as_alice
    anonymous = get(server, "projects/All-Projects/access")
    assert "can_upload" not in anonymous
    listed = get(server, "access/", project="All-Projects")
    assert list(listed) == ["All-Projects"]
    assert listed["All-Projects"]["revision"] == seen["revision"]


def test_a_core_group_granted_through_post_access_gets_exactly_those_ranges(
    server: LiveServer,
) -> None:
    for name in ("carol", "paul"):
        make_user(server, name)
    core = group(server, "nova-core", "carol")
    # zuul is the site's CI account, a Service User from the start.
    put(server, "projects/nova", {"create_empty_commit": True}, auth=server.admin)

    changed = decode(
        post(
            server,
            "projects/nova/access",
            {
                "add": grant(
                    "refs/heads/*",
                    label_Code_Review=rules(core, min=-2, max=2),
                    label_Workflow=rules(core, min=-1, max=1),
                    submit=rules(core),
                )
            },
            auth=server.admin,
        )
    )

    assert changed["inherits_from"]["name"] == "All-Projects"
    assert changed["groups"][core]["name"] == "nova-core"
    assert changed["local"]["refs/heads/*"]["permissions"]["submit"]["rules"] == {
        core: {"action": "ALLOW"}
    }
    permissions = server.services.permissions
    nova = project(server, "nova")
    ref = "refs/heads/master"

    def ranges(name: str) -> dict[str, tuple[int, int] | None]:
        who = permissions.caller(account(server, name))
        return {
            label: permissions.label_range(who, nova, label, ref)
            for label in ("Code-Review", "Verified", "Workflow")
        }

    assert ranges("carol") == {"Code-Review": (-2, 2), "Verified": None, "Workflow": (-1, 1)}
    assert ranges("paul") == {"Code-Review": (-1, 1), "Verified": None, "Workflow": None}
    assert ranges("zuul") == {"Code-Review": (-1, 1), "Verified": (-2, 2), "Workflow": None}
    assert permissions.check(account(server, "carol"), nova, "submit", ref)
    assert permissions.check(account(server, "zuul"), nova, "submit", ref)
    assert not permissions.check(account(server, "paul"), nova, "submit", ref)
    # The grant is nova's own: other projects keep the defaults.
    put(server, "projects/glance", {}, auth=server.admin)
    glance = project(server, "glance")
    assert permissions.label_range(account(server, "carol"), glance, "Code-Review", ref) == (-1, 1)


def test_a_refused_access_change_writes_nothing(server: LiveServer) -> None:
    alice = make_user(server, "alice")
    core = group(server, "nova-core")
    put(server, "projects/nova", {}, auth=server.admin)
    put(server, "projects/other", {}, auth=server.admin)
    before = get(server, "projects/nova/access", auth=server.admin)
    good = rules(core, min=-2, max=2)
    refusals: list[tuple[tuple[str, str], dict[str, Any], int, str]] = [
        (alice, {"add": grant("refs/heads/*", read=rules(REGISTERED))}, 403, "only owners"),
        (
            server.admin,
            {"add": grant("refs/heads/*", label_Code_Review=good, pushh=rules(core))},
            400,
            "unknown permission 'pushh'",
        ),
        (server.admin, {"add": grant("heads/*", read=rules(core))}, 400, "must start with refs/"),
        (server.admin, {"add": grant("^refs/(", read=rules(core))}, 400, "invalid regular"),
        (
            server.admin,
            {"add": grant("refs/heads/*", read=rules("nova-core"))},
            400,
            f"use {core} for nova-core",
        ),
        (
            server.admin,
            {"add": grant("refs/heads/*", label_Code_Review=rules(core, min=-3, max=2))},
            400,
            "outside the label's values -2..+2",
        ),
        (
            server.admin,
            {"add": grant("refs/heads/*", label_Nope=rules(core, min=-1, max=1))},
            400,
            "has no label Nope",
        ),
        (
            server.admin,
            {"add": grant("refs/heads/*", read=rules(core)), "parent": "missing"},
            400,
            "parent project missing not found",
        ),
        (
            server.admin,
            {"add": grant("refs/heads/*", read=rules(core, action="MAYBE"))},
            400,
            "is not one of ALLOW, DENY, BLOCK",
        ),
    ]
    for auth, body, status, words in refusals:
        response = post(server, "projects/nova/access", body, auth=auth)
        assert response.status_code == status, (body, response.text)
        assert words in response.text, response.text
    # An owner may change access but not the parent.
    owners = group(server, "nova-owners", "alice")
    decode(
        post(
            server,
            "projects/nova/access",
            {"add": grant("refs/*", owner=rules(owners))},
            auth=server.admin,
        )
    )
    owned = get(server, "projects/nova/access", auth=server.admin)
    refused = post(
        server,
        "projects/nova/access",
        {"add": grant("refs/heads/*", read=rules(core)), "parent": "other"},
        auth=alice,
    )
    assert refused.status_code == 403 and "only administrators" in refused.text
    cycle = post(server, "projects/All-Projects/access", {"parent": "nova"}, auth=server.admin)
    assert cycle.status_code == 400 and "takes no parent" in cycle.text

    after = get(server, "projects/nova/access", auth=server.admin)
    assert after == owned
    assert before["local"] == {}
    assert project(server, "nova").parent == "All-Projects"


def test_project_owners_edit_access_and_the_parent_chain_is_followed(
    server: LiveServer,
) -> None:
    alice = make_user(server, "alice")
    bob = make_user(server, "bob")
    owners = group(server, "openstack-owners", "alice")
    put(server, "projects/openstack", {"owners": ["openstack-owners"]}, auth=server.admin)
    put(server, "projects/nova", {"parent": "openstack"}, auth=server.admin)
    permissions = server.services.permissions
    nova = project(server, "nova")

    # Ownership is inherited: alice owns nova through its parent.
    seen = get(server, "projects/nova/access", auth=alice)
    assert seen["is_owner"] is True
    assert seen["inherits_from"]["name"] == "openstack"
    assert get(server, "projects/openstack/access", auth=alice)["local"]["refs/*"] == {
        "permissions": {"owner": {"rules": {owners: {"action": "ALLOW"}}}}
    }
    # Project Owners get All-Projects' grants to them on projects they own.
    ref = "refs/heads/master"
    assert permissions.label_range(account(server, "alice"), nova, "Code-Review", ref) == (-2, 2)
    assert permissions.label_range(account(server, "bob"), nova, "Code-Review", ref) == (-1, 1)

    blocked = post(
        server,
        "projects/nova/access",
        {"add": grant("refs/heads/*", label_Code_Review=rules(REGISTERED, min=-2, max=2))},
        auth=bob,
    )
    assert blocked.status_code == 403
    decode(
        post(
            server,
            "projects/nova/access",
            {
                "add": grant(
                    "refs/heads/stable/*",
                    label_Code_Review={
                        "rules": {REGISTERED: {"action": "BLOCK", "min": -2, "max": 2}}
                    },
                )
            },
            auth=alice,
        )
    )
    stable = "refs/heads/stable/2024.1"
    assert permissions.label_range(account(server, "bob"), nova, "Code-Review", ref) == (-1, 1)
    # BLOCK -2..+2 cuts the extremes off for everyone in the group, owners included.
    assert permissions.label_range(account(server, "alice"), nova, "Code-Review", stable) == (
        -1,
        1,
    )

    # Removing at the finest level given: a rule, then the whole section.
    removed = decode(
        post(
            server,
            "projects/nova/access",
            {"remove": {"refs/heads/stable/*": {}}},
            auth=alice,
        )
    )
    assert removed["local"] == {}
    assert permissions.label_range(account(server, "alice"), nova, "Code-Review", stable) == (
        -2,
        2,
    )

    # An administrator moves nova under All-Projects: alice no longer owns it.
    moved = decode(
        post(server, "projects/nova/access", {"parent": "All-Projects"}, auth=server.admin)
    )
    assert moved["inherits_from"]["name"] == "All-Projects"
    assert "is_owner" not in get(server, "projects/nova/access", auth=alice)
    assert not permissions.is_owner(account(server, "alice"), project(server, "nova"))
    under_nova = post(server, "projects/openstack/access", {"parent": "nova"}, auth=server.admin)
    assert under_nova.status_code == 200, under_nova.text
    back = post(server, "projects/nova/access", {"parent": "openstack"}, auth=server.admin)
    assert back.status_code == 400 and "would make a cycle" in back.text


def test_exclusive_read_hides_a_ref_from_everyone_else(server: LiveServer) -> None:
    carol = make_user(server, "carol")
    make_user(server, "paul")
    core = group(server, "nova-core", "carol")
    put(server, "projects/nova", {}, auth=server.admin)

    decode(
        post(
            server,
            "projects/nova/access",
            {"add": grant("refs/heads/secret/*", read={"exclusive": True, **rules(core)})},
            auth=server.admin,
        )
    )

    permissions = server.services.permissions
    nova = project(server, "nova")
    secret = "refs/heads/secret/plan"
    assert permissions.check(account(server, "carol"), nova, "read", secret)
    assert not permissions.check(account(server, "paul"), nova, "read", secret)
    assert permissions.check(account(server, "paul"), nova, "read", "refs/heads/master")
    assert "refs/heads/secret/*" in get(server, "projects/nova/access", auth=carol)["local"]
    hidden = get(server, "projects/nova/access", auth=("paul", "pw-paul"))
    assert hidden["local"] == {}

"""Projects through Gerrit's REST shapes: created by administrators with their
repositories, listed with Gerrit's filters, their branches and HEAD."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from lockgate.testing.server import LiveServer
from tests.system.rest import get, make_user, put


def test_an_administrator_creates_a_project_with_branches(
    server: LiveServer, tmp_path: Path
) -> None:
    created = put(
        server,
        "projects/team%2Fdemo",
        {
            "name": "team/demo",
            "description": "A demo",
            "create_empty_commit": True,
            "branches": ["main", "refs/heads/stable"],
            "submit_type": "REBASE_IF_NECESSARY",
            "owners": ["Administrators"],
        },
        auth=server.admin,
    )
    assert created == {
        "id": "team%2Fdemo",
        "name": "team/demo",
        "parent": "All-Projects",
        "description": "A demo",
        "state": "ACTIVE",
    }
    assert get(server, "projects/team%2Fdemo") == created
    assert get(server, "projects/team%2Fdemo.git") == created
    assert get(server, "projects/team%2Fdemo/HEAD") == "refs/heads/main"

    branches = get(server, "projects/team%2Fdemo/branches/")
    tip = branches[1]["revision"]
    assert branches == [
        {"ref": "HEAD", "revision": "main"},
        {"ref": "refs/heads/main", "revision": tip},
        {"ref": "refs/heads/stable", "revision": tip},
    ]
    assert get(server, "projects/team%2Fdemo/branches/stable") == branches[2]
    assert get(server, "projects/team%2Fdemo/branches/", auth=server.admin)[1]["can_delete"]
    assert get(server, "projects/team%2Fdemo/branches/", m="STAB") == [branches[2]]

    # The repository is real: git clones it over HTTP.
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", f"{server.url}team/demo", str(clone)], check=True)
    head = subprocess.run(
        ["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    )
    assert head.stdout.strip() == tip

    # A change gets the project's submit type.
    assert server.services.projects.get("team/demo").submit_type.value == "REBASE_IF_NECESSARY"


def test_project_input_errors_name_the_problem(server: LiveServer) -> None:
    def refused(path: str, body: dict[str, object]) -> httpx.Response:
        return httpx.put(f"{server.url}a/projects/{path}", json=body, auth=server.admin)

    bad_type = refused("p1", {"submit_type": "YOLO"})
    assert bad_type.status_code == 400 and "YOLO" in bad_type.text
    bad_name = refused("bad%20name", {})
    assert bad_name.status_code == 400 and "invalid project name" in bad_name.text
    no_parent = refused("p2", {"parent": "Nowhere"})
    assert no_parent.status_code == 400 and "Nowhere" in no_parent.text
    wrong_type = refused("p3", {"create_empty_commit": "maybe"})
    assert wrong_type.status_code == 400 and "create_empty_commit" in wrong_type.text
    mismatch = refused("p4", {"name": "other"})
    assert mismatch.status_code == 400 and "must match" in mismatch.text
    garbage = httpx.put(f"{server.url}a/projects/p5", content=b"{not json", auth=server.admin)
    assert garbage.status_code == 400 and "JSON" in garbage.text
    names = set(get(server, "projects/"))
    assert names == {"All-Projects", "All-Users", "project-config"}  # nothing was created

    put(server, "projects/p6", {}, auth=server.admin)
    assert refused("p6", {}).status_code == 409

    alice = make_user(server, "alice")
    forbidden = httpx.put(f"{server.url}a/projects/p7", json={}, auth=alice)
    assert forbidden.status_code == 403 and "create project" in forbidden.text


def test_project_listing_filters(server: LiveServer) -> None:
    for name, description in (
        ("apps/web", "The web app"),
        ("apps/api", None),
        ("libs/core", "Core library"),
    ):
        body = {"description": description} if description else {}
        put(server, f"projects/{name.replace('/', '%2F')}", body, auth=server.admin)
    put(server, "projects/libs%2Fempty", {"create_empty_commit": True}, auth=server.admin)

    plain = get(server, "projects/")
    assert list(plain) == [
        "All-Projects",
        "All-Users",
        "apps/api",
        "apps/web",
        "libs/core",
        "libs/empty",
        "project-config",
    ]
    assert plain["apps/web"] == {"id": "apps%2Fweb", "state": "ACTIVE"}
    described = get(server, "projects/", d="")
    assert described["apps/web"]["description"] == "The web app"
    assert "description" not in described["apps/api"]
    assert get(server, "projects/", t="")["apps/web"]["parent"] == "All-Projects"

    assert list(get(server, "projects/", p="apps/")) == ["apps/api", "apps/web"]
    assert list(get(server, "projects/", m="CORE")) == ["libs/core"]
    assert list(get(server, "projects/", r="libs/.*")) == ["libs/core", "libs/empty"]
    assert list(get(server, "projects/", r="libs")) == []  # the regex matches whole names
    assert list(get(server, "projects/", n="2", S="2")) == ["apps/api", "apps/web"]
    with_branch = get(server, "projects/", p="libs/", b="master")
    assert "branches" not in with_branch["libs/core"] or with_branch["libs/core"]["branches"] == {}
    assert len(with_branch["libs/empty"]["branches"]["master"]) == 40

    both = httpx.get(f"{server.url}projects/", params={"p": "a", "m": "b"})
    assert both.status_code == 400 and "p and m" in both.text
    bad = httpx.get(f"{server.url}projects/", params={"r": "("})
    assert bad.status_code == 400 and "regular expression" in bad.text
    assert httpx.get(f"{server.url}projects/nope").status_code == 404
    assert httpx.get(f"{server.url}projects/nope/branches/").status_code == 404

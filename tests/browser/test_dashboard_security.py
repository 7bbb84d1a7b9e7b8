"""What the search, dashboard, project and admin pages must never do: show a
private change or an unreadable project to someone who may not read it, run
markup from a subject, take a form without its CSRF token, or show webhooks'
deliveries to anyone but administrators. Plain HTTP: no browser is needed to
read what a page holds."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from lockgate.testing.server import free_port, serve_site
from tests.browser.review_world import SECRET_PROJECT, build_world
from tests.system.events import eventually
from tests.system.receiver import add_webhook, new_site
from tests.system.rest import decode
from tests.system.reviewing import PROJECT

Credentials = tuple[str, str] | None


def html(base: str, path: str, auth: Credentials, status: int = 200) -> str:
    response = httpx.get(f"{base}{path}", auth=auth)
    assert response.status_code == status, f"{path} as {auth}: {response.status_code}"
    return response.text


def sign_in(client: httpx.Client, credentials: tuple[str, str]) -> str:
    """Sign a browser-like client in through the form; its session's token."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    username, password = credentials
    client.post("/login", data={"csrf_token": token[1], "username": username, "password": password})
    session = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/settings").text)
    assert session is not None
    return session[1]


def test_pages_show_only_what_the_viewer_may_read_and_forms_need_their_token(
    tmp_path: Path,
) -> None:
    site = new_site(tmp_path, "sqlite:///db/lockgate.db")
    add_webhook(site, "ci", f"http://127.0.0.1:{free_port()}/nobody-listens")
    with serve_site(site) as server:
        world = build_world(server)
        base = server.url
        team = world.team
        anonymous: Credentials = None
        readers: dict[str, Credentials] = {"anonymous": anonymous, "bob": team.bob}

        # Private changes and unreadable projects: not in search, dashboards, lists.
        for who, auth in readers.items():
            found = html(base, "q/status:open+-owner:bob", auth)
            assert "Break the build" in found, who
            assert "Private plans" not in found, who
            assert "Secret work" not in found, who
            assert "Secret work" not in html(base, f"q/project:{SECRET_PROJECT}", auth)
            assert "Private plans" not in html(base, "q/is:private", auth)
            projects = html(base, "admin/repos", auth)
            assert PROJECT in projects and SECRET_PROJECT not in projects, who
            html(base, f"admin/repos/{SECRET_PROJECT}", auth, status=404)
            html(base, f"admin/repos/{SECRET_PROJECT},access", auth, status=404)
            assert "secret-team" not in html(base, "admin/groups", auth)
            html(base, "admin/groups/secret-team", auth, status=404)
        alices = html(base, "dashboard/alice", team.bob)
        assert "Break the build" in alices and "Private plans" not in alices
        assert "Private plans" in html(base, "dashboard/self", team.alice)
        assert "Secret work" not in html(base, "q/status:open+-owner:bob", team.alice)
        # The REST API's project list leaves the unreadable project out too.
        listed = decode(httpx.get(f"{base}projects/"))
        assert PROJECT in listed and SECRET_PROJECT not in listed
        for_admin = html(base, "q/status:open+-owner:bob", team.core)
        assert "Private plans" in for_admin and "Secret work" in for_admin
        assert SECRET_PROJECT in html(base, "admin/repos", team.core)
        assert "Not for all" in html(base, f"admin/repos/{SECRET_PROJECT}", team.core)
        assert "secret-team" in html(base, "admin/groups", team.core)

        # Markup in a subject is text.
        bobs = html(base, "q/owner:bob+limit:50", anonymous)
        assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt; Fix &lt;b&gt;bold" in bobs
        assert "<script>alert" not in bobs and "<b>bold" not in bobs

        # Forms refuse a POST without the session's token, and change nothing.
        group = decode(httpx.get(f"{base}a/groups/secret-team", auth=server.admin))
        access_path = f"admin/repos/{PROJECT},access"
        members_path = f"admin/groups/{group['id']}"
        rule = {
            "do": "add",
            "ref": "refs/heads/*",
            "permission": "submit",
            "group": "secret-team",
            "action": "ALLOW",
        }

        def access_revision() -> str:
            revision: str = decode(
                httpx.get(f"{base}a/projects/team%2Fdemo/access", auth=server.admin)
            )["revision"]
            return revision

        def members() -> set[str]:
            found = decode(httpx.get(f"{base}a/groups/{group['id']}/members/", auth=server.admin))
            return {m["username"] for m in found}

        before = (access_revision(), members())
        with httpx.Client(base_url=base) as client:
            token = sign_in(client, server.admin)
            for forged in ({}, {"csrf_token": "not-the-token"}):
                refused = client.post(access_path, data={**rule, **forged})
                assert refused.status_code == 403 and "security token" in refused.text
                refused = client.post(members_path, data={"do": "add", "account": "bob", **forged})
                assert refused.status_code == 403
            assert (access_revision(), members()) == before
            # The same forms with the token do what they say.
            assert client.post(access_path, data={**rule, "csrf_token": token}).status_code == 303
            added = client.post(
                members_path, data={"do": "add", "account": "bob", "csrf_token": token}
            )
            assert added.status_code == 303
            assert access_revision() != before[0] and members() == before[1] | {"bob"}

        # Webhooks' deliveries: for administrators, the data the REST API gives.
        login = httpx.get(f"{base}admin/webhooks")
        assert login.status_code == 303 and login.headers["location"].startswith("/login?next=")
        html(base, "admin/webhooks", team.bob, status=403)
        assert 'href="/admin/webhooks"' not in html(base, "admin/repos", team.bob)
        assert 'href="/admin/webhooks"' in html(base, "admin/repos", server.admin)
        html(base, "admin/webhooks/ci", team.bob, status=403)
        assert "nobody-listens" in html(base, "admin/webhooks", server.admin)

        def deliveries() -> list[dict[str, object]]:
            return list(
                decode(
                    httpx.get(
                        f"{base}a/config/server/webhooks/ci/deliveries",
                        params={"n": 25},
                        auth=server.admin,
                    )
                )
            )

        eventually(lambda: len(deliveries()) >= 2, "failed deliveries recorded")
        shown = deliveries()
        page = html(base, "admin/webhooks/ci", server.admin)
        rows = re.findall(r'<tr class="delivery">', page)
        assert len(rows) >= len(shown) >= 2
        assert "failed" in page and "delivered" not in page.split("<tbody>", 1)[1]
        html(base, "admin/webhooks/nothing-such", server.admin, status=404)

"""What the REST API answers to bad requests: 400s that name the problem, 404 for
what does not exist, 401 with a Basic challenge under /a/, 403 for what the
caller may not do; and a refused request changes nothing."""

from __future__ import annotations

import httpx
import pytest

from lockgate.testing.seed import seed_change
from lockgate.testing.server import LiveServer
from tests.system.rest import decode, get, make_user, put


@pytest.fixture
def demo(server: LiveServer) -> LiveServer:
    put(server, "projects/demo", {"create_empty_commit": True}, auth=server.admin)
    make_user(server, "alice")
    return server


def test_a_malformed_query_is_a_400_naming_the_token(demo: LiveServer) -> None:
    response = httpx.get(f"{demo.url}changes/", params={"q": "status:open (owner:alice"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert "(" in response.text
    unknown = httpx.get(f"{demo.url}changes/", params={"q": "colour:blue"})
    assert unknown.status_code == 400 and "colour" in unknown.text


def test_bad_parameters_are_400s_naming_them(demo: LiveServer) -> None:
    seeded = seed_change(demo.services, "demo", owner="alice", subject="Present")
    option = httpx.get(f"{demo.url}changes/{seeded.change_number}", params={"o": "EVERYTHING"})
    assert option.status_code == 400 and '"EVERYTHING" is not a valid value for "o"' in option.text
    listed = httpx.get(f"{demo.url}changes/", params={"q": "status:open", "o": "NOPE"})
    assert listed.status_code == 400 and "NOPE" in listed.text
    limit = httpx.get(f"{demo.url}changes/", params={"q": "status:open", "n": "ten"})
    assert limit.status_code == 400 and "n=ten" in limit.text
    start = httpx.get(f"{demo.url}changes/", params={"q": "status:open", "S": "-1"})
    assert start.status_code == 400 and "S=-1" in start.text
    # Options may be given in any case and comma separated, as Gerrit takes them.
    fine = get(demo, f"changes/{seeded.change_number}", o="current_revision,MESSAGES")
    assert "revisions" in fine and "messages" in fine


def test_unknown_changes_and_revisions_are_404(demo: LiveServer) -> None:
    seeded = seed_change(demo.services, "demo", owner="alice", subject="Present")
    for path in (
        "changes/999",
        "changes/demo~999",
        "changes/nope~1",
        f"changes/demo~master~I{'0' * 40}",
        f"changes/I{'1' * 40}",
        "changes/999/detail",
        "changes/999/revisions/current/files",
        f"changes/{seeded.change_number}/revisions/7/commit",
        f"changes/{seeded.change_number}/revisions/deadbeef/related",
        f"changes/{seeded.change_number}/messages/nope",
        "accounts/nobody",
        "groups/nobody",
        "projects/nope",
    ):
        response = httpx.get(f"{demo.url}{path}")
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/plain"), path
    assert httpx.get(f"{demo.url}a/changes/999", auth=demo.admin).status_code == 404


@pytest.mark.parametrize(
    "path", ["changes/", "accounts/self", "projects/", "config/server/version", "changes/1"]
)
def test_a_prefix_without_or_with_wrong_credentials_is_a_401_challenge(
    sqlite_server: LiveServer, path: str
) -> None:
    for auth in (None, ("admin", "wrong"), ("nobody", "x")):
        response = httpx.get(f"{sqlite_server.url}a/{path}", auth=auth)
        assert response.status_code == 401, (path, auth)
        assert response.headers["www-authenticate"] == 'Basic realm="lockgate"'
    assert httpx.get(f"{sqlite_server.url}a/{path}", auth=sqlite_server.admin).status_code in (
        200,
        404,
    )


def test_public_endpoints_ignore_a_bad_authorization_header(sqlite_server: LiveServer) -> None:
    # git-review sends the URL's user name with an empty password.
    response = httpx.get(f"{sqlite_server.url}changes/", auth=("someone", ""))
    assert decode(response) == []
    me = httpx.get(f"{sqlite_server.url}accounts/self")
    assert me.status_code == 401 and me.headers["www-authenticate"].startswith("Basic")


def test_non_administrators_are_refused_and_nothing_changes(demo: LiveServer) -> None:
    alice = ("alice", "pw-alice")
    for path in ("accounts/mallory", "groups/cabal", "projects/sneaky"):
        response = httpx.put(f"{demo.url}a/{path}", json={}, auth=alice)
        assert response.status_code == 403, path
        assert "Administrators" in response.text
    assert httpx.get(f"{demo.url}accounts/mallory").status_code == 404
    assert "cabal" not in get(demo, "groups/", auth=demo.admin)
    assert "sneaky" not in get(demo, "projects/")
    anonymous = httpx.put(f"{demo.url}accounts/mallory", json={})
    assert anonymous.status_code == 401


def test_malformed_bodies_are_400(demo: LiveServer) -> None:
    for body in (b"{", b"[1, 2]", b'"text"'):
        response = httpx.put(
            f"{demo.url}a/accounts/bob",
            content=body,
            headers={"content-type": "application/json"},
            auth=demo.admin,
        )
        assert response.status_code == 400, body
        assert "JSON" in response.text
    wrong = httpx.put(f"{demo.url}a/accounts/bob", json={"groups": "devs"}, auth=demo.admin)
    assert wrong.status_code == 400 and "groups" in wrong.text
    both = httpx.put(
        f"{demo.url}a/accounts/self/password.http",
        json={"generate": True, "http_password": "x"},
        auth=("alice", "pw-alice"),
    )
    assert both.status_code == 400
    assert httpx.get(f"{demo.url}accounts/bob").status_code == 404


def test_server_version_info_and_hook(sqlite_server: LiveServer) -> None:
    version = get(sqlite_server, "config/server/version")
    major, minor = (int(p) for p in version.split("-")[0].split(".")[:2])
    assert (major, minor) >= (3, 13)
    info = get(sqlite_server, "config/server/info")
    assert info["change"]["submit_whole_topic"] is False
    assert info["gerrit"]["all_projects"] == "All-Projects"
    schemes = info["download"]["schemes"]
    assert schemes["anonymous http"]["url"] == f"{sqlite_server.url}${{project}}"
    assert schemes["http"]["url"] == f"{sqlite_server.url}a/${{project}}"
    hook = httpx.get(f"{sqlite_server.url}tools/hooks/commit-msg")
    assert hook.status_code == 200 and hook.headers["content-type"].startswith("text/plain")
    assert hook.text.startswith("#!/bin/sh\n") and "Change-Id" in hook.text

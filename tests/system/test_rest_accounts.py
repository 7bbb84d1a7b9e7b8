"""Accounts and groups through Gerrit's REST shapes: created by administrators,
HTTP passwords that their owners rotate, account queries, group membership."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from lockgate.adapters.db import tables as t
from lockgate.testing.server import LiveServer
from tests.system.rest import decode, get, make_user, put


def test_an_administrator_creates_an_account_that_signs_in_with_its_password(
    server: LiveServer,
) -> None:
    created = put(
        server,
        "accounts/alice",
        {
            "username": "alice",
            "name": "Alice Liddell",
            "email": "alice@example.com",
            "http_password": "s3cret",
            "ssh_key": "ssh-ed25519 AAAA ignored",
        },
        auth=server.admin,
    )
    assert set(created) == {"_account_id", "name", "email", "username"}
    assert created["username"] == "alice" and created["name"] == "Alice Liddell"

    me = get(server, "accounts/self", auth=("alice", "s3cret"))
    assert me == created
    assert get(server, "accounts/alice") == created
    assert get(server, f"accounts/{created['_account_id']}") == created
    assert get(server, "accounts/alice%40example.com") == created
    detail = get(server, "accounts/self/detail", auth=("alice", "s3cret"))
    assert detail["registered_on"].endswith("000") and detail["username"] == "alice"

    # The password is kept only as a salted scrypt hash.
    with server.services.engine.connect() as conn:
        stored = conn.execute(
            select(t.accounts.c.http_password_hash).where(t.accounts.c.username == "alice")
        ).scalar_one()
    assert stored.startswith("scrypt$") and "s3cret" not in stored

    again = httpx.put(f"{server.url}a/accounts/alice", json={}, auth=server.admin)
    assert again.status_code == 409 and "alice" in again.text


def test_account_input_must_name_existing_groups_and_match_the_url(server: LiveServer) -> None:
    missing = httpx.put(f"{server.url}a/accounts/bob", json={"groups": ["Nope"]}, auth=server.admin)
    assert missing.status_code == 400 and "Nope" in missing.text
    mismatch = httpx.put(
        f"{server.url}a/accounts/bob", json={"username": "carol"}, auth=server.admin
    )
    assert mismatch.status_code == 400 and "must match" in mismatch.text
    assert httpx.get(f"{server.url}accounts/bob").status_code == 404

    put(server, "accounts/bob", {"groups": ["Service Users"]}, auth=server.admin)
    groups = get(server, "accounts/bob/groups")
    assert {g["name"] for g in groups} >= {"Service Users", "Registered Users"}


def test_a_user_rotates_and_deletes_their_own_http_password(server: LiveServer) -> None:
    alice = make_user(server, "alice")
    generated = put(
        server, "accounts/self/password.http", {"generate": True}, auth=alice, status=200
    )
    assert isinstance(generated, str) and len(generated) >= 20
    assert httpx.get(f"{server.url}a/accounts/self", auth=alice).status_code == 401
    new = ("alice", generated)
    assert get(server, "accounts/self", auth=new)["username"] == "alice"

    chosen = put(
        server, "accounts/self/password.http", {"http_password": "mine"}, auth=new, status=200
    )
    assert chosen == "mine"
    deleted = httpx.delete(f"{server.url}a/accounts/self/password.http", auth=("alice", "mine"))
    assert deleted.status_code == 204
    assert httpx.get(f"{server.url}a/accounts/self", auth=("alice", "mine")).status_code == 401


def test_only_administrators_change_other_accounts_passwords(server: LiveServer) -> None:
    alice = make_user(server, "alice")
    make_user(server, "bob")
    refused = httpx.put(
        f"{server.url}a/accounts/bob/password.http", json={"generate": True}, auth=alice
    )
    assert refused.status_code == 403 and "bob" in refused.text
    reset = put(
        server, "accounts/bob/password.http", {"generate": True}, auth=server.admin, status=200
    )
    assert get(server, "accounts/self", auth=("bob", reset))["username"] == "bob"


def test_account_queries(server: LiveServer) -> None:
    for name in ("alice", "alicia", "bob"):
        make_user(server, name)
    found = get(server, "accounts/", q="username:alice")
    assert found == [{"_account_id": server.services.accounts.get("alice").id}]
    detailed = get(server, "accounts/", q="ali", o="DETAILS")
    assert [a["username"] for a in detailed] == ["alice", "alicia"]
    assert (
        get(server, "accounts/", q="name:Bob email:bob@example.com", o="DETAILS")[0]["email"]
        == "bob@example.com"
    )
    first = get(server, "accounts/", q="is:active", n="2")
    assert len(first) == 2 and first[-1]["_more_accounts"] is True
    rest = get(server, "accounts/", q="is:active", n="2", S="3")
    # admin, the CI account zuul, alice, alicia, bob
    assert len(rest) == 2 and "_more_accounts" not in rest[-1]

    bad = httpx.get(f"{server.url}accounts/", params={"q": "colour:blue"})
    assert bad.status_code == 400 and "colour:blue" in bad.text
    assert httpx.get(f"{server.url}accounts/").status_code == 400


def test_groups_are_created_by_administrators_and_managed_by_their_owners(
    server: LiveServer,
) -> None:
    alice = make_user(server, "alice")
    make_user(server, "bob")
    builtin = get(server, "groups/", auth=server.admin)
    assert {"Administrators", "Registered Users", "Anonymous Users", "Service Users"} <= set(
        builtin
    )

    refused = httpx.put(f"{server.url}a/groups/devs", json={}, auth=alice)
    assert refused.status_code == 403 and "Administrators" in refused.text

    devs = put(
        server,
        "groups/devs",
        {"description": "Developers", "visible_to_all": True, "members": ["alice"]},
        auth=server.admin,
    )
    assert devs["name"] == "devs" and devs["description"] == "Developers"
    assert devs["options"] == {"visible_to_all": True}
    assert devs["owner"] == "devs"  # a group without an owner owns itself, as in Gerrit
    listed = get(server, "groups/")
    assert "devs" in listed and "name" not in listed["devs"]
    assert get(server, "groups/devs")["id"] == devs["id"]
    assert get(server, f"groups/{devs['id']}")["name"] == "devs"

    # alice, a member of the owning group, adds bob; adding him again is a 200.
    added = put(server, "groups/devs/members/bob", auth=alice, status=201)
    assert added["username"] == "bob"
    put(server, "groups/devs/members/bob", auth=alice, status=200)
    members = get(server, "groups/devs/members/")
    assert [m["username"] for m in members] == ["admin", "alice", "bob"]

    # Only administrators touch the built-in groups.
    denied = httpx.put(f"{server.url}a/groups/Service%20Users/members/alice", auth=alice)
    assert denied.status_code == 403 and "Service Users" in denied.text
    # Administrators is not visible to all: to others it does not exist.
    hidden = httpx.put(f"{server.url}a/groups/Administrators/members/alice", auth=alice)
    assert hidden.status_code == 404
    put(server, "groups/Administrators/members/alice", auth=server.admin)
    # ... after which alice may create accounts.
    put(server, "accounts/carol", {}, auth=alice)

    removed = httpx.delete(f"{server.url}a/groups/devs/members/bob", auth=server.admin)
    assert removed.status_code == 204
    assert [m["username"] for m in get(server, "groups/devs/members")] == ["admin", "alice"]
    dup = httpx.put(f"{server.url}a/groups/devs", json={}, auth=server.admin)
    assert dup.status_code == 409


def test_hidden_groups_are_shown_to_administrators_only(server: LiveServer) -> None:
    make_user(server, "alice")
    put(server, "groups/secret", {}, auth=server.admin)
    assert "secret" not in get(server, "groups/")
    assert httpx.get(f"{server.url}groups/secret").status_code == 404
    assert "secret" in get(server, "groups/", auth=server.admin)
    response = httpx.get(f"{server.url}a/groups/secret/members", auth=server.admin)
    assert [m["username"] for m in decode(response)] == ["admin"]

"""Webhooks: every event POSTed to a receiver on loopback, signed, in order,
retried until it is taken, and resumed from the database after a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lockgate.services.bootstrap import open_site
from lockgate.testing.server import LiveServer, free_port, serve_site
from tests.gitutil import contributor
from tests.system.events import eventually, push_change, topics
from tests.system.receiver import PROJECT, SECRET, Receiver, add_webhook, new_site
from tests.system.rest import decode, make_user


def api(server: LiveServer, path: str, auth: tuple[str, str] | None = None, **params: Any) -> Any:
    response = httpx.get(f"{server.url}a/{path}", params=params, auth=auth or server.admin)
    return decode(response)


def hooks(server: LiveServer) -> dict[str, dict[str, Any]]:
    return {hook["name"]: hook for hook in api(server, "config/server/webhooks")}


def seqs_of(server: LiveServer) -> list[int]:
    page = api(server, "events/", limit=1000)
    return [item["seq"] for item in page]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    # Odd seqs are refused twice before they are taken, to exercise the retries.
    with Receiver(
        SECRET.encode(), lambda seq, attempt: 503 if seq % 2 and attempt <= 2 else 200
    ) as r:
        yield r


def test_every_event_is_delivered_once_in_order_signed_after_retries(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    site = new_site(tmp_path, database_url)
    add_webhook(site, "ci", receiver.url)
    add_webhook(site, "down", f"http://127.0.0.1:{free_port()}/nobody")
    with serve_site(site) as server:
        alice = contributor(server, tmp_path, PROJECT, "alice")
        number = push_change(alice, "Hook me")
        topics(server.services, number, "one", "two", "three")
        expected = seqs_of(server)

        got = receiver.wait_for(len(expected))

        assert [g.seq for g in got] == expected
        assert receiver.bad_signatures == 0
        assert {g.webhook for g in got} == {"ci"}
        assert [g.type for g in got] == ["patchset-created"] + ["topic-changed"] * 3
        assert got[0].payload["change"]["number"] == number
        assert [g.attempt for g in got] == [3 if seq % 2 else 1 for seq in expected]

        eventually(lambda: hooks(server)["ci"]["lag"] == 0, "ci caught up")
        state = hooks(server)
        assert state["ci"] | {"url": None} == {
            "name": "ci",
            "url": None,
            "events": [],
            "projects": [],
            "delivered_seq": expected[-1],
            "last_seq": expected[-1],
            "lag": 0,
            "running": True,
        }
        # A receiver that is not there holds its webhook at the first event, retrying.
        assert state["down"]["delivered_seq"] == 0
        assert state["down"]["lag"] == expected[-1]
        eventually(
            lambda: len(api(server, "config/server/webhooks/down/deliveries")) >= 3,
            "attempts at the unreachable receiver",
        )
        down = api(server, "config/server/webhooks/down/deliveries")
        assert {d["event_seq"] for d in down} == {expected[0]}
        assert not any(d["succeeded"] for d in down)
        assert {d["status_code"] for d in down} == {None}
        assert all("ConnectError" in d["error"] for d in down)

        log = api(server, "config/server/webhooks/ci/deliveries")
        ids = [d["id"] for d in log]
        assert ids == sorted(ids, reverse=True), "newest first"
        oldest_first = [(d["event_seq"], d["attempt"], d["status_code"]) for d in reversed(log)]
        retried = [(expected[0], 1, 503), (expected[0], 2, 503), (expected[0], 3, 200)]
        assert oldest_first[:3] == retried
        assert log[0]["error"] is None and log[0]["succeeded"] is True
        assert all(d["error"] == "HTTP 503" for d in log if d["status_code"] == 503)
        page = api(server, "config/server/webhooks/ci/deliveries", n=2, S=1)
        assert [d["id"] for d in page] == ids[1:3]
        assert page[-1]["_more_deliveries"] is True


def test_only_administrators_read_webhooks(tmp_path: Path, receiver: Receiver) -> None:
    site = new_site(tmp_path, "sqlite:///db/lockgate.db")
    add_webhook(site, "ci", receiver.url)
    with serve_site(site) as server:
        bob = make_user(server, "bob")
        for path in ("config/server/webhooks", "config/server/webhooks/ci/deliveries"):
            refused = httpx.get(f"{server.url}a/{path}", auth=bob)
            assert refused.status_code == 403
            assert "bob is not in Administrators" in refused.text
            assert httpx.get(f"{server.url}a/{path}").status_code == 401
        missing = httpx.get(
            f"{server.url}a/config/server/webhooks/cd/deliveries", auth=server.admin
        )
        assert missing.status_code == 404
        assert "webhook cd (webhooks: ci)" in missing.text


def test_a_webhook_takes_only_its_event_types_and_projects(
    tmp_path: Path, receiver: Receiver
) -> None:
    site = new_site(tmp_path, "sqlite:///db/lockgate.db")
    secret = site / "hook.secret"
    secret.write_text(SECRET + "\n")
    add_webhook(
        site,
        "merges",
        receiver.url,
        secret_file="hook.secret",
        events=["patchset-created"],
        projects=[PROJECT],
    )
    with serve_site(site) as server:
        server.services.projects.create("other", create_empty_commit=True)
        alice = contributor(server, tmp_path, PROJECT, "alice")
        elsewhere = contributor(server, tmp_path, "other", "bob")
        number = push_change(alice, "Wanted")
        topics(server.services, number, "unwanted")
        push_change(elsewhere, "Other project")
        last = push_change(alice, "Wanted too")

        got = receiver.wait_for(2)
        eventually(lambda: hooks(server)["merges"]["lag"] == 0, "the webhook passed every event")
    assert [g.payload["change"]["number"] for g in got] == [number, last]
    assert receiver.bad_signatures == 0


def test_the_cursor_survives_a_restart_and_a_new_webhook_starts_at_the_end(
    tmp_path: Path, database_url: str
) -> None:
    site = new_site(tmp_path, database_url)
    with serve_site(site) as server:
        alice = contributor(server, tmp_path, PROJECT, "alice")
        number = push_change(alice, "Before the webhook")
        before = seqs_of(server)

    with Receiver(SECRET.encode()) as receiver:
        add_webhook(site, "ci", receiver.url)
        with serve_site(site) as server:
            eventually(lambda: hooks(server)["ci"]["delivered_seq"] is not None, "ci started")
            assert hooks(server)["ci"]["delivered_seq"] == before[-1]
            first = topics(server.services, number, "one", "two")
            assert [g.seq for g in receiver.wait_for(2)] == first
            eventually(lambda: hooks(server)["ci"]["lag"] == 0, "ci recorded its deliveries")

        # Written while no server runs: only the database knows of these.
        services = open_site(site)
        while_down = topics(services, number, "three", "four")
        services.close()

        with serve_site(site) as server:
            got = receiver.wait_for(4)
            eventually(lambda: hooks(server)["ci"]["lag"] == 0, "ci caught up")
    assert [g.seq for g in got] == first + while_down

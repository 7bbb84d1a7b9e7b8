"""The event stream at /a/events: server-sent events a consumer can leave and
resume without missing or repeating one, and its JSON catch-up form."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from lockgate.services.event_stream import EventStream
from lockgate.testing.server import LiveServer
from tests.gitutil import Contributor, contributor
from tests.system.events import eventually, push_change, topics
from tests.system.rest import decode, make_user
from tests.system.sse import EventReader

PROJECT = "stream"


def topic_of(received: object) -> str:
    return received.data["change"]["topic"]  # type: ignore[attr-defined, no-any-return]


@pytest.fixture
def alice(server: LiveServer, tmp_path: Path) -> Contributor:
    server.services.projects.create(PROJECT, create_empty_commit=True)
    return contributor(server, tmp_path, PROJECT, "alice")


def test_a_consumer_that_reconnects_gets_exactly_what_it_missed_in_order(
    server: LiveServer, alice: Contributor
) -> None:
    number = push_change(alice, "Stream me")
    first = topics(server.services, number, "t1", "t2", "t3", "t4")

    with EventReader(server, server.admin, params={"after": 0}) as reader:
        created = reader.next()
        seen = reader.take(2)
    assert created.type == "patchset-created"
    assert created.data["change"]["number"] == number
    assert [e.id for e in seen] == first[:2]
    assert [topic_of(e) for e in seen] == ["t1", "t2"]

    later = topics(server.services, number, "t5", "t6")

    # ?after=0 stays in the URL, as an EventSource keeps it: Last-Event-ID wins.
    with EventReader(server, server.admin, params={"after": 0}, last_event_id=seen[-1].id) as again:
        missed = again.take(4)
        marker = topics(server.services, number, "t7")
        after_marker = again.next()
    assert [e.id for e in missed] == first[2:] + later
    assert [topic_of(e) for e in missed] == ["t3", "t4", "t5", "t6"]
    assert after_marker.id == marker[0], "an event came twice or out of order"


def test_without_a_resume_point_the_stream_starts_with_new_events(
    server: LiveServer, alice: Contributor
) -> None:
    number = push_change(alice, "Old news")
    old = topics(server.services, number, "before")

    with EventReader(server, server.admin) as reader:
        assert reader.start == old[-1]
        new = topics(server.services, number, "after")
        received = reader.next()

    assert (received.id, topic_of(received)) == (new[0], "after")


def test_events_arrive_as_the_log_stored_them_text_and_line_breaks_intact(
    server: LiveServer, alice: Contributor
) -> None:
    number = push_change(alice, "Unicode")
    (named,) = topics(server.services, number, "café-ü-日本")
    # A row stored by an older writer, its JSON spread over lines: each SSE
    # event must still be one `data:` line.
    with server.services.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO events (type, created_at, project, change_number, payload) "
                "VALUES ('ref-updated', 0, NULL, NULL, :payload)"
            ),
            {"payload": '{\n  "type": "ref-updated",\n  "note": "two\\nlines"\n}'},
        )

    with EventReader(server, server.admin, params={"after": named - 1}) as reader:
        unicode, spread = reader.take(2)
    assert (unicode.id, topic_of(unicode)) == (named, "café-ü-日本")
    assert spread.data == {"type": "ref-updated", "note": "two\nlines"}


def test_after_and_type_filters_choose_the_events(server: LiveServer, alice: Contributor) -> None:
    number = push_change(alice, "Filtered")
    seqs = topics(server.services, number, "a", "b")

    with EventReader(
        server, server.admin, params={"after": 0, "type": ["patchset-created", "ref-updated"]}
    ) as reader:
        created = reader.next()
        second = push_change(alice, "Second")
        next_created = reader.next()
    assert created.type == next_created.type == "patchset-created"
    assert next_created.data["change"]["number"] == second

    with EventReader(server, server.admin, params={"after": seqs[0]}) as reader:
        assert topic_of(reader.next()) == "b"


def test_the_stream_needs_an_account(server: LiveServer) -> None:
    for path in ("a/events", "events", "a/events/"):
        response = httpx.get(f"{server.url}{path}", headers={"Accept": "text/event-stream"})
        assert response.status_code == 401, path
        assert "authentication" in response.text.lower() or "sign in" in response.text.lower()
    wrong = httpx.get(f"{server.url}a/events", auth=("admin", "wrong"))
    assert wrong.status_code == 401


def test_a_bad_resume_point_is_refused_with_the_fix(server: LiveServer) -> None:
    response = httpx.get(
        f"{server.url}a/events", auth=server.admin, headers={"Last-Event-ID": "abc"}
    )
    assert response.status_code == 400
    assert "Last-Event-ID: abc is not an event id" in response.text
    response = httpx.get(f"{server.url}a/events", auth=server.admin, params={"after": "x"})
    assert response.status_code == 400
    assert "after=x is not a number" in response.text


def test_a_private_change_is_streamed_to_its_owner_but_not_to_a_stranger(
    server: LiveServer, alice: Contributor
) -> None:
    stranger = make_user(server, "stranger")
    with (
        EventReader(server, stranger) as theirs,
        EventReader(server, (alice.username, alice.password)) as owners,
    ):
        hidden = push_change(alice, "Secret plan", "private")
        topics(server.services, hidden, "secret")
        public = push_change(alice, "Public plan")

        assert [(e.type, e.data["change"]["number"]) for e in owners.take(3)] == [
            ("patchset-created", hidden),
            ("topic-changed", hidden),
            ("patchset-created", public),
        ]
        seen = theirs.next()
        assert (seen.type, seen.data["change"]["number"]) == ("patchset-created", public)

    page = decode(httpx.get(f"{server.url}a/events/", auth=stranger))
    assert [item["payload"]["change"]["number"] for item in page] == [public]


def test_events_of_a_hidden_project_are_shown_only_to_administrators(
    server: LiveServer, alice: Contributor, tmp_path: Path
) -> None:
    server.services.projects.create("attic", create_empty_commit=True)
    attic = contributor(server, tmp_path, "attic", "bob")
    hidden = push_change(attic, "In the attic")
    shown = push_change(alice, "In the open")
    # No endpoint hides a project yet; the state is what access control reads.
    with server.services.engine.begin() as conn:
        conn.execute(text("UPDATE projects SET state = 'HIDDEN' WHERE name = 'attic'"))
    topics(server.services, hidden, "dusty")

    def numbers(auth: tuple[str, str]) -> list[int]:
        page = decode(httpx.get(f"{server.url}a/events/", auth=auth))
        return [item["payload"]["change"]["number"] for item in page]

    assert numbers((alice.username, alice.password)) == [shown]
    assert numbers(server.admin) == [hidden, shown, hidden]


def test_the_json_form_pages_through_the_log(server: LiveServer, alice: Contributor) -> None:
    number = push_change(alice, "Paged")
    seqs = topics(server.services, number, "p1", "p2", "p3")

    def page(**params: object) -> list[dict[str, object]]:
        got: list[dict[str, object]] = decode(
            httpx.get(f"{server.url}a/events/", params=params, auth=server.admin)
        )
        return got

    first = page(limit=2)
    assert [(item["seq"], item["type"]) for item in first] == [
        (seqs[0] - 1, "patchset-created"),
        (seqs[0], "topic-changed"),
    ]
    assert first[-1]["_more_events"] is True
    rest = page(after=first[-1]["seq"], limit=10)
    assert [item["seq"] for item in rest] == seqs[1:]
    assert "_more_events" not in rest[-1]
    assert rest[-1]["payload"]["change"]["topic"] == "p3"  # type: ignore[index]
    assert page(after=seqs[-1]) == []
    only = page(type="patchset-created")
    assert [item["type"] for item in only] == ["patchset-created"]


def test_a_consumer_that_hangs_up_leaves_nothing_running(server: LiveServer) -> None:
    stream = server.services.events
    listeners = stream.signal.listeners
    readers = [EventReader(server, server.admin) for _ in range(3)]
    eventually(lambda: stream.followers == 3, "three followers")

    for reader in readers:
        reader.close()

    eventually(lambda: stream.followers == 0, "the followers ended")
    assert stream.signal.listeners == listeners


def test_a_commit_wakes_a_follower_that_never_polls(server: LiveServer, alice: Contributor) -> None:
    """With polling and heartbeats all but off, only the commit signal can
    bring the next event to a waiting follower."""
    number = push_change(alice, "Wake me")
    services = server.services
    stream = EventStream(
        engine=services.engine,
        signal=services.events.signal,
        accounts=services.accounts,
        projects=services.projects,
        permissions=services.permissions,
        poll_interval=3600,
    )
    admin = services.accounts.get("admin")
    last = stream.last_seq()

    async def follow() -> tuple[list[int], list[int], list[int]]:
        follower = stream.follow(last - 1, viewer=admin, heartbeat=3600)
        async with aclosing(follower) as batches:
            first = [event.seq for event in await anext(batches)]
            # The follower has read the log; its next step is to wait.
            woken = await asyncio.to_thread(topics, services, number, "woken")
            second = [event.seq for event in await anext(batches)]
        return first, woken, second

    first, woken, second = asyncio.run(asyncio.wait_for(follow(), timeout=60))

    assert first == [last]
    assert second == woken
    assert stream.followers == 0


def test_a_quiet_stream_sends_heartbeats(server: LiveServer) -> None:
    admin = server.services.accounts.get("admin")
    stream = server.services.events

    async def first_batch() -> list[object]:
        follower = stream.follow(stream.last_seq(), viewer=admin, heartbeat=0.1)
        async with aclosing(follower) as batches:
            return list(await anext(batches))

    assert asyncio.run(asyncio.wait_for(first_batch(), timeout=60)) == []

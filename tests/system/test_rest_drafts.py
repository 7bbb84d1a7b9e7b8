"""Draft comments through the Gerrit REST API on SQLite and PostgreSQL: saved,
checked like published comments, seen only by their author, changed and
deleted, and published by the author's review as ReviewInput `drafts` says
(PUBLISH, PUBLISH_ALL_REVISIONS by default, KEEP), in the review's message
count and its comment-added event."""

from __future__ import annotations

from typing import Any

import httpx

from lockgate.testing.seed import seed_patch_set
from lockgate.testing.server import LiveServer
from tests.system.rest import decode
from tests.system.reviewing import events, make_team, review


def _call(
    server: LiveServer,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    auth: tuple[str, str] | None,
) -> httpx.Response:
    prefix = "a/" if auth else ""
    return httpx.request(method, f"{server.url}{prefix}{path}", json=body, auth=auth, timeout=60)


def test_drafts_are_private_checked_edited_and_published_by_a_review(server: LiveServer) -> None:
    team = make_team(server)
    n, bob, alice = team.number, team.bob, team.alice
    drafts = f"changes/{n}/revisions/1/drafts"

    made = decode(
        _call(server, "PUT", drafts, {"path": "a.txt", "line": 2, "message": "Why two?"}, auth=bob),
        201,
    )
    assert made["path"] == "a.txt" and made["line"] == 2 and made["message"] == "Why two?"
    assert made["patch_set"] == 1 and made["unresolved"] is False and "author" not in made
    first = made["id"]

    # Checked as a published comment is: the file and the line must exist.
    refusals = [
        ({"path": "a.txt", "line": 9, "message": "x"}, "line 9 of a.txt does not exist"),
        ({"path": "nope.txt", "line": 1, "message": "x"}, "file nope.txt not found"),
        ({"path": "a.txt", "line": 1, "message": "  "}, "message must be non-empty"),
        ({"path": "a.txt", "message": "x", "in_reply_to": "0000"}, 'in_reply_to "0000"'),
    ]
    for body, reason in refusals:
        refused = _call(server, "PUT", drafts, body, auth=bob)
        assert refused.status_code == 400 and reason in refused.text, (body, refused.text)
    assert _call(server, "GET", f"changes/{n}/drafts", auth=None).status_code == 401

    # Only their author sees, changes or deletes them.
    assert decode(_call(server, "GET", f"changes/{n}/drafts", auth=alice)) == {}
    for method in ("GET", "PUT", "DELETE"):
        body = {"message": "mine now"} if method == "PUT" else None
        other = _call(server, method, f"{drafts}/{first}", body, auth=alice)
        assert other.status_code == 404, (method, other.text)

    edited = decode(
        _call(server, "PUT", f"{drafts}/{first}", {"message": "Why two lines?"}, auth=bob)
    )
    assert edited["message"] == "Why two lines?" and edited["line"] == 2
    gone = decode(
        _call(server, "PUT", drafts, {"path": "/COMMIT_MSG", "line": 1, "message": "x"}, auth=bob),
        201,
    )
    emptied = _call(server, "PUT", f"{drafts}/{gone['id']}", {"message": ""}, auth=bob)
    assert emptied.status_code == 204
    also_gone = decode(
        _call(server, "PUT", drafts, {"path": "a.txt", "message": "file-wide"}, auth=bob), 201
    )
    assert _call(server, "DELETE", f"{drafts}/{also_gone['id']}", auth=bob).status_code == 204
    listed = decode(_call(server, "GET", f"changes/{n}/drafts", auth=bob))
    assert [(path, [d["id"] for d in found]) for path, found in listed.items()] == [
        ("a.txt", [first])
    ]

    # A second patch set, and a draft on it: PUBLISH publishes only the review's own.
    seed_patch_set(server.services, n, files={"a.txt": "one\n2\nthree\nfour\n"})
    on_two = decode(
        _call(
            server,
            "PUT",
            f"changes/{n}/revisions/2/drafts",
            {"path": "a.txt", "line": 4, "message": "New line", "unresolved": True},
            auth=bob,
        ),
        201,
    )
    review(server, n, {"drafts": "KEEP", "message": "Nothing yet"}, auth=bob)
    assert len(decode(_call(server, "GET", f"changes/{n}/drafts", auth=bob))["a.txt"]) == 2
    review(server, n, {"drafts": "PUBLISH"}, auth=bob)
    published = decode(_call(server, "GET", f"changes/{n}/comments", auth=None))["a.txt"]
    assert [(c["id"], c["patch_set"], c["unresolved"]) for c in published] == [
        (on_two["id"], 2, True)
    ]
    remaining = decode(_call(server, "GET", f"changes/{n}/drafts", auth=bob))
    assert [d["id"] for d in remaining["a.txt"]] == [first]

    # Gerrit's default publishes the drafts of every patch set.
    review(server, n, {"labels": {"Code-Review": 1}}, auth=bob)
    published = decode(_call(server, "GET", f"changes/{n}/comments", auth=None))["a.txt"]
    assert {c["id"] for c in published} == {first, on_two["id"]}
    assert decode(_call(server, "GET", f"changes/{n}/drafts", auth=bob)) == {}
    message = decode(_call(server, "GET", f"changes/{n}/detail", auth=None))["messages"][-1]
    assert message["message"] == "Patch Set 2: Code-Review+1\n\n(1 comment)"
    [*_, added] = events(server, "comment-added", n)
    assert added["author"]["username"] == "bob"
    assert added["comment"] == "Patch Set 2: Code-Review+1\n\n(1 comment)"

    # A reply leaves `unresolved` out and takes its parent's state; Done resolves.
    reply = decode(
        _call(
            server,
            "PUT",
            f"changes/{n}/revisions/2/drafts",
            {"path": "a.txt", "line": 4, "message": "Fixed", "in_reply_to": on_two["id"]},
            auth=alice,
        ),
        201,
    )
    assert reply["unresolved"] is True and reply["in_reply_to"] == on_two["id"]
    alice_account = server.services.accounts.get("alice")
    done = server.services.drafts.reply(
        f"{n}", alice_account, on_two["id"], "Done", unresolved=False
    )
    assert [d.unresolved for d in done.drafts] == [False]
    mine = server.services.drafts.of_change(n, alice_account)
    assert [d.message for d in mine] == ["Fixed", "Done"]
    review(server, n, {}, auth=alice)
    detail = decode(_call(server, "GET", f"changes/{n}/detail", auth=None))
    assert detail["unresolved_comment_count"] == 0

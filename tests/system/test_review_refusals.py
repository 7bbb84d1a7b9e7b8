"""Every review the server refuses, on SQLite and PostgreSQL: the status, a
message that names the problem and the fix, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from lockgate.adapters.db.change_store import mark_merged, update_change
from lockgate.adapters.db.engine import write_transaction
from lockgate.testing.seed import seed_change, seed_patch_set
from lockgate.testing.server import LiveServer
from tests.system.rest import get
from tests.system.reviewing import Team, make_team, post_review, review, row_counts


@pytest.fixture
def team(server: LiveServer) -> Team:
    return make_team(server)


def _refused(
    team: Team,
    who: tuple[str, str] | None,
    body: dict[str, Any],
    status: int,
    expected: str,
    *,
    revision: str = "current",
    number: int | None = None,
) -> None:
    server = team.server
    before = row_counts(server)
    response = post_review(server, number or team.number, body, auth=who, revision=revision)
    assert response.status_code == status, (body, response.status_code, response.text)
    assert expected in response.text, (body, response.text)
    assert row_counts(server) == before, body


def test_bad_reviews_are_refused_and_write_nothing(team: Team) -> None:
    line = {"line": 1, "message": "x"}
    cases: list[tuple[tuple[str, str] | None, dict[str, Any], int, str]] = [
        (
            team.bob,
            {"labels": {"Code-Review": 2}},
            403,
            'Applying label "Code-Review": +2 is restricted; you may vote -1..+1',
        ),
        (
            team.bob,
            {"labels": {"Verified": 1}},
            403,
            'Applying label "Verified": +1 is restricted; you may not vote on Verified',
        ),
        (
            team.ci,
            {"labels": {"Workflow": 1}},
            403,
            'Applying label "Workflow": +1 is restricted',
        ),
        (
            team.bob,
            {"labels": {"Legal-Review": 1}},
            400,
            'label "Legal-Review" is not a configured label; '
            "the labels here are: Code-Review, Verified, Workflow",
        ),
        (team.core, {"labels": {"Code-Review": 3}}, 400, '"Code-Review": 3 is not a valid value'),
        (
            team.bob,
            {"comments": {"nope.txt": [line]}},
            400,
            f"file nope.txt not found in revision 1 of change {team.number}",
        ),
        (
            team.bob,
            {"comments": {"a.txt": [{"line": 4, "message": "x"}]}},
            400,
            "line 4 of a.txt does not exist: a.txt has 3 lines in revision 1",
        ),
        (
            team.bob,
            {"comments": {"a.txt": [{"line": -1, "message": "x"}]}},
            400,
            "negative line number -1 not allowed on a.txt",
        ),
        (
            team.bob,
            {
                "comments": {
                    "a.txt": [
                        {
                            "range": {
                                "start_line": 3,
                                "start_character": 0,
                                "end_line": 1,
                                "end_character": 0,
                            },
                            "message": "x",
                        }
                    ]
                }
            },
            400,
            "Range (3:0 - 1:0) is not valid for the comment on a.txt",
        ),
        (
            team.bob,
            # a.txt is new in this revision: its parent side has no lines.
            {"comments": {"a.txt": [{"line": 1, "side": "PARENT", "message": "x"}]}},
            400,
            "line 1 of a.txt does not exist: a.txt is not in its parent",
        ),
        (
            team.bob,
            {"comments": {"a.txt": [{"line": 1, "side": "LEFT", "message": "x"}]}},
            400,
            'side "LEFT" of the comment on a.txt is not valid; use REVISION or PARENT',
        ),
        (
            team.bob,
            {"comments": {"/COMMIT_MSG": [{"line": 400, "message": "x"}]}},
            400,
            "line 400 of /COMMIT_MSG does not exist",
        ),
        (
            team.bob,
            {"comments": {"/PATCHSET_LEVEL": [line]}},
            400,
            "/PATCHSET_LEVEL comments are on the whole patch set",
        ),
        (
            team.bob,
            {"comments": {"a.txt": [{"line": 1, "message": "x", "in_reply_to": "nope"}]}},
            400,
            f'in_reply_to "nope" names no comment of change {team.number}',
        ),
        (team.bob, {"drafts": "BURN"}, 400, 'drafts "BURN" is not valid'),
        (team.bob, {"notify": "EVERYONE"}, 400, 'notify "EVERYONE" is not valid'),
        (team.bob, {"labels": {"Code-Review": "lots"}}, 400, "invalid ReviewInput"),
        (team.bob, {"on_behalf_of": "alice"}, 400, "on_behalf_of is not supported"),
        (
            team.alice,
            {"ready": True, "work_in_progress": True},
            400,
            "work_in_progress and ready are mutually exclusive",
        ),
        (team.bob, {"work_in_progress": True}, 403, "lacks toggleWipState"),
        (None, {"message": "hello"}, 401, "needs authentication"),
    ]
    for who, body, status, expected in cases:
        _refused(team, who, body, status, expected)
    # A bad part refuses the whole review, good parts included.
    _refused(
        team,
        team.bob,
        {
            "message": "Mostly fine",
            "labels": {"Code-Review": 1},
            "comments": {"a.txt": [line], "nope.txt": [line]},
        },
        400,
        "file nope.txt not found",
    )
    assert get(team.server, f"changes/{team.number}")["total_comment_count"] == 0


def test_votes_on_an_outdated_patch_set_or_a_closed_change(team: Team) -> None:
    server, n = team.server, team.number
    seed_patch_set(server.services, n, files={"a.txt": "one\n"})
    _refused(
        team,
        team.bob,
        {"labels": {"Code-Review": 1}},
        409,
        f"votes are taken on the current patch set only: patch set 1 of change {n} is "
        "outdated; vote on patch set 2",
        revision="1",
    )
    # Comments on an outdated patch set are fine, against that patch set's files.
    review(
        server,
        n,
        {"comments": {"a.txt": [{"line": 3, "message": "gone in ps 2"}]}},
        auth=team.bob,
        revision="1",
    )
    [comment] = get(server, f"changes/{n}/comments")["a.txt"]
    assert comment["patch_set"] == 1 and comment["commit_id"] == team.change.sha

    # After submit, a vote may rise, not fall; it is marked post-submit.
    review(server, n, {"labels": {"Code-Review": 1}}, auth=team.core)
    with write_transaction(server.services.engine) as conn:
        mark_merged(conn, n, submitter_id=None, now=server.services.clock())
    _refused(
        team,
        team.core,
        {"labels": {"Code-Review": -1}},
        409,
        f"Cannot reduce vote on labels for closed change: Code-Review (change {n})",
    )
    review(server, n, {"labels": {"Code-Review": 2}}, auth=team.core)
    [vote] = get(server, f"changes/{n}/detail")["labels"]["Code-Review"]["all"]
    assert vote["value"] == 2 and vote["post_submit"] is True
    # A message without votes is still taken on a closed change.
    review(server, n, {"message": "Thanks!"}, auth=team.bob)

    other = make_abandoned(team)
    _refused(
        team,
        team.core,
        {"labels": {"Code-Review": 1}},
        409,
        "change is closed: an abandoned change takes no votes; restore it first",
        number=other,
    )
    review(server, other, {"message": "Why abandoned?"}, auth=team.bob)


def make_abandoned(team: Team) -> int:
    seeded = seed_change(team.server.services, "team/demo", owner="alice", subject="Dropped")
    with write_transaction(team.server.services.engine) as conn:
        update_change(conn, seeded.change_number, status="ABANDONED")
    return seeded.change_number

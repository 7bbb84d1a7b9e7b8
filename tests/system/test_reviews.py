"""Reviews through the Gerrit REST API on SQLite and PostgreSQL: votes and
inline comments posted and read back (/detail, /comments), the change message
in Gerrit's layout, the comment-added event in the durable log, labels and
submit requirements as a change gathers votes, work in progress via a review,
and pygerrit2 end to end."""

from __future__ import annotations

import re

import pytest
from pygerrit2 import GerritRestAPI, GerritReview
from requests.auth import HTTPBasicAuth

from lockgate.testing.server import LiveServer
from tests.system.rest import get
from tests.system.reviewing import Team, events, make_team, review

# What OpenStack's Zuul matches comments against to re-run CI.
RECHECK = re.compile(r"(?i)^(Patch Set [0-9]+:)?( [\w\\+-]*)*(\n\n)?\s*recheck")


@pytest.fixture
def team(server: LiveServer) -> Team:
    return make_team(server)


def test_review_with_votes_and_inline_comments_reads_back(team: Team) -> None:
    server, n = team.server, team.number
    result = review(
        server,
        n,
        {
            "message": "Looks fine, two questions.",
            "labels": {"Code-Review": 1},
            "comments": {
                "a.txt": [
                    {"line": 2, "message": "Why two?"},
                    {
                        "range": {
                            "start_line": 1,
                            "start_character": 0,
                            "end_line": 3,
                            "end_character": 2,
                        },
                        "message": "These three lines",
                        "unresolved": True,
                    },
                ],
                "/COMMIT_MSG": [{"line": 1, "message": "Subject reads well"}],
            },
        },
        auth=team.bob,
    )
    assert result == {"labels": {"Code-Review": 1}}
    bob_id = server.services.accounts.get("bob").id

    detail = get(server, f"changes/{n}/detail")
    message = detail["messages"][-1]
    assert message["message"] == (
        "Patch Set 1: Code-Review+1\n\n(3 comments)\n\nLooks fine, two questions."
    )
    assert message["author"]["username"] == "bob" and message["_revision_number"] == 1
    code_review = detail["labels"]["Code-Review"]
    assert code_review["recommended"]["username"] == "bob" and code_review["value"] == 1
    assert "approved" not in code_review and "blocking" not in code_review
    [vote] = code_review["all"]
    assert vote["_account_id"] == bob_id and vote["value"] == 1 and "date" in vote
    assert vote["permitted_voting_range"] == {"min": -1, "max": 1}
    # bob is a reviewer now, without a Verified vote or the right to cast one.
    assert detail["labels"]["Verified"]["all"] == [
        {
            "_account_id": bob_id,
            "name": "Bob",
            "email": "bob@example.com",
            "username": "bob",
            "value": 0,
        }
    ]
    assert [r["username"] for r in detail["reviewers"]["REVIEWER"]] == ["bob"]
    assert detail["total_comment_count"] == 3 and detail["unresolved_comment_count"] == 1

    comments = get(server, f"changes/{n}/comments")
    assert list(comments) == ["/COMMIT_MSG", "a.txt"]
    line, spanned = comments["a.txt"]
    assert line["line"] == 2 and line["message"] == "Why two?" and line["unresolved"] is False
    assert spanned["line"] == 3 and spanned["unresolved"] is True
    assert spanned["range"] == {
        "start_line": 1,
        "start_character": 0,
        "end_line": 3,
        "end_character": 2,
    }
    for c in (line, spanned, comments["/COMMIT_MSG"][0]):
        assert c["patch_set"] == 1 and c["commit_id"] == team.change.sha
        assert c["author"]["username"] == "bob" and c["change_message_id"] == message["id"]
        assert "side" not in c and "path" not in c
    assert get(server, f"changes/{n}/revisions/1/comments") == comments
    one = get(server, f"changes/{n}/revisions/current/comments/{line['id']}")
    assert one == {**line, "path": "a.txt"}
    assert get(server, f"changes/{n}/drafts", auth=team.bob) == {}
    assert get(server, f"changes/{n}/revisions/1/drafts", auth=team.bob) == {}

    # alice answers the open thread and resolves it; a reply inherits the
    # parent's state when it sets none.
    review(
        server,
        n,
        {
            "comments": {
                "a.txt": [
                    {"line": 3, "in_reply_to": spanned["id"], "message": "Done"},
                    {"line": 2, "in_reply_to": line["id"], "message": "Ack", "unresolved": False},
                ]
            }
        },
        auth=team.alice,
    )
    after = get(server, f"changes/{n}/comments")["a.txt"]
    reply = next(c for c in after if c["message"] == "Done")
    assert reply["in_reply_to"] == spanned["id"] and reply["unresolved"] is True
    assert get(server, f"changes/{n}")["unresolved_comment_count"] == 1
    review(
        server,
        n,
        {"comments": {"a.txt": [{"line": 3, "in_reply_to": reply["id"], "message": "Fixed"}]}},
        auth=team.bob,
    )
    review(
        server,
        n,
        {
            "comments": {
                "a.txt": [
                    {"line": 3, "in_reply_to": reply["id"], "message": "Ok", "unresolved": False}
                ]
            }
        },
        auth=team.bob,
    )
    info = get(server, f"changes/{n}")
    assert info["total_comment_count"] == 7 and info["unresolved_comment_count"] == 0
    # A comment-only reviewer who is not on the change becomes CC; alice owns it.
    assert "CC" not in get(server, f"changes/{n}/detail")["reviewers"]


def test_comment_added_events_carry_approvals_as_zuul_reads_them(team: Team) -> None:
    server, n = team.server, team.number
    review(server, n, {"message": "Build succeeded.", "labels": {"Verified": 1}}, auth=team.ci)
    review(server, n, {"message": "Build failed.", "labels": {"Verified": -1}}, auth=team.ci)
    review(server, n, {"message": "recheck"}, auth=team.bob)
    review(server, n, {"labels": {"verified": 0}, "tag": "autogenerated:ci"}, auth=team.ci)

    first, second, recheck, reset = events(server, "comment-added", n)
    assert first["author"] == {"name": "CI", "email": "ci@example.com", "username": "ci"}
    assert first["comment"] == "Patch Set 1: Verified+1\n\nBuild succeeded."
    assert first["approvals"] == [
        {"type": "Code-Review", "description": "Code-Review", "value": "0"},
        {"type": "Verified", "description": "Verified", "value": "1", "oldValue": "0"},
        {"type": "Workflow", "description": "Workflow", "value": "0"},
    ]
    assert first["patchSet"]["number"] == 1 and first["patchSet"]["revision"] == team.change.sha
    assert first["change"]["number"] == n and first["change"]["project"] == "team/demo"
    assert first["project"] == "team/demo" and first["refName"] == "refs/heads/master"
    assert second["approvals"][1] == {
        "type": "Verified",
        "description": "Verified",
        "value": "-1",
        "oldValue": "1",
    }
    assert recheck["comment"] == "Patch Set 1:\n\nrecheck"
    assert RECHECK.match(recheck["comment"])
    assert all("oldValue" not in a for a in recheck["approvals"])
    # A vote taken back reads -Label, as Gerrit writes it.
    assert reset["comment"] == "Patch Set 1: -Verified"
    assert reset["approvals"][1] == {
        "type": "Verified",
        "description": "Verified",
        "value": "0",
        "oldValue": "-1",
    }
    messages = get(server, f"changes/{n}/messages")
    assert messages[-1]["tag"] == "autogenerated:ci"
    # The same vote again changes nothing and says nothing.
    before = len(messages)
    assert review(server, n, {"labels": {"Verified": 0}}, auth=team.ci) == {
        "labels": {"Verified": 0}
    }
    assert len(get(server, f"changes/{n}/messages")) == before
    assert len(events(server, "comment-added", n)) == 4


def test_a_change_becomes_submittable_when_every_blocking_label_is_satisfied(
    team: Team,
) -> None:
    server, n = team.server, team.number
    options = {"o": ["LABELS", "SUBMITTABLE", "SUBMIT_REQUIREMENTS", "CURRENT_REVISION"]}
    info = get(server, f"changes/{n}", **options)
    assert info["submittable"] is False
    code_review = info["submit_requirements"][0]
    assert code_review == {
        "name": "Code-Review",
        "status": "UNSATISFIED",
        "is_legacy": True,
        "submittability_expression_result": {
            "expression": "label:Code-Review=MAX -label:Code-Review=MIN",
            "fulfilled": False,
            "status": "FAIL",
            "passing_atoms": [],
            "failing_atoms": ["label:Code-Review=MAX", "label:Code-Review=MIN"],
        },
    }

    # Two messages in one go: Gerrit lists the votes sorted as it formats them.
    review(server, n, {"labels": {"Workflow": 1, "Code-Review": 2}}, auth=team.core)
    assert get(server, f"changes/{n}/messages")[-1]["message"] == (
        "Patch Set 1: Code-Review+2 Workflow+1"
    )
    review(server, n, {"labels": {"Verified": 2}}, auth=team.ci)
    info = get(server, f"changes/{n}", **options)
    assert info["submittable"] is True
    assert [r["status"] for r in info["submit_requirements"]] == ["SATISFIED"] * 3
    assert info["submit_requirements"][0]["submittability_expression_result"]["passing_atoms"] == [
        "label:Code-Review=MAX"
    ]
    core_id = server.services.accounts.get("core").id
    assert info["labels"]["Code-Review"]["approved"] == {"_account_id": core_id}
    [record] = info["submit_records"]
    assert record["status"] == "OK"
    assert [(lb["label"], lb["status"]) for lb in record["labels"]] == [
        ("Code-Review", "OK"),
        ("Verified", "OK"),
        ("Workflow", "OK"),
    ]

    # A veto blocks again.
    review(server, n, {"labels": {"Code-Review": -2}}, auth=team.core)
    info = get(server, f"changes/{n}", **options)
    assert info["submittable"] is False
    assert info["labels"]["Code-Review"]["blocking"] is True
    assert info["labels"]["Code-Review"]["rejected"] == {"_account_id": core_id}
    review(server, n, {"labels": {"Code-Review": 2}}, auth=team.core)

    # Who may do what: the admin may submit; alice, the owner, may not.
    acts = {"o": ["CURRENT_ACTIONS", "CURRENT_REVISION"]}
    admin_view = get(server, f"changes/{n}", auth=team.core, **acts)
    revision = admin_view["revisions"][team.change.sha]
    assert revision["actions"]["submit"] == {
        "method": "POST",
        "label": "Submit",
        "title": "Submit patch set 1 into master",
        "enabled": True,
    }
    owner_view = get(server, f"changes/{n}", auth=team.alice, **acts)
    assert set(owner_view["actions"]) == {"abandon", "topic", "hashtags", "wip"}
    assert "submit" not in owner_view["revisions"][team.change.sha]["actions"]
    assert get(server, f"changes/{n}", auth=team.bob, **acts)["actions"] == {}
    detailed = get(server, f"changes/{n}/detail", auth=team.bob)
    assert detailed["permitted_labels"] == {"Code-Review": ["-1", " 0", "+1"]}
    assert detailed["removable_reviewers"] == []
    assert set(get(server, f"changes/{n}/detail", auth=team.core)["permitted_labels"]) == {
        "Code-Review",
        "Verified",
        "Workflow",
    }

    # Work in progress through a review: not submittable while it lasts.
    result = review(server, n, {"work_in_progress": True}, auth=team.alice)
    assert result == {"labels": {}}
    info = get(server, f"changes/{n}", **options)
    assert info["work_in_progress"] is True and info["submittable"] is False
    result = review(server, n, {"ready": True}, auth=team.alice)
    assert result == {"labels": {}, "ready": True}
    info = get(server, f"changes/{n}", **options)
    assert "work_in_progress" not in info and info["submittable"] is True
    messages = [m["message"] for m in get(server, f"changes/{n}/messages")]
    assert messages[-3:] == [
        "Set Work In Progress",
        "Set Ready For Review",
        "Patch Set 1:\n\nThis change is ready for review.",
    ]
    wip_events = events(server, "wip-state-changed", n)
    assert [e["change"].get("wip", False) for e in wip_events] == [True, False]
    assert wip_events[0]["changer"]["username"] == "alice"


def test_non_strict_labels_are_fitted_to_the_callers_range(team: Team) -> None:
    """gertty posts with strict_labels false: what the caller may not cast is
    dropped, a value beyond their range is lowered to the nearest they may."""
    server, n = team.server, team.number
    result = review(
        server,
        n,
        {
            "strict_labels": False,
            "labels": {"code-review": 2, "Verified": 1, "No-Such-Label": 1},
        },
        auth=team.bob,
    )
    assert result == {"labels": {"Code-Review": 1}}
    assert get(server, f"changes/{n}/messages")[-1]["message"] == "Patch Set 1: Code-Review+1"


def test_pygerrit2_reviews_with_labels_and_inline_comments_and_reads_them_back(
    team: Team,
) -> None:
    server, n = team.server, team.number
    rest = GerritRestAPI(url=server.url, auth=HTTPBasicAuth(*team.ci))
    verdict = GerritReview(message="Build succeeded.", labels={"Verified": 2})
    verdict.add_comments(
        [
            {"filename": "a.txt", "line": 1, "message": "First line"},
            {
                "filename": "docs/readme.md",
                "range": {"start_line": 1, "start_character": 0, "end_line": 1, "end_character": 8},
                "message": "Heading",
            },
        ]
    )
    assert rest.review(str(n), "current", verdict) == {"labels": {"Verified": 2}}

    comments = rest.get(f"/changes/{n}/revisions/current/comments")
    assert [c["message"] for c in comments["a.txt"]] == ["First line"]
    assert comments["docs/readme.md"][0]["range"]["end_character"] == 8
    detail = rest.get(f"/changes/{n}/detail")
    assert detail["labels"]["Verified"]["approved"]["username"] == "ci"
    assert detail["messages"][-1]["message"] == (
        "Patch Set 1: Verified+2\n\n(2 comments)\n\nBuild succeeded."
    )
    assert detail["total_comment_count"] == 2

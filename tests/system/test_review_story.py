"""The review story of the OpenStack CI talk, through the REST API and real git
on a live server: a contributor pushes, a third-party CI follows the event
stream and votes Verified with its own account, reviewers read the diff,
comment on lines and vote, a core reviewer approves and submits with
pygerrit2, and nobody gets to do what their access does not allow."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pygerrit2 import GerritRestAPI
from requests.auth import HTTPBasicAuth

from lockgate.testing.server import LiveServer
from tests.gitutil import commit, git, push
from tests.system.rest import ci_account, decode, get, make_user, put
from tests.system.reviewing import post_review, review, row_counts
from tests.system.submitting import submit, written
from tests.system.third_party_ci import TAG, Report, ThirdPartyCI, Waiting, change_of

PROJECT = "nova"
GREET = 'def greet(name):\n    return "Hello, " + name\n'
GREET_V2 = 'def greet(name):\n    return f"Hello, {name}"\n'
SHOWN = [
    "DETAILED_LABELS",
    "DETAILED_ACCOUNTS",
    "SUBMITTABLE",
    "SUBMIT_REQUIREMENTS",
    "CURRENT_REVISION",
]


def allow(group: str, **range_: int) -> dict[str, Any]:
    return {"rules": {group: {"action": "ALLOW", **range_}}}


def set_up_project(server: LiveServer) -> dict[str, tuple[str, str]]:
    """What an admin does for a new OpenStack project: the repository, its core
    group with the core grants, and a third-party CI with Verified -1..+1."""
    admin = server.admin
    put(server, f"projects/{PROJECT}", {"create_empty_commit": True}, auth=admin)
    people = {name: make_user(server, name) for name in ("alice", "bob", "core", "acme-ci")}
    # Zuul, the gate, is the site's CI account, a Service User: All-Projects lets
    # those vote Verified -2..+2.
    people["zuul"] = ci_account(server)
    core = put(server, f"groups/{PROJECT}-core", {"members": ["core"]}, auth=admin)["id"]
    ci = put(server, "groups/third-party-ci", {"members": ["acme-ci"]}, auth=admin)["id"]
    grants = {
        "refs/heads/*": {
            "permissions": {
                "label-Code-Review": allow(core, min=-2, max=2),
                "label-Workflow": allow(core, min=-1, max=1),
                "submit": allow(core),
                "label-Verified": allow(ci, min=-1, max=1),
            }
        }
    }
    response = httpx.post(
        f"{server.url}a/projects/{PROJECT}/access", json={"add": grants}, auth=admin
    )
    local = decode(response)["local"]["refs/heads/*"]["permissions"]
    assert local["label-Verified"]["rules"][ci] == {"action": "ALLOW", "min": -1, "max": 1}
    return people


def clone(server: LiveServer, where: Path) -> Path:
    """A clone with the server's commit-msg hook, which gives commits their Change-Id."""
    git(where.parent, "clone", "-q", server.git_url(PROJECT), str(where))
    hook = where / ".git" / "hooks" / "commit-msg"
    hook.write_bytes(httpx.get(f"{server.url}tools/hooks/commit-msg").content)
    hook.chmod(0o755)
    return where


def push_for_review(server: LiveServer, work: Path, who: tuple[str, str]) -> int:
    url = server.git_url(PROJECT, user=who[0], password=who[1])
    pushed = push(work, url, "HEAD:refs/for/master")
    assert pushed.ok, pushed.output
    found = re.search(r"/\+/(\d+) ", pushed.output)
    assert found, pushed.output
    return int(found.group(1))


def first_parent(work: Path) -> str:
    return git(work, "rev-parse", "HEAD~1").strip()


def change_info(server: LiveServer, number: int, who: tuple[str, str]) -> Any:
    return get(server, f"changes/{number}", auth=who, o=SHOWN)


def requirements(info: dict[str, Any]) -> dict[str, str]:
    return {r["name"]: r["status"] for r in info["submit_requirements"]}


def votes(info: dict[str, Any], label: str) -> dict[str, int]:
    """The votes cast on `label` (`all` lists every reviewer, 0 for no vote)."""
    return {a["username"]: a["value"] for a in info["labels"][label].get("all", []) if a["value"]}


@pytest.fixture
def people(server: LiveServer) -> dict[str, tuple[str, str]]:
    return set_up_project(server)


@pytest.fixture
def ci(
    server: LiveServer, people: dict[str, tuple[str, str]], tmp_path: Path
) -> Iterator[ThirdPartyCI]:
    """The CI, connected to the stream before anything happens in the project."""
    follower = ThirdPartyCI(server, people["acme-ci"], tmp_path / "ci")
    yield follower
    follower.stop()


def test_a_change_goes_from_push_through_ci_and_review_to_merge(
    server: LiveServer,
    tmp_path: Path,
    people: dict[str, tuple[str, str]],
    ci: ThirdPartyCI,
) -> None:
    alice, bob, core, zuul = people["alice"], people["bob"], people["core"], people["zuul"]
    # The stream asks only for a signed-in account; events of projects it
    # cannot read are left out. The CI needs no other grant to follow it.
    assert httpx.get(f"{server.url}a/events").status_code == 401

    # The contributor clones, commits and pushes for review.
    work = clone(server, tmp_path / "alice")
    commit(work, "Add greet", files={"greet.py": GREET})
    first = git(work, "rev-parse", "HEAD").strip()
    assert re.search(r"\nChange-Id: I[0-9a-f]{40}\n", git(work, "log", "-1", "--format=%B"))
    number = push_for_review(server, work, alice)

    assert ci.next_report() == Report(number, 1, 1, "Build succeeded. (1 Python files compile)")
    info = change_info(server, number, core)
    assert votes(info, "Verified") == {"acme-ci": 1}
    assert info["labels"]["Verified"]["recommended"]["username"] == "acme-ci"
    assert info["submittable"] is False
    assert requirements(info) == {
        "Code-Review": "UNSATISFIED",
        "Verified": "UNSATISFIED",
        "Workflow": "UNSATISFIED",
    }

    # What each may cast, from the project's access (as a registered user the CI
    # may also say -1..+1 on Code-Review, as everyone may).
    assert change_info(server, number, ci.auth)["permitted_labels"] == {
        "Code-Review": ["-1", " 0", "+1"],
        "Verified": ["-1", " 0", "+1"],
    }
    assert change_info(server, number, core)["permitted_labels"] == {
        "Code-Review": ["-2", "-1", " 0", "+1", "+2"],
        "Workflow": ["-1", " 0", "+1"],
    }

    # Another change, which does not compile: the CI keeps going and votes -1,
    # pointing at the line with an inline comment.
    git(work, "checkout", "-q", "--detach", "origin/master")
    commit(work, "Add broken", files={"broken.py": "x = 1\ndef broken(:\n"})
    broken = push_for_review(server, work, alice)
    assert ci.next_report() == Report(broken, 1, -1, "Build failed.")

    # A core reviewer reads the files and the diff, and comments on a line.
    files = get(server, f"changes/{number}/revisions/current/files", auth=core)
    assert list(files) == ["/COMMIT_MSG", "greet.py"]
    assert files["greet.py"]["status"] == "A" and files["greet.py"]["lines_inserted"] == 2
    diff = get(server, f"changes/{number}/revisions/current/files/greet.py/diff", auth=core)
    assert diff["change_type"] == "ADDED" and "meta_a" not in diff
    assert diff["content"][0]["b"][:2] == GREET.splitlines()
    comment = {"line": 2, "message": "Use an f-string?", "unresolved": True}
    review(server, number, {"comments": {"greet.py": [comment]}}, auth=core)

    # A registered reviewer votes +1 and may not vote +2.
    review(server, number, {"labels": {"Code-Review": 1}, "message": "Fine by me."}, auth=bob)
    before = row_counts(server)
    refused = post_review(server, number, {"labels": {"Code-Review": 2}}, auth=bob)
    assert refused.status_code == 403
    assert 'Applying label "Code-Review": +2 is restricted; you may vote -1..+1' in refused.text
    assert row_counts(server) == before

    # The contributor reads the thread, answers it as resolved, and reworks the change.
    thread = get(server, f"changes/{number}/comments", auth=alice)["greet.py"]
    assert [(c["author"]["username"], c["line"], c["unresolved"]) for c in thread] == [
        ("core", 2, True)
    ]
    assert change_info(server, number, alice)["unresolved_comment_count"] == 1
    reply = {"line": 2, "in_reply_to": thread[0]["id"], "message": "Done", "unresolved": False}
    review(server, number, {"comments": {"greet.py": [reply]}}, auth=alice, revision="1")
    assert change_info(server, number, alice)["unresolved_comment_count"] == 0

    ci.hold()
    git(work, "checkout", "-q", first)
    (work / "greet.py").write_text(GREET_V2)
    git(work, "commit", "-q", "-a", "--amend", "--no-edit")
    assert push_for_review(server, work, alice) == number
    assert ci.next_report() == Waiting(number, 2)

    # Votes on a reworked patch set do not carry over: neither the CI's nor bob's.
    info = change_info(server, number, core)
    assert info["revisions"][info["current_revision"]]["kind"] == "REWORK"
    assert votes(info, "Verified") == {} and votes(info, "Code-Review") == {}
    assert info["submit_requirements"]

    # The core reviewer reads what changed since the patch set they commented on.
    files = get(server, f"changes/{number}/revisions/2/files", auth=core, base=1)
    assert list(files) == ["/COMMIT_MSG", "greet.py"]
    diff = get(server, f"changes/{number}/revisions/2/files/greet.py/diff", auth=core, base=1)
    changed = [block for block in diff["content"] if "a" in block or "b" in block]
    assert changed == [{"a": [GREET.splitlines()[1]], "b": [GREET_V2.splitlines()[1]]}]

    # The core reviewer approves before the CI has reported: not submittable yet.
    approved = {"labels": {"Code-Review": 2, "Workflow": 1}, "message": "Thanks!"}
    assert review(server, number, approved, auth=core) == {
        "labels": {"Code-Review": 2, "Workflow": 1}
    }
    info = change_info(server, number, core)
    assert info["submittable"] is False
    assert requirements(info) == {
        "Code-Review": "SATISFIED",
        "Verified": "UNSATISFIED",
        "Workflow": "SATISFIED",
    }
    assert submit(server, number, auth=core).status == 409

    ci.release()
    assert ci.next_report() == Report(number, 2, 1, "Build succeeded. (1 Python files compile)")
    # A third-party CI's +1 is advice: Verified needs the gate's +2.
    info = change_info(server, number, core)
    assert requirements(info)["Verified"] == "UNSATISFIED"
    assert info["labels"]["Verified"]["recommended"]["username"] == "acme-ci"
    review(
        server, number, {"labels": {"Verified": 2}, "message": "Build succeeded (gate)."}, auth=zuul
    )

    info = change_info(server, number, core)
    assert info["submittable"] is True
    assert set(requirements(info).values()) == {"SATISFIED"}
    [record] = info["submit_records"]
    assert record["status"] == "OK"
    assert {label["label"]: label["applied_by"]["username"] for label in record["labels"]} == {
        "Code-Review": "core",
        "Verified": "zuul",
        "Workflow": "core",
    }
    assert votes(info, "Verified") == {"acme-ci": 1, "zuul": 2}

    actions = get(server, f"changes/{number}", auth=core, o=["CURRENT_ACTIONS", "CURRENT_REVISION"])
    assert actions["revisions"][info["current_revision"]]["actions"]["submit"]["enabled"] is True
    as_ci = get(
        server, f"changes/{number}", auth=ci.auth, o=["CURRENT_ACTIONS", "CURRENT_REVISION"]
    )
    assert "submit" not in as_ci["revisions"][info["current_revision"]].get("actions", {})

    # The core reviewer submits with pygerrit2; the branch holds the change.
    rest = GerritRestAPI(url=server.url, auth=HTTPBasicAuth(*core))
    merged = rest.post(f"/changes/{info['id']}/submit")
    assert merged["status"] == "MERGED" and merged["_number"] == number
    assert rest.get(f"/changes/{number}")["status"] == "MERGED"
    again = tmp_path / "again"
    git(tmp_path, "clone", "-q", server.git_url(PROJECT), str(again))
    assert (again / "greet.py").read_text() == GREET_V2
    assert not (again / "broken.py").exists()

    # The CI's stream saw the whole story of the change, in order, each event once.
    landed = ci.wait_for_event("change-merged", number).data["newRev"]
    assert landed == git(again, "rev-parse", "HEAD").strip()
    [updated] = [e for e in ci.seen if e.type == "ref-updated"]
    assert updated.data["refUpdate"] == {
        "oldRev": first_parent(again),
        "newRev": landed,
        "refName": "refs/heads/master",
        "project": PROJECT,
    }
    story = [e for e in ci.seen if change_of(e) == number or e is updated]
    # The branch moves first, then the change is recorded merged, as in Gerrit's
    # submit (ref updates are fired before the merge's own event).
    assert [e.type for e in story] == [
        "patchset-created",
        "comment-added",
        "comment-added",
        "comment-added",
        "comment-added",
        "patchset-created",
        "comment-added",
        "comment-added",
        "comment-added",
        "ref-updated",
        "change-merged",
    ]
    assert [e.data["author"]["username"] for e in story if e.type == "comment-added"] == [
        "acme-ci",
        "core",
        "bob",
        "alice",
        "core",
        "acme-ci",
        "zuul",
    ]
    ids = [e.id for e in ci.seen]
    assert ids == sorted(set(ids)), "an event came twice or out of order"
    assert ci.voted == {(number, 1), (number, 2), (broken, 1)}

    # The CI's review of the broken change reads back with pygerrit2, inline comment too.
    as_ci = ci.rest
    comments = as_ci.get(f"/changes/{broken}/comments")
    assert [(c["line"], c["tag"], c["author"]["username"]) for c in comments["broken.py"]] == [
        (2, TAG, "acme-ci")
    ]
    assert comments["broken.py"][0]["message"].startswith("SyntaxError: ")
    detail = as_ci.get(f"/changes/{broken}/detail")
    assert detail["labels"]["Verified"]["disliked"]["username"] == "acme-ci"
    assert (
        detail["messages"][-1]["message"]
        == "Patch Set 1: Verified-1\n\n(1 comment)\n\nBuild failed."
    )
    assert detail["messages"][-1]["tag"] == TAG

    # The CI may not do what its access does not allow, and refusals write nothing.
    before_rows, before_written = row_counts(server), written(server, PROJECT)
    plus_two = post_review(server, broken, {"labels": {"Verified": 2}}, auth=ci.auth)
    assert plus_two.status_code == 403
    assert 'Applying label "Verified": +2 is restricted; you may vote -1..+1' in plus_two.text
    refused_submit = submit(server, broken, auth=ci.auth)
    assert refused_submit.status == 403
    assert f"submit change {broken} not permitted" in refused_submit.text
    assert row_counts(server) == before_rows
    assert written(server, PROJECT) == before_written

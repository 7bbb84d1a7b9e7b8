"""Direct pushes under access rules, through plain git: `push` moves a branch
forward, only `push` with force rewrites or deletes it, `create` makes branches,
`createTag` tags; refs/for uploads follow `push` on refs/for/refs/heads/<branch>."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from lockgate.testing.server import LiveServer
from tests.gitutil import commit, contributor, git, new_change_id
from tests.system.rest import decode, put

PROJECT = "nova"


def grant(server: LiveServer, body: dict[str, Any]) -> None:
    decode(httpx.post(f"{server.url}a/projects/{PROJECT}/access", json=body, auth=server.admin))


def rule(group: str, **fields: Any) -> dict[str, Any]:
    return {"rules": {group: {"action": "ALLOW", **fields}}}


def test_direct_pushes_follow_push_force_create_and_create_tag(
    server: LiveServer, tmp_path: Path
) -> None:
    server.services.projects.create(PROJECT, create_empty_commit=True)
    release = put(server, "groups/nova-release", {}, auth=server.admin)["id"]
    rel = contributor(server, tmp_path, PROJECT, "rel")
    put(server, f"groups/{release}/members/rel", auth=server.admin)
    grant(
        server,
        {
            "add": {
                "refs/heads/*": {"permissions": {"push": rule(release), "create": rule(release)}},
                "refs/tags/*": {"permissions": {"createTag": rule(release)}},
            }
        },
    )
    tip = lambda: server.services.projects.branch_tip(PROJECT, "master")  # noqa: E731

    first = rel.commit("Forward", change_id=new_change_id())
    assert rel.push("HEAD:refs/heads/master").ok
    assert tip() == first

    git(rel.work, "reset", "-q", "--hard", "HEAD~1")
    rewritten = commit(rel.work, "Rewritten history", change_id=new_change_id())
    forced = rel.push("+HEAD:refs/heads/master")
    assert not forced.ok
    assert "prohibited by Gerrit: not permitted: force update" in forced.output, forced.output
    assert tip() == first

    created = rel.push("HEAD:refs/heads/stable/2024.1")
    assert created.ok, created.output
    git(rel.work, "tag", "-a", "-m", "1.0", "1.0")
    assert rel.push("refs/tags/1.0").ok
    deleted = rel.push(":refs/heads/stable/2024.1")
    assert "prohibited by Gerrit: not permitted: delete" in deleted.output, deleted.output

    grant(server, {"add": {"refs/heads/*": {"permissions": {"push": rule(release, force=True)}}}})
    assert rel.push("+HEAD:refs/heads/master").ok
    assert tip() == rewritten
    assert rel.push(":refs/heads/stable/2024.1").ok
    assert server.services.projects.branch_tip(PROJECT, "stable/2024.1") is None

    # Others still only upload for review.
    alice = contributor(server, tmp_path, PROJECT, "alice")
    alice.commit("Straight in", change_id=new_change_id())
    refused = alice.push("HEAD:refs/heads/master")
    assert "prohibited by Gerrit: not permitted: update" in refused.output
    branch = alice.push("HEAD:refs/heads/mine")
    assert "prohibited by Gerrit: not permitted: create" in branch.output


def test_uploads_follow_push_on_the_target_branch(server: LiveServer, tmp_path: Path) -> None:
    server.services.projects.create(
        PROJECT, create_empty_commit=True, branches=["master", "frozen"]
    )
    grant(
        server,
        {
            "add": {
                "refs/for/refs/heads/frozen": {
                    "permissions": {
                        "push": {"rules": {"global:Registered-Users": {"action": "BLOCK"}}}
                    }
                }
            }
        },
    )
    alice = contributor(server, tmp_path, PROJECT, "alice")
    alice.commit("For review", change_id=new_change_id())

    assert alice.push("HEAD:refs/for/master").ok
    frozen = alice.push("HEAD:refs/for/frozen")

    assert not frozen.ok
    assert "not permitted: push to refs/for/refs/heads/frozen" in frozen.output, frozen.output

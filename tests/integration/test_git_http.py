"""Git smart HTTP against a live server: clone, fetch and push with the real git client.

Also the pieces underneath: the CGI runner streaming both ways, the hook
endpoint's token, and the proc-receive pkt-line protocol of the hook.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from lockgate.adapters.git.http_backend import run_cgi
from lockgate.cli.git_hook import pkt, read_pkt, read_until_flush
from lockgate.core.review.model import ProjectState
from lockgate.testing.server import LiveServer, live_server
from lockgate.web.git import parse_git_path
from tests.gitutil import commit, contributor, git, new_change_id

PROJECT = "team/app"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the module, with project team/app holding one commit on master."""
    with live_server(tmp_path_factory.mktemp("git-http") / "site") as live:
        live.services.projects.create(PROJECT, create_empty_commit=True)
        yield live


def change_count(server: LiveServer) -> int:
    with server.services.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM changes")).scalar_one())


# --- clone and fetch -----------------------------------------------------------------


@pytest.mark.parametrize("version", ["0", "2"])
def test_clone_speaks_protocol_v0_and_v2(served: LiveServer, tmp_path: Path, version: str) -> None:
    trace = tmp_path / "trace"
    env = {**os.environ, "GIT_TRACE_PACKET": str(trace)}
    git(
        tmp_path,
        "-c",
        f"protocol.version={version}",
        "clone",
        "-q",
        served.git_url(PROJECT),
        "clone",
        env=env,
    )
    tip = served.services.projects.branch_tip(PROJECT, "master")
    assert git(tmp_path / "clone", "rev-parse", "HEAD").strip() == tip
    spoken = trace.read_text()
    if version == "2":
        assert "< version 2" in spoken
    else:
        assert "< version 2" not in spoken
        assert "refs/heads/master" in spoken


@pytest.mark.parametrize("path", ["{p}", "{p}.git", "a/{p}", "a/{p}.git"])
def test_clone_at_each_address(served: LiveServer, tmp_path: Path, path: str) -> None:
    name, password = served.admin
    host = served.url.split("://", 1)[1]
    url = f"http://{name}:{password}@{host}{path.format(p=PROJECT)}"
    git(tmp_path, "clone", "-q", url, "clone")
    assert (tmp_path / "clone" / ".git").is_dir()


def test_the_authenticated_address_needs_credentials(served: LiveServer, tmp_path: Path) -> None:
    response = httpx.get(f"{served.url}a/{PROJECT}/info/refs?service=git-upload-pack")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="lockgate"'
    result = subprocess.run(
        ["git", "clone", "-q", f"{served.url}a/{PROJECT}", "clone"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0


def test_anonymous_reads_ignore_bad_credentials(served: LiveServer) -> None:
    # git-review sends the user name of the remote URL with an empty or stale password.
    response = httpx.get(
        f"{served.url}{PROJECT}.git/info/refs?service=git-upload-pack",
        auth=("nobody", "wrong"),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-git-upload-pack-advertisement"
    assert b"refs/heads/master" in response.content


def test_unknown_and_hidden_projects_are_not_found(served: LiveServer) -> None:
    for path in ("nope/info/refs?service=git-upload-pack", "info/refs?service=git-upload-pack"):
        response = httpx.get(served.url + path)
        assert response.status_code == 404
        assert response.text == "Repository not found\n"
    served.services.projects.create("secret", create_empty_commit=True)
    with served.services.engine.begin() as conn:
        conn.execute(
            text("UPDATE projects SET state = :s WHERE name = 'secret'"),
            {"s": ProjectState.HIDDEN.value},
        )
    response = httpx.get(f"{served.url}secret/info/refs?service=git-upload-pack")
    assert response.status_code == 404
    response = httpx.get(
        f"{served.url}a/secret/info/refs?service=git-upload-pack", auth=served.admin
    )
    assert response.status_code == 200


def test_every_push_keeps_the_commit_graph_written(served: LiveServer, tmp_path: Path) -> None:
    alice = contributor(served, tmp_path, PROJECT, "alice")
    alice.commit("Graphed", change_id=new_change_id())
    assert alice.push("HEAD:refs/for/master").ok
    repo = served.services.repos.path(PROJECT)
    chain = repo / "objects" / "info" / "commit-graphs" / "commit-graph-chain"
    assert chain.is_file()
    verified = subprocess.run(
        ["git", "--git-dir", str(repo), "commit-graph", "verify"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr


# --- push ------------------------------------------------------------------------------


def test_a_push_without_credentials_is_refused(served: LiveServer, tmp_path: Path) -> None:
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", served.git_url(PROJECT), str(work))
    commit(work, "Anonymous", change_id=new_change_id())
    before = change_count(served)
    response = httpx.get(f"{served.url}{PROJECT}/info/refs?service=git-receive-pack")
    assert response.status_code == 401

    result = subprocess.run(
        ["git", "push", served.git_url(PROJECT), "HEAD:refs/for/master"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "terminal prompts disabled" in result.stderr
    assert change_count(served) == before


def test_a_push_with_a_wrong_password_is_refused(served: LiveServer, tmp_path: Path) -> None:
    alice = contributor(served, tmp_path, PROJECT, "alice")
    alice.commit("Wrong password", change_id=new_change_id())
    before = change_count(served)
    url = served.git_url(PROJECT, user="alice", password="not-it")

    result = subprocess.run(
        ["git", "push", url, "HEAD:refs/for/master"],
        cwd=alice.work,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "Authentication failed" in result.stderr
    assert change_count(served) == before


def test_a_push_larger_than_a_mebibyte_streams_in_chunks(
    served: LiveServer, tmp_path: Path
) -> None:
    alice = contributor(served, tmp_path, PROJECT, "alice")
    # Random bytes do not compress: the pack is as big as the file.
    (alice.work / "blob.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    git(alice.work, "add", "blob.bin")
    sha = alice.commit("Big blob", change_id=new_change_id())
    trace = tmp_path / "curl-trace"
    env = {**os.environ, "GIT_TRACE_CURL": str(trace), "GIT_TRACE_CURL_NO_DATA": "1"}

    result = subprocess.run(
        ["git", "push", alice.url, "HEAD:refs/for/master"],
        cwd=alice.work,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )

    assert result.returncode == 0, result.stderr
    assert "Transfer-Encoding: chunked" in trace.read_text()
    refs = served.services.repos.refs(PROJECT, "refs/changes/")
    assert sha in refs.values()
    repo = served.services.repos.path(PROJECT)
    fsck = subprocess.run(
        ["git", "--git-dir", str(repo), "fsck", "--strict"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert served.services.repos.refs(PROJECT, "refs/for/") == {}


def test_a_repository_pushed_to_directly_refuses_review_refs(
    served: LiveServer, tmp_path: Path
) -> None:
    """A push that bypasses the server finds no hook: it fails instead of creating
    a literal refs/for ref."""
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", served.git_url(PROJECT), str(work))
    commit(work, "Bypass", change_id=new_change_id())
    repo = served.services.repos.path(PROJECT)

    result = subprocess.run(
        ["git", "push", str(repo), "HEAD:refs/for/master"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert served.services.repos.refs(PROJECT, "refs/for/") == {}


# --- the hook endpoint ---------------------------------------------------------------


def test_the_hook_endpoint_wants_the_servers_token(served: LiveServer) -> None:
    payload = {"project": PROJECT, "user": "admin", "commands": [], "push_options": []}
    url = f"{served.url}internal/git-hooks/proc-receive"
    assert httpx.post(url, json=payload).status_code == 403
    wrong = {"X-Lockgate-Hook-Token": "guess"}
    assert httpx.post(url, json=payload, headers=wrong).status_code == 403
    right = {"X-Lockgate-Hook-Token": served.services.hook_token}
    response = httpx.post(url, json=payload, headers=right)
    assert response.status_code == 200
    assert response.json()["ok"] is True


# --- pieces ------------------------------------------------------------------------------


def test_git_paths_name_the_project_and_service() -> None:
    found = parse_git_path("/team/app.git/info/refs", "service=git-receive-pack")
    assert found is not None
    assert (found.project, found.suffix, found.service) == (
        "team/app",
        "/info/refs",
        "git-receive-pack",
    )
    found = parse_git_path("/team%2Fapp/git-upload-pack", "")
    assert found is not None and found.project == "team/app"
    assert parse_git_path("/info/refs", "service=git-upload-pack") is None
    assert parse_git_path("/changes/", "") is None


def test_pkt_lines_round_trip() -> None:
    stream = io.BytesIO(pkt(b"version=1\0push-options") + b"0000" + pkt(b"ok refs/for/x\n"))
    assert read_until_flush(stream) == [b"version=1\0push-options"]
    assert read_pkt(stream) == b"ok refs/for/x\n"
    assert pkt(b"") == b"0004"


class _Client:
    """The ASGI side of one request: body chunks in, response messages out."""

    def __init__(self, chunks: list[bytes], *, disconnect: bool = False) -> None:
        self.incoming: list[dict[str, Any]] = [
            {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
            for i, c in enumerate(chunks)
        ]
        self.disconnect = disconnect
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if self.incoming:
            return self.incoming.pop(0)
        if self.disconnect:
            return {"type": "http.disconnect"}
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


def test_the_cgi_runner_streams_the_body_both_ways() -> None:
    client = _Client([b"one ", b"two ", b"three"])
    script = "printf 'Status: 201 Created\\r\\nX-Thing: yes\\r\\n\\r\\n'; cat"

    code = asyncio.run(
        run_cgi(client.receive, client.send, argv=["sh", "-c", script], env=dict(os.environ))
    )

    assert code == 0
    start = client.sent[0]
    assert start["status"] == 201
    assert (b"x-thing", b"yes") in start["headers"]
    body = b"".join(m.get("body", b"") for m in client.sent[1:])
    assert body == b"one two three"
    assert client.sent[-1]["more_body"] is False


def test_the_cgi_runner_stops_the_program_when_the_client_leaves() -> None:
    client = _Client([b"x"], disconnect=True)
    script = "printf 'Content-Type: text/plain\\r\\n\\r\\nhello'; sleep 30"
    started = time.monotonic()

    asyncio.run(
        run_cgi(client.receive, client.send, argv=["sh", "-c", script], env=dict(os.environ))
    )

    assert time.monotonic() - started < 10


def test_the_cgi_runner_answers_500_when_the_program_fails_early() -> None:
    client = _Client([b""])

    asyncio.run(
        run_cgi(
            client.receive,
            client.send,
            argv=["sh", "-c", "echo broken >&2; exit 3"],
            env=dict(os.environ),
        )
    )

    assert client.sent[0]["status"] == 500
    assert b"broken" in client.sent[1]["body"]


def test_a_read_only_project_takes_no_uploads(served: LiveServer, tmp_path: Path) -> None:
    served.services.projects.create("frozen", create_empty_commit=True)
    alice = contributor(served, tmp_path, "frozen", "alice")
    alice.commit("Too late", change_id=new_change_id())
    with served.services.engine.begin() as conn:
        conn.execute(
            text("UPDATE projects SET state = :s WHERE name = 'frozen'"),
            {"s": ProjectState.READ_ONLY.value},
        )

    pushed = alice.push("HEAD:refs/for/master")

    assert not pushed.ok
    assert (
        " ! [remote rejected] HEAD -> refs/for/master "
        "(prohibited by Gerrit: project state READ_ONLY does not permit write)"
    ) in pushed.output
    assert served.services.repos.refs("frozen", "refs/changes/") == {}

"""Autoholds through the live server: an administrator holds a job's failed
build's nodes, lists them (in Zuul's shape, with the held nodes), and deletes
the autohold, which lets the nodes go; the CLI does the same over REST."""

from __future__ import annotations

import httpx
import pytest

from lockgate.cli.main import main
from lockgate.services.launcher import NodeLauncher
from lockgate.services.node_ports import PoolInfo
from lockgate.testing.fake_provider import FakeProvider
from lockgate.testing.server import LiveServer

PROJECT = "org/app"


def api(server: LiveServer, method: str, path: str, body=None, *, admin: bool = True):
    auth = server.admin if admin else None
    return httpx.request(method, f"{server.url}api/tenant/main/{path}", json=body, auth=auth)


def test_an_autohold_keeps_a_failed_builds_node_until_it_is_deleted(server: LiveServer) -> None:
    made = api(
        server,
        "POST",
        f"project/{PROJECT}/autohold",
        {
            "job": "unit",
            "change": 1234,
            "reason": "flaky test",
            "count": 2,
            "node_hold_expiration": 3600,
        },
    )
    assert made.status_code == 200 and made.json() is True
    [hold] = api(server, "GET", "autohold", admin=False).json()
    assert {
        k: hold[k]
        for k in (
            "project",
            "job",
            "ref_filter",
            "max_count",
            "current_count",
            "reason",
            "node_expiration",
            "nodes",
        )
    } == {
        "project": PROJECT,
        "job": "unit",
        "ref_filter": "refs/changes/34/1234/.*",
        "max_count": 2,
        "current_count": 0,
        "reason": "flaky test",
        "node_expiration": 3600,
        "nodes": [],
    }

    # a build of that change fails: the launcher holds its node for the autohold
    provider = FakeProvider(pools=[PoolInfo("main", frozenset({"small"}), 2)], steps=1)
    launcher = NodeLauncher(server.services.engine, [provider])
    rid = launcher.request("build-uuid-1", ["small"], precedence=1, relative_priority=0)
    for _ in range(5):
        launcher.step()
    [node] = launcher.accept(rid)
    assert launcher.autohold_for("main", "lib/other", "unit", "refs/changes/34/1234/1") is None
    held_by = launcher.autohold_for("main", PROJECT, "unit", "refs/changes/34/1234/1")
    assert held_by == hold["id"]
    launcher.release([node.id], hold=held_by)

    shown = api(server, "GET", f"autohold/{hold['id']}", admin=False).json()
    assert shown["current_count"] == 1
    assert shown["nodes"] == [{"build": "build-uuid-1", "nodes": [node.id]}]

    gone = api(server, "DELETE", f"autohold/{hold['id']}")
    assert gone.status_code == 204
    assert api(server, "GET", "autohold").json() == []
    for _ in range(5):
        launcher.step()
    assert launcher.nodes() == [] and provider.held() == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({}, '"job"'),
        ({"job": "unit", "ref": "refs/("}, "not a valid regular expression"),
        ({"job": "unit", "change": "abc"}, "change number"),
        ({"job": "unit", "change": 1, "ref": "refs/heads/.*"}, "not both"),
        ({"job": "unit", "count": 0}, "at least 1"),
        ({"job": "unit", "node_hold_expiration": -5}, "node_hold_expiration"),
    ],
)
def test_a_bad_autohold_is_refused_naming_the_problem(
    sqlite_server: LiveServer, body: dict, problem: str
) -> None:
    reply = api(sqlite_server, "POST", f"project/{PROJECT}/autohold", body)
    assert reply.status_code == 400
    assert problem in reply.text


def test_an_unknown_autohold_is_not_found(sqlite_server: LiveServer) -> None:
    assert api(sqlite_server, "GET", "autohold/nope").status_code == 404
    assert api(sqlite_server, "DELETE", "autohold/nope").status_code == 404


def test_the_cli_adds_lists_and_deletes_autoholds(
    sqlite_server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    user, password = sqlite_server.admin
    who = ["--url", sqlite_server.url, "--user", user, "--password", password]
    assert (
        main(
            [
                "autohold",
                "add",
                *who,
                "--project",
                PROJECT,
                "--job",
                "unit",
                "--ref",
                "refs/heads/.*",
                "--reason",
                "nightly breaks",
                "--count",
                "3",
            ]
        )
        == 0
    )
    assert main(["autohold", "list", *who]) == 0
    out = capsys.readouterr().out
    assert "org/app unit ref refs/heads/.*  0/3 builds, 0 nodes held" in out
    assert "nightly breaks" in out
    [hold] = sqlite_server.services.autoholds.list("main")
    assert main(["autohold", "delete", *who, hold.hold.id]) == 0
    assert main(["autohold", "list", *who]) == 0
    assert "no autoholds" in capsys.readouterr().out
    assert main(["autohold", "delete", *who, hold.hold.id]) == 1
    assert "404" in capsys.readouterr().err

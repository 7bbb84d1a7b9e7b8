"""The gating API, the live console and the logs show each caller only what
they may read: a project readable by one team only and a private change are
hidden from anonymous callers (lists leave them out, the rest is a 404, as if
they did not exist), while the administrator sees everything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lockgate.testing.build_history import record_build
from lockgate.testing.gate_harness import GateHarness
from lockgate.testing.gate_layouts import PIPELINES, PROJECTS
from tests.system.test_zuul_api import Api, admin, items_of

SECRET = "org/project1"
# A job of the secret project, and an error in its configuration that quotes it.
SECRET_ZUUL = """\
- job:
    name: secret-job
- job:
    name: secret-broken
    parrent: base
"""


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[GateHarness]:
    harness = GateHarness.create(
        tmp_path / "site", layout=PIPELINES, projects={**PROJECTS, SECRET: SECRET_ZUUL}
    )
    yield harness
    harness.close()


def _only_the_team_reads(api: Api, who: tuple[str, str], project: str) -> None:
    made = api.request("PUT", "/a/groups/secret-team", json={}, auth=who)
    found = re.search(r'"id":\s*"([^"]+)"', made.text)
    assert found is not None, made.text
    rules = {"read": {"exclusive": True, "rules": {found.group(1): {"action": "ALLOW"}}}}
    granted = api.post(
        f"/a/projects/{project.replace('/', '%2F')}/access",
        json={"add": {"refs/*": {"permissions": rules}}},
        auth=who,
    )
    assert granted.status_code == 200, granted.text


def _changes(rows: list[dict[str, Any]]) -> set[int]:
    return {row["change"] for row in rows}


def test_hidden_projects_and_private_changes_stay_hidden_everywhere(gate: GateHarness) -> None:
    api = Api(gate)
    who = admin(gate)
    gate.executor.hold_jobs_in_build = True
    public = gate.change("org/project", "Public")
    secret = gate.change(SECRET, "Secret")
    private = gate.change("org/project", "Private")
    gate.services.edits.set_private(str(private.number), gate.owner, True, None)
    gate.settle()

    def as_anonymous(path: str, **kwargs: Any) -> Any:
        return api.get(f"/api/tenant/main/{path}", **kwargs)

    def as_admin(path: str, **kwargs: Any) -> Any:
        return api.get(f"/api/tenant/main/{path}", auth=who, **kwargs)

    # The status: the others' items are not in it, nor found by change.
    def checked(status: dict[str, Any]) -> set[int]:
        return {item["refs"][0]["change"] for item in items_of(status, "check")}

    assert checked(as_anonymous("status").json()) == {public.number, secret.number}
    _only_the_team_reads(api, who, SECRET)
    assert checked(as_anonymous("status").json()) == {public.number}
    assert checked(as_admin("status").json()) == {public.number, secret.number, private.number}
    for hidden in (secret, private):
        assert as_anonymous(f"status/change/{hidden.key}").json() == []
        assert as_admin(f"status/change/{hidden.key}").json() != []

    gate.executor.hold_jobs_in_build = False
    gate.executor.release()
    gate.settle()

    # The history: lists leave them out, each one is a 404.
    everyone = {public.number, secret.number, private.number}
    assert _changes(as_anonymous("builds").json()) == {public.number}
    assert _changes(as_admin("builds").json()) == everyone
    assert as_anonymous("builds", params={"project": SECRET}).json() == []
    assert _changes(as_anonymous("buildsets").json()) == {public.number}
    assert _changes(as_admin("buildsets").json()) == everyone
    for hidden in (secret, private):
        [build, *_] = as_admin("builds", params={"change": hidden.number}).json()
        assert as_anonymous(f"build/{build['uuid']}").status_code == 404
        assert as_admin(f"build/{build['uuid']}").json()["uuid"] == build["uuid"]
        buildset = build["buildset"]["uuid"]
        assert as_anonymous(f"buildset/{buildset}").status_code == 404
        assert as_admin(f"buildset/{buildset}").json()["uuid"] == buildset

    # The layout: the secret project, its jobs and its configuration errors.
    assert SECRET not in {p["name"] for p in as_anonymous("projects").json()}
    assert SECRET in {p["name"] for p in as_admin("projects").json()}
    assert "secret-job" not in {j["name"] for j in as_anonymous("jobs").json()}
    assert "secret-job" in {j["name"] for j in as_admin("jobs").json()}
    assert as_anonymous("config-errors").json() == []
    [error] = as_admin("config-errors").json()
    assert error["source_context"]["project"] == SECRET

    # The console and the logs, also when a readable build's folder links into a hidden one.
    services = gate.services
    shown = record_build(services, project="org/project", job="unit", result="SUCCESS")
    of_secret = record_build(
        services, project=SECRET, job="unit", console="the secret\n", result="SUCCESS"
    )
    of_private = record_build(
        services,
        project="org/project",
        job="unit",
        change=private.number,
        patchset=1,
        console="the private\n",
        result="SUCCESS",
    )
    (shown.folder / "peek").symlink_to(of_secret.folder)
    assert as_anonymous(f"console-stream/{shown.uuid}").status_code == 200
    assert api.get(f"/logs/{shown.log_path}/job-output.txt").status_code == 200
    assert api.get(f"/logs/{shown.log_path}/peek/job-output.txt").status_code == 404
    above = of_secret.log_path.rsplit("/", 1)[0]
    assert api.get(f"/logs/{above}/").status_code == 200, "no build's folder: open"
    for hidden in (of_secret, of_private):
        assert as_anonymous(f"console-stream/{hidden.uuid}").status_code == 404
        assert "the " in as_admin(f"console-stream/{hidden.uuid}").text
        for path in (f"{hidden.log_path}/", f"{hidden.log_path}/job-output.txt"):
            assert api.get(f"/logs/{path}").status_code == 404, path
            assert api.get(f"/logs/{path}", auth=who).status_code == 200, path
    assert api.get(f"/logs/{shown.log_path}/peek/job-output.txt", auth=who).text == "the secret\n"

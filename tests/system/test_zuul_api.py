"""The scheduler's REST API in Zuul's shapes: what the status page, zuul-client
and scripts read, and the admin's enqueue, dequeue and promote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from lockgate.testing.gate_harness import GateHarness
from lockgate.testing.gate_layouts import PIPELINES, PROJECTS
from lockgate.web.app import create_app


@pytest.fixture
def gate(tmp_path: Path, database_url: str) -> Iterator[GateHarness]:
    harness = GateHarness.create(
        tmp_path / "site", layout=PIPELINES, projects=PROJECTS, database_url=database_url
    )
    yield harness
    harness.close()


class Api:
    """The app called in process, without its lifespan: that would start the
    scheduler's own loop, and these stories step the scheduler themselves."""

    def __init__(self, gate: GateHarness) -> None:
        self._app = create_app(gate.services)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self._app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await client.request(method, path, **kwargs)

        return anyio.run(call)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)


@pytest.fixture
def api(gate: GateHarness) -> Api:
    return Api(gate)


def admin(gate: GateHarness) -> tuple[str, str]:
    password = gate.services.site.credentials_file.read_text().split("password=")[1].strip()
    return ("admin", password)


def items_of(status: dict[str, Any], pipeline: str) -> list[dict[str, Any]]:
    [found] = [p for p in status["pipelines"] if p["name"] == pipeline]
    return [item for q in found["change_queues"] for head in q["heads"] for item in head]


def test_the_status_shows_a_running_gate_and_the_history_its_builds(
    gate: GateHarness, api: Api
) -> None:
    gate.executor.hold_jobs_in_build = True
    a = gate.change("org/project", "A")
    gate.approve(a)
    gate.settle()
    tenants = api.get("/api/tenants").json()
    # one item in check, one in the gate
    assert {"name": "main", "projects": tenants[0]["projects"], "queue": 2} in tenants
    status = api.get("/api/tenant/main/status").json()
    [item] = items_of(status, "gate")
    assert item["live"] is True and item["active"] is True
    assert item["refs"][0]["id"] == a.key
    assert [j["name"] for j in item["jobs"]] == ["project-merge", "project-test1", "project-test2"]
    running = [j for j in item["jobs"] if j["start_time"] and not j["result"]]
    assert [j["name"] for j in running] == ["project-merge"]
    # in check and in the gate
    found = api.get(f"/api/tenant/main/status/change/{a.key}").json()
    assert item["id"] in [i["id"] for i in found] and len(found) == 2

    gate.executor.hold_jobs_in_build = False
    gate.executor.release()
    gate.settle()
    builds = api.get("/api/tenant/main/builds", params={"pipeline": "gate"}).json()
    assert sorted(b["job_name"] for b in builds) == [
        "project-merge",
        "project-test1",
        "project-test2",
    ]
    assert {b["result"] for b in builds} == {"SUCCESS"}
    assert all(b["change"] == a.number and b["log_url"].startswith("https://") for b in builds)
    one = api.get(f"/api/tenant/main/build/{builds[0]['uuid']}").json()
    assert one["uuid"] == builds[0]["uuid"]
    [buildset] = api.get(
        "/api/tenant/main/buildsets", params={"pipeline": "gate", "change": a.number}
    ).json()
    assert buildset["result"] == "SUCCESS"
    [checked] = api.get(
        "/api/tenant/main/buildsets", params={"pipeline": "check", "change": a.number}
    ).json()
    assert checked["result"] == "SUCCESS"
    detail = api.get(f"/api/tenant/main/buildset/{buildset['uuid']}").json()
    assert len(detail["builds"]) == 3
    branch = builds[0]["branch"]
    assert len(api.get("/api/tenant/main/builds", params={"branch": branch}).json()) >= 3
    assert api.get("/api/tenant/main/builds", params={"branch": "no-such"}).json() == []
    assert api.get("/api/tenant/main/build/nope").status_code == 404
    assert api.get("/api/tenant/other/status").status_code == 404


def test_the_layout_is_listed_jobs_projects_pipelines_and_config_errors(
    gate: GateHarness, api: Api
) -> None:
    jobs = {j["name"]: j for j in api.get("/api/tenant/main/jobs").json()}
    assert {"base", "project-merge", "project-test1"} <= set(jobs)
    assert jobs["project-test1"]["variants"][0]["parent"] == "base"
    projects = {p["name"]: p for p in api.get("/api/tenant/main/projects").json()}
    assert projects["project-config"]["type"] == "config"
    assert projects["org/project"]["type"] == "untrusted"
    assert projects["org/project"]["connection_name"] == "gerrit"
    pipelines = {p["name"]: p for p in api.get("/api/tenant/main/pipelines").json()}
    assert pipelines["gate"]["manager"] == "dependent"
    assert api.get("/api/tenant/main/config-errors").json() == []

    gate.write_config("org/project", {".zuul.yaml": "- job:\n    name: x\n    parrent: base\n"})
    gate.gating.reload()
    [error] = api.get("/api/tenant/main/config-errors").json()
    assert error["source_context"] == {
        "project": "org/project",
        "branch": "master",
        "path": ".zuul.yaml",
    }
    assert (error["line"], error["column"]) == (3, 5)
    assert "parrent" in error["error"]


def test_an_admin_enqueues_dequeues_and_promotes(gate: GateHarness, api: Api) -> None:
    gate.executor.hold_jobs_in_build = True
    a = gate.change("org/project", "A")
    b = gate.change("org/project", "B")
    gate.settle()
    for change in (a, b):
        # approved, but in an order the gate's trigger does not take: its
        # Workflow +1 came before the Code-Review +2 the gate requires
        gate.review(change, {"Workflow": 1})
        gate.settle()
        gate.review(change, {"Code-Review": 2})
        gate.settle()
    assert items_of(gate_status(api), "gate") == []
    body = {"pipeline": "gate", "change": a.key}
    assert api.post("/api/tenant/main/project/org/project/enqueue", json=body).status_code == 401
    assert (
        api.post(
            "/api/tenant/main/project/org/project/enqueue", json=body, auth=("dev", "x")
        ).status_code
        == 401
    )
    who = admin(gate)
    wrong = api.post(
        "/api/tenant/main/project/org/project/enqueue",
        json={"pipeline": "nope", "change": a.key},
        auth=who,
    )
    assert wrong.status_code == 400 and "no pipeline 'nope'" in wrong.text
    for change in (a, b):
        reply = api.post(
            "/api/tenant/main/project/org/project/enqueue",
            json={"pipeline": "gate", "change": change.key},
            auth=who,
        )
        assert reply.status_code == 200, reply.text
    gate.settle()
    assert [i["refs"][0]["id"] for i in items_of(gate_status(api), "gate")] == [a.key, b.key]

    reply = api.post(
        "/api/tenant/main/promote", json={"pipeline": "gate", "changes": [b.key]}, auth=who
    )
    assert reply.status_code == 200, reply.text
    gate.settle()
    assert [i["refs"][0]["id"] for i in items_of(gate_status(api), "gate")] == [b.key, a.key]

    reply = api.post(
        "/api/tenant/main/project/org/project/dequeue",
        json={"pipeline": "gate", "change": a.key},
        auth=who,
    )
    assert reply.status_code == 200, reply.text
    gate.settle()
    assert [i["refs"][0]["id"] for i in items_of(gate_status(api), "gate")] == [b.key]
    gate.executor.hold_jobs_in_build = False
    gate.executor.release()
    gate.settle()
    assert gate.status(b) == "MERGED"
    assert gate.status(a) == "NEW"


def gate_status(api: Api) -> dict[str, Any]:
    return api.get("/api/tenant/main/status").json()

"""The build pages show job names, file names and job output as text, hide
the builds of projects and private changes a viewer may not read, and take
no autohold form without its CSRF token or from someone not allowed."""

from __future__ import annotations

import re

import httpx

from lockgate.testing.build_history import record_build
from lockgate.testing.seed import seed_change
from lockgate.testing.server import LiveServer

EVIL = "<img src=x onerror=alert(1)>"


def _session(server: LiveServer, username: str, password: str) -> tuple[httpx.Client, str]:
    """A browser-like client signed in through the sign-in form, and its CSRF token."""
    client = httpx.Client(base_url=server.url, timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    signed_in = client.post(
        "/login", data={"csrf_token": token.group(1), "username": username, "password": password}
    )
    assert signed_in.status_code == 303
    own = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/settings").text)
    assert own is not None
    return client, own.group(1)


def test_markup_in_job_names_file_names_and_output_is_text(sqlite_server: LiveServer) -> None:
    server = sqlite_server
    services = server.services
    services.projects.create("org/app", create_empty_commit=True)
    build = record_build(
        services,
        project="org/app",
        job=f"job{EVIL}",
        change=5,
        patchset=1,
        console=f"ERROR: {EVIL}\n",
    )
    (build.folder / f"{EVIL}.txt").write_text(f"{EVIL}\n")
    http = httpx.Client(base_url=server.url, timeout=10)

    pages = {
        "list": http.get("/t/main/builds"),
        "build": http.get(f"/t/main/build/{build.uuid}"),
        "console": http.get(f"/t/main/stream/{build.uuid}"),
        "folder": http.get(f"/t/main/build/{build.uuid}/log/"),
        "log": http.get(f"/t/main/build/{build.uuid}/log/job-output.txt"),
        "file": http.get(
            f"/t/main/build/{build.uuid}/log/" + httpx.URL(f"/{EVIL}.txt").raw_path.decode()[1:]
        ),
    }

    for name, answer in pages.items():
        assert answer.status_code == 200, name
        assert EVIL not in answer.text, f"markup reached the {name} page"
        assert "&lt;img src=x onerror=alert(1)&gt;" in answer.text, name
        assert "script-src 'self'" in answer.headers["content-security-policy"], name
    assert 'class="ln sev-error"' in pages["log"].text
    assert http.get("/t/main/build/nope").status_code == 404
    assert http.get(f"/t/main/build/{build.uuid}/log/../../x").status_code == 404


def test_builds_of_unreadable_projects_and_private_changes_stay_hidden(
    sqlite_server: LiveServer,
) -> None:
    server = sqlite_server
    services = server.services
    for name in ("org/app", "org/secret"):
        services.projects.create(name, create_empty_commit=True)
    admin = httpx.Client(base_url=server.url, auth=server.admin, timeout=10)
    team = admin.put("/a/groups/secret-team", json={}).text
    team_id = re.search(r'"id":\s*"([^"]+)"', team)
    assert team_id is not None
    read_only_team = {"read": {"exclusive": True, "rules": {team_id.group(1): {"action": "ALLOW"}}}}
    granted = admin.post(
        "/a/projects/org%2Fsecret/access",
        json={"add": {"refs/*": {"permissions": read_only_team}}},
    )
    assert granted.status_code == 200, granted.text
    private = seed_change(services, "org/app", owner="admin", subject="Private")
    services.edits.set_private(
        str(private.change_number), services.accounts.get("admin"), True, None
    )
    public = record_build(services, project="org/app", job="unit-public", result="SUCCESS")
    hidden = record_build(services, project="org/secret", job="unit-secret", result="FAILURE")
    mine = record_build(
        services,
        project="org/app",
        job="unit-private",
        change=private.change_number,
        patchset=1,
        result="SUCCESS",
    )
    anonymous = httpx.Client(base_url=server.url, timeout=10)

    listed = anonymous.get("/t/main/builds").text
    assert "unit-public" in listed
    assert "unit-secret" not in listed and "unit-private" not in listed
    assert "unit-secret" not in anonymous.get("/t/main/builds?project=org/secret").text
    assert "org/secret" not in anonymous.get("/t/main/buildsets").text
    for uuid in (hidden.uuid, mine.uuid):
        for path in ("build/{}", "stream/{}", "build/{}/log/job-output.txt"):
            assert anonymous.get(f"/t/main/{path.format(uuid)}").status_code == 404, path
    assert anonymous.get(f"/t/main/buildset/{hidden.buildset}").status_code == 404
    assert anonymous.get(f"/t/main/build/{public.uuid}").status_code == 200
    # The administrator sees all of them.
    client, _ = _session(server, *server.admin)
    everything = client.get("/t/main/builds").text
    assert all(job in everything for job in ("unit-public", "unit-secret", "unit-private"))


def test_autohold_forms_refuse_without_the_token_and_for_those_not_allowed(
    sqlite_server: LiveServer,
) -> None:
    server = sqlite_server
    services = server.services
    services.projects.create("org/app", create_empty_commit=True)
    services.accounts.create_account("dev", http_password="pw-dev")
    autoholds = services.autoholds
    assert autoholds is not None
    held = autoholds.add("main", "org/app", "unit", reason="kept")
    form = {"project": "org/app", "job": "unit", "count": "1", "expiry": "0", "reason": "forged"}

    anonymous = httpx.Client(base_url=server.url, timeout=10)
    page = anonymous.get("/t/main/autoholds").text
    assert "kept" in page and "<form" not in page.split("<main")[1].split("</main>")[0]
    forged = anonymous.post("/t/main/autoholds", data=form)
    assert forged.status_code == 403 and "security token" in forged.text
    assert anonymous.post(f"/t/main/autohold/{held.id}/delete").status_code == 403

    admin, token = _session(server, *server.admin)
    assert admin.post("/t/main/autoholds", data=form).status_code == 403, "no token"
    assert admin.post("/t/main/autoholds", data={**form, "csrf_token": "x"}).status_code == 403
    assert admin.post(f"/t/main/autohold/{held.id}/delete").status_code == 403

    dev, dev_token = _session(server, "dev", "pw-dev")
    assert "Add an autohold" not in dev.get("/t/main/autoholds").text
    refused = dev.post("/t/main/autoholds", data={**form, "csrf_token": dev_token})
    assert refused.status_code == 403 and "administrators" in refused.text
    gone = dev.post(f"/t/main/autohold/{held.id}/delete", data={"csrf_token": dev_token})
    assert gone.status_code == 403
    assert [v.hold.reason for v in autoholds.list("main")] == ["kept"], "nothing changed"

    made = admin.post("/t/main/autoholds", data={**form, "csrf_token": token})
    assert made.status_code == 303
    assert sorted(v.hold.reason for v in autoholds.list("main")) == ["forged", "kept"]

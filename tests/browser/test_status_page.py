"""The live status page, watched while a gate runs: an item arrives, its jobs
run and end, one fails, all without a reload; the filter; the same page
without JavaScript; an administrator dequeues, enqueues and promotes from it,
and nobody else can; and nobody sees what they may not read.

The gate is the system harness's (real review server, real scheduler, the
fake executor whose builds the story holds and releases), served on a
loopback port without the server's own scheduler loop, so that the story
steps the scheduler itself between looks at the page.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Locator, Page, expect

from lockgate.testing.browser import screenshot, sign_in
from lockgate.testing.fake_executor import FakeExecutor
from lockgate.testing.gate_harness import GateHarness
from lockgate.testing.gate_layouts import PIPELINES, PROJECTS
from lockgate.web.app import create_app

EVIL_SUBJECT = "<img src=x onerror=alert(1)> Fix the <b>parser</b>"
EVIL_JOB = "<i>evil</i>-job"
LAYOUT = (
    PIPELINES
    + f"""
- job:
    name: "{EVIL_JOB}"
    voting: false

- project:
    name: org/html
    check:
      jobs:
        - "{EVIL_JOB}"
"""
)


@dataclass
class Site:
    gate: GateHarness
    url: str

    @property
    def admin(self) -> tuple[str, str]:
        text = self.gate.services.site.credentials_file.read_text()
        return ("admin", text.split("password=")[1].strip())

    def status_url(self, query: str = "") -> str:
        return f"{self.url}t/main/status{query}"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    # Builds start "now", so that elapsed times and progress bars look real.
    executor = FakeExecutor(clock=time.time())
    gate = GateHarness.create(
        tmp_path / "site",
        layout=LAYOUT,
        projects={**PROJECTS, "org/html": None},
        executor=executor,
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(gate.services), lifespan="off", log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield Site(gate, f"http://127.0.0.1:{port}/")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        gate.close()


def _item(page: Page, pipeline: str, change: str) -> Locator:
    """The item of `change` ("N,P") in `pipeline`."""
    return page.locator(f'section[data-pipeline="{pipeline}"] article.item').filter(
        has=page.locator(".ref-change", has_text=re.compile(f"^{re.escape(change)}$"))
    )


def _job(item: Locator, name: str) -> Locator:
    """The line of job `name` in the item."""
    return item.locator("li.job").filter(
        has=item.page.locator(".job-name", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def test_the_status_page_follows_the_gate_live_and_an_admin_acts_from_it(
    site: Site, page: Page, browser: Browser
) -> None:
    gate, executor = site.gate, site.gate.executor
    a = gate.change("org/project", EVIL_SUBJECT)
    gate.settle()  # its check builds: the history the progress bars estimate from
    executor.clock = time.time()
    executor.hold_jobs_in_build = True
    html = gate.change("org/html", "A job with markup in its name")
    gate.approve(a)
    gate.settle()

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.goto(site.status_url())
    expect(page.locator("#status")).to_have_attribute("data-updates", re.compile(r"^[1-9]"))
    page.evaluate("window.sameDocument = true")
    item = _item(page, "gate", a.key)
    expect(item).to_have_count(1)
    expect(item).to_have_class(re.compile(r"\bsucceeding\b"))
    # user data is text: the subject and the job name show their markup, which does nothing
    expect(item.locator(".ref-subject")).to_have_text(EVIL_SUBJECT)
    expect(item.locator("img, b")).to_have_count(0)
    expect(item.locator(".ref-change")).to_have_attribute("href", f"/c/org/project/+/{a.number}")
    merge = _job(item, "project-merge")
    expect(merge).to_have_class(re.compile(r"\brunning\b"))
    # the check run gave project-merge an estimate: a bar that says how far
    expect(merge.locator("progress")).to_have_attribute("value", re.compile(r"^\d+$"))
    expect(merge.locator("a.job-name")).to_have_attribute(
        "href", re.compile(r"^/t/main/stream/[\w-]+$")
    )
    expect(_job(item, "project-test1").locator(".badge")).to_have_text("waiting")
    evil = _job(_item(page, "check", html.key), EVIL_JOB)
    expect(evil.locator(".job-name")).to_have_text(EVIL_JOB)
    expect(evil.locator(".nonvoting")).to_be_visible()
    expect(evil.locator("i")).to_have_count(0)

    # the gate moves on; the page follows without being loaded again
    executor.release("project-merge", a.key)
    gate.settle()
    expect(merge.locator(".badge")).to_have_text("SUCCESS")
    expect(merge.locator("a.job-name")).to_have_attribute(
        "href", re.compile(r"^/t/main/build/[\w-]+$")
    )
    expect(merge.locator(".badge")).to_have_attribute("href", re.compile(r"^https://logs"))
    expect(_job(item, "project-test1")).to_have_class(re.compile(r"\brunning\b"))

    b = gate.change("org/project", "Make the cache thread-safe")
    gate.approve(b)
    executor.fail("project-test1", b.key)
    gate.settle()
    executor.release("project-merge", b.key)
    gate.settle()
    executor.release("project-test1", b.key)
    gate.settle()
    failing = _item(page, "gate", b.key)
    expect(failing).to_have_class(re.compile(r"\bfailing\b"))
    expect(failing.locator(".item-failing")).to_have_text("Failing because at least one job failed")
    expect(_job(failing, "project-test1").locator(".badge")).to_have_text("FAILURE")
    expect(page.locator('section[data-pipeline="gate"] .queue-head')).to_contain_text("window 20")

    # the filter keeps what matches the project or the change, and says so in the address
    page.locator("#status-filter").fill("org/html")
    expect(page.locator("article.item:visible")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"\?filter=org%2Fhtml$"))
    page.locator("#status-filter").fill("")
    expect(_item(page, "gate", b.key)).to_be_visible()
    screenshot(page, "status")
    # an anonymous reader sees no admin buttons
    expect(page.locator(".item-admin, details.enqueue")).to_have_count(0)
    assert page.evaluate("window.sameDocument") is True
    assert dialogs == []

    # without JavaScript the server's page says the same, filter included
    still = browser.new_context(java_script_enabled=False)
    try:
        plain = still.new_page()
        plain.goto(site.status_url("?filter=org/project"))
        expect(_item(plain, "gate", b.key).locator(".item-failing")).to_have_text(
            "Failing because at least one job failed"
        )
        expect(_item(plain, "gate", a.key).locator(".ref-subject")).to_have_text(EVIL_SUBJECT)
        expect(plain.locator(f'article.item:has-text("{html.key}")')).to_have_count(0)
        expect(plain.locator(".item progress")).not_to_have_count(0)
    finally:
        still.close()

    # the administrator dequeues the failing change, enqueues it again, and promotes it
    admin = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        desk = admin.new_page()
        desk.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        sign_in(desk, site.url, *site.admin)
        desk.goto(site.status_url())
        _item(desk, "gate", b.key).get_by_role("button", name="Dequeue").click()
        expect(desk.locator(".flash.ok")).to_contain_text("Dequeue requested")
        assert dialogs == [f"Dequeue {b.key} from gate?"]
        gate.settle()
        expect(_item(desk, "gate", b.key)).to_have_count(0)

        desk.locator("details.enqueue > summary").click()
        form = desk.locator("form.enqueue-form")
        form.get_by_label("Pipeline").select_option("gate")
        form.get_by_label("Project").fill("org/project")
        form.get_by_label("Change").fill("999,1")
        form.get_by_role("button", name="Enqueue").click()
        expect(desk.get_by_role("alert")).to_have_text("no change 999,1")
        desk.locator("details.enqueue > summary").click()
        form.get_by_label("Pipeline").select_option("gate")
        form.get_by_label("Project").fill("org/project")
        form.get_by_label("Change").fill(b.key)
        form.get_by_role("button", name="Enqueue").click()
        expect(desk.locator(".flash.ok")).to_contain_text("Enqueue requested")
        gate.settle()
        expect(_item(desk, "gate", b.key)).to_have_count(1)
        first = desk.locator('section[data-pipeline="gate"] article.item .ref-change').first
        expect(first).to_have_text(a.key)
        expect(_item(desk, "gate", a.key).get_by_role("button", name="Promote")).to_have_count(0)
        screenshot(desk, "status-admin")
        _item(desk, "gate", b.key).get_by_role("button", name="Promote").click()
        expect(desk.locator(".flash.ok")).to_contain_text("Promote requested")
        gate.settle()
        expect(first).to_have_text(b.key)

        # a form posted without this browser's token is refused, and changes nothing
        forged = desk.request.post(
            site.status_url("/dequeue"),
            form={"pipeline": "gate", "project": "org/project", "change": a.key},
        )
        assert forged.status == 403 and "security token" in forged.text()
    finally:
        admin.close()

    # someone signed in but not an administrator is refused, with the reason on the page
    dev = gate.services.accounts.create_account("tester", full_name="Tester")
    gate.services.accounts.set_http_password(dev, "tester-pw")
    sign_in(page, site.url, "tester", "tester-pw")
    page.goto(site.status_url())
    expect(page.locator(".item-admin")).to_have_count(0)
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    refused = page.request.post(
        site.status_url("/dequeue"),
        form={
            "csrf_token": token or "",
            "pipeline": "gate",
            "project": "org/project",
            "change": a.key,
        },
    )
    assert refused.status == 403
    assert "enqueue, dequeue and promote are for administrators" in refused.text()
    anonymous = httpx.post(
        site.status_url("/dequeue"),
        data={"pipeline": "gate", "project": "org/project", "change": a.key},
    )
    assert anonymous.status_code == 403
    gate.settle()
    expect(_item(page, "gate", a.key)).to_have_count(1)


def test_the_status_shows_no_one_what_they_may_not_read(site: Site) -> None:
    gate = site.gate
    gate.executor.hold_jobs_in_build = True
    admin = site.admin
    team = httpx.put(f"{site.url}a/groups/secret-team", json={}, auth=admin)
    assert team.status_code == 201, team.text
    team_id = json.loads(team.text.removeprefix(")]}'"))["id"]
    grant = {"read": {"exclusive": True, "rules": {team_id: {"action": "ALLOW"}}}}
    access = httpx.post(
        f"{site.url}a/projects/org%2Fproject2/access",
        json={"add": {"refs/*": {"permissions": grant}}},
        auth=admin,
    )
    assert access.status_code == 200, access.text
    public = gate.change("org/project", "Public work")
    private = gate.change("org/project", "Private work")
    gate.services.edits.set_private(str(private.number), gate.owner, True, None)
    secret = gate.change("org/project2", "Secret work")
    gate.settle()

    def keys(auth: tuple[str, str] | None) -> set[str]:
        status = httpx.get(f"{site.url}api/tenant/main/status", auth=auth).json()
        return {
            ref["id"]
            for p in status["pipelines"]
            for q in p["change_queues"]
            for head in q["heads"]
            for item in head
            for ref in item["refs"]
        }

    assert keys(None) == {public.key}
    assert keys(admin) == {public.key, private.key, secret.key}
    page = httpx.get(site.status_url()).text
    assert "Public work" in page and "Private work" not in page and "Secret work" not in page
    assert f">{secret.key}<" not in page
    # one change's view holds that change only; the tenants page leads to the status
    one = httpx.get(site.status_url(f"/change/{public.key}")).text
    assert one.count('class="item ') == 1 and "Public work" in one
    assert httpx.get(site.status_url(f"/change/{secret.number}")).text.count('class="item ') == 0
    assert httpx.get(site.status_url("/change/x")).status_code == 400
    tenants = httpx.get(f"{site.url}tenants").text
    assert 'href="/t/main/status"' in tenants

    # the change page's question: where a change stands, for someone who may see it
    api = gate.services.gate_api
    assert api is not None
    caller = gate.services.permissions.caller(None)
    [place] = api.change_positions(public.number, caller)
    assert (place.tenant, place.pipeline, place.change) == ("main", "check", public.key)
    assert (place.position, place.length, place.active, place.failing) == (1, 1, True, False)
    assert (place.jobs, place.jobs_done) == (3, 0)
    assert api.change_positions(secret.number, caller) == []
    assert [
        p.change
        for p in api.change_positions(secret.number, gate.services.permissions.caller(gate.core))
    ] == [secret.key]

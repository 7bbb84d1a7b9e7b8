"""A reviewer's morning in the browser: the dashboard, the search box, the
"reviews at a glance" table with its vote colours, paging, the project list
and a project's page; then an administrator edits access and a group."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Locator, Page, expect

from lockgate.testing.browser import screenshot, sign_in
from lockgate.testing.server import LiveServer
from tests.browser.review_world import SECRET_PROJECT, XSS_SUBJECT, build_world
from tests.system.rest import decode
from tests.system.reviewing import PROJECT, make_team


def row(within: Page | Locator, number: int) -> Locator:
    return within.locator(f"tr.change[data-number='{number}']")


def test_a_reviewer_reads_the_dashboard_searches_pages_and_opens_a_project(
    sqlite_server: LiveServer, page: Page
) -> None:
    world = build_world(sqlite_server)
    server, n = sqlite_server, world.numbers
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    sign_in(page, server.url, *world.team.alice)
    page.goto(server.url)
    expect(page).to_have_url(re.compile(r"/dashboard/self$"))
    sections = {
        title: page.locator("section.dashboard-section").filter(
            has=page.get_by_role("heading", name=title)
        )
        for title in ("Work in progress", "Outgoing reviews", "Incoming reviews", "Recently closed")
    }
    expect(row(sections["Work in progress"], n["wip"])).to_contain_text("WIP")
    outgoing = sections["Outgoing reviews"]
    for name in ("voted", "failing", "conflict", "private"):
        expect(row(outgoing, n[name])).to_be_visible()
    expect(row(outgoing, n["private"]).locator(".chip.private")).to_have_text("Private")
    expect(row(sections["Incoming reviews"], n["filler3"])).to_be_visible()
    expect(sections["Incoming reviews"].locator("tr.change")).to_have_count(1)
    expect(row(sections["Recently closed"], n["merged"]).locator(".chip.merged")).to_be_visible()
    # The script asks the REST API which open changes would not merge now.
    expect(row(outgoing, n["conflict"]).locator(".chip.conflict")).to_have_text("Merge conflict")
    expect(row(outgoing, n["voted"]).locator(".chip.conflict")).to_have_count(0)
    # V, R and A: the best and the worst vote, coloured as Gerrit does.
    v, r, a = (row(outgoing, n["voted"]).locator("td.label").nth(i) for i in range(3))
    expect(v.locator(".vote.approved")).to_have_text("+2")
    expect(r.locator(".vote.disliked")).to_have_text("-1")
    expect(r.locator(".vote.approved")).to_have_text("+2")
    expect(a.locator(".vote.approved")).to_have_text("+1")
    expect(row(outgoing, n["failing"]).locator("td.label").first.locator(".vote")).to_have_class(
        "vote rejected"
    )
    screenshot(page, "dashboard")

    # The search box takes the query language and lands on Gerrit's /q/ URL.
    box = page.get_by_role("searchbox", name="Search changes")
    box.fill(f"project:{PROJECT} status:open")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/q/project:team/demo\+status:open$"))
    expect(box).to_have_value(f"project:{PROJECT} status:open")
    rows = page.locator("table.changes tbody tr.change")
    expect(rows).to_have_count(25)
    first_page = set(rows.evaluate_all("rows => rows.map(r => r.dataset.number)"))
    screenshot(page, "search")

    def subjects_are_text() -> None:
        if row(page, n["xss"]).count():
            # Markup in a subject is text, and its script never ran (no dialog).
            expect(row(page, n["xss"]).locator("td.subject")).to_have_text(XSS_SUBJECT)
            checked.append(True)

    checked: list[bool] = []
    subjects_are_text()

    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"\?start=25$"))
    expect(rows).to_have_count(5)
    second_page = set(rows.evaluate_all("rows => rows.map(r => r.dataset.number)"))
    assert second_page and not second_page & first_page
    # The 30 open changes of the project, alice's private one among them.
    assert len(first_page | second_page) == 30
    expect(page.get_by_role("link", name="Next →")).to_have_count(0)
    subjects_are_text()
    assert checked == [True]
    page.get_by_role("link", name="← Previous").click()
    expect(rows).to_have_count(25)

    # `limit:` in the query is respected: pages of 3.
    page.goto(f"{server.url}q/owner:bob+limit:3")
    expect(rows).to_have_count(3)
    expect(page.get_by_role("link", name="Next →")).to_have_attribute(
        "href", re.compile(r"\?start=3$")
    )

    # A query that cannot run says why, keeps the query in the box, answers 400.
    with page.expect_response(re.compile(r"/q/")) as answer:
        box.fill("status:open fizz:buzz")
        box.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("unknown operator 'fizz:'")
    assert answer.value.status == 400
    expect(box).to_have_value("status:open fizz:buzz")

    # The project list and a project's page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects").click()
    expect(page.locator("table.projects")).to_contain_text(PROJECT)
    expect(page.locator("table.projects")).not_to_contain_text(SECRET_PROJECT)
    screenshot(page, "projects")
    page.get_by_placeholder("Filter by name").fill("dem")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.projects td.name")).to_have_text([PROJECT])
    page.get_by_role("link", name=PROJECT).click()
    expect(page).to_have_url(re.compile(r"/admin/repos/team/demo$"))
    expect(page.locator("pre.command")).to_have_text(f"git clone {server.url}{PROJECT}")
    gitreview = page.locator("pre.gitreview").inner_text()
    host, port = server.url.split("://", 1)[1].rstrip("/").split(":")
    assert gitreview.splitlines() == [
        "[gerrit]",
        f"host={host}",
        f"port={port}",
        "scheme=http",
        f"project={PROJECT}.git",
    ]
    tip = server.services.projects.branch_tip(PROJECT, "master")
    assert tip is not None
    expect(page.locator("section.branches")).to_contain_text("master")
    expect(page.locator("section.branches")).to_contain_text(tip[:10])
    expect(page.locator("table.changes tbody tr.change")).to_have_count(25)
    expect(page.get_by_role("link", name="All of them →")).to_be_visible()
    screenshot(page, "project")

    # On a phone the same pages still read: the table scrolls, the columns narrow.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server.url}dashboard/self")
    expect(row(page, n["voted"])).to_be_visible()
    screenshot(page, "dashboard-phone")
    # A subject leads to the change page, at Gerrit's address.
    row(page, n["voted"]).get_by_role("link", name="Add a").click()
    expect(page).to_have_url(re.compile(rf"/c/team/demo/\+/{n['voted']}$"))
    expect(page.locator("main")).to_contain_text("Add a")
    assert dialogs == []


def test_an_administrator_adds_an_access_rule_and_a_group_member(
    sqlite_server: LiveServer, page: Page
) -> None:
    server = sqlite_server
    make_team(server)
    core = decode(httpx.put(f"{server.url}a/groups/demo-core", json={}, auth=server.admin), 201)[
        "id"
    ]

    sign_in(page, server.url, *server.admin)
    page.goto(f"{server.url}admin/repos/{PROJECT}")
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Access").click()
    expect(page).to_have_url(re.compile(r"/admin/repos/team/demo,access$"))
    inherited = page.locator("section.inherited").filter(has_text="All-Projects")
    expect(inherited.locator("tr.rule").filter(has_text="Anonymous Users")).to_contain_text("read")

    form = page.locator("form.rule-form")
    form.get_by_label("Ref pattern").fill("refs/heads/*")
    form.get_by_label("Permission").select_option("label-Code-Review")
    form.get_by_label("Group").fill("nobody-such")
    form.get_by_label("Min").fill("-2")
    form.get_by_label("Max").fill("2")
    form.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("alert")).to_contain_text("there is no group 'nobody-such'")
    # The form keeps what was typed, to fix one field.
    expect(form.get_by_label("Min")).to_have_value("-2")
    form.get_by_label("Group").fill("demo-core")
    form.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("status")).to_have_text("The rule was added.")
    own = page.locator("section").filter(
        has=page.get_by_role("heading", name=f"Rules of {PROJECT}")
    )
    added = own.locator("tr.rule").filter(has_text="demo-core")
    expect(added).to_contain_text("label-Code-Review")
    expect(added).to_contain_text("-2..+2")
    screenshot(page, "project-access")
    access = decode(httpx.get(f"{server.url}a/projects/team%2Fdemo/access", auth=server.admin))
    rule = access["local"]["refs/heads/*"]["permissions"]["label-Code-Review"]["rules"][core]
    assert rule == {"action": "ALLOW", "min": -2, "max": 2}

    added.get_by_role("button", name=re.compile("Remove")).click()
    expect(page.get_by_role("status")).to_have_text("The rule was removed.")
    expect(own.locator("tr.rule").filter(has_text="demo-core")).to_have_count(0)

    # A group and its members.
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Groups").click()
    page.get_by_role("link", name="demo-core").click()
    page.get_by_label("Add a member").fill("bob")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("status")).to_have_text("The member was added.")
    expect(page.locator("tr.member td.username")).to_contain_text(["admin", "bob"])
    screenshot(page, "group")
    members = decode(httpx.get(f"{server.url}a/groups/{core}/members/", auth=server.admin))
    assert {m["username"] for m in members} == {"admin", "bob"}
    page.locator("tr.member").filter(has_text="bob").get_by_role("button").click()
    expect(page.get_by_role("status")).to_have_text("The member was removed.")
    expect(page.locator("tr.member")).to_have_count(1)

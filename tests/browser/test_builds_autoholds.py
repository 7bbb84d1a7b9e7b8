"""An administrator holds a job's nodes from the autoholds page and deletes the
hold again; someone not signed in sees the holds but no forms."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from lockgate.testing.browser import screenshot, sign_in
from lockgate.testing.server import LiveServer


def test_an_admin_adds_and_deletes_an_autohold_through_the_forms(
    sqlite_server: LiveServer, page: Page
) -> None:
    server = sqlite_server
    server.services.projects.create("org/app", create_empty_commit=True)
    autoholds = server.services.autoholds
    assert autoholds is not None

    page.goto(f"{server.url}t/main/autoholds")
    expect(page.locator(".empty")).to_have_text("No autoholds in main.")
    expect(page.locator("form.autohold-form")).to_have_count(0)

    sign_in(page, server.url, *server.admin)
    page.goto(f"{server.url}t/main/autoholds")
    page.get_by_label("Project").select_option("org/app")
    page.get_by_label("Job").fill("unit")
    page.get_by_label("Change", exact=True).fill("1234")
    page.get_by_label("Count").fill("2")
    page.get_by_label("Keep nodes for").fill("soon")
    page.get_by_label("Reason").fill("<b>flaky</b> test")
    page.get_by_role("button", name="Add autohold").click()
    # A wrong field: the form comes back with the reason and what was typed.
    expect(page.get_by_role("alert")).to_contain_text("90m, 12h, 2d")
    expect(page.get_by_label("Job")).to_have_value("unit")
    assert autoholds.list("main") == []

    page.get_by_label("Keep nodes for").fill("2h")
    page.get_by_role("button", name="Add autohold").click()
    expect(page.get_by_role("status")).to_contain_text("added")
    [hold] = autoholds.list("main")
    assert (hold.hold.job, hold.hold.count, hold.hold.node_expiration) == ("unit", 2, 7200.0)
    row = page.locator("tr.autohold")
    expect(row).to_have_count(1)
    expect(row.locator(".reason")).to_have_text("<b>flaky</b> test")
    expect(row).to_contain_text("refs/changes/34/1234/.*")
    expect(row).to_contain_text("0 of 2")
    expect(row).to_contain_text("2h")
    screenshot(page, "autoholds")

    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_contain_text("deleted")
    expect(page.locator("tr.autohold")).to_have_count(0)
    assert autoholds.list("main") == []

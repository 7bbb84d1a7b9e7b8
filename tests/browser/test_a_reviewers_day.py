"""A reviewer's day in the browser, from the search box to the merge: sign in,
find the change, read its diff, leave a comment on a line, vote with the reply
(which publishes the comment) and submit. Every step is a page and a form of
the web interface; the REST API only checks what they did."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from lockgate.testing.browser import screenshot, sign_in
from lockgate.testing.seed import seed_change
from lockgate.testing.server import LiveServer
from tests.system.rest import decode

PROJECT = "team/app"
CODE = "def area(width, height):\n    return width * height\n"


def test_sign_in_search_comment_on_a_line_vote_and_submit(
    sqlite_server: LiveServer, page: Page
) -> None:
    server = sqlite_server
    services = server.services
    services.projects.create(PROJECT, create_empty_commit=True)
    services.accounts.create_account(
        "alice", full_name="Alice", email="alice@example.com", http_password="pw-alice"
    )
    change = seed_change(
        services, PROJECT, owner="alice", subject="Compute the area", files={"geometry.py": CODE}
    )
    number = change.change_number

    sign_in(page, server.url, *server.admin)
    search = page.get_by_role("searchbox", name="Search changes")
    search.fill(f"project:{PROJECT} status:open")
    search.press("Enter")
    page.get_by_role("link", name="Compute the area").click()
    expect(page.locator("h1.subject")).to_have_text("Compute the area")

    page.locator(".file-list a", has_text="geometry.py").click()
    expect(page.locator("h1 .path")).to_have_text("geometry.py")
    page.locator("#b2").click()
    form = page.locator("tr.thread-row form.draft-form")
    form.locator("textarea").fill("Should this check for negative sizes?")
    form.get_by_role("button", name="Save draft").click()
    expect(page.locator(".count.drafts")).to_have_text("1 draft")
    screenshot(page, "day-diff-draft")

    page.locator("#up-to-change").click()
    page.get_by_role("link", name="Reply…").click()
    page.locator("#reply-message").fill("Looks right; one question inline.")
    for label, value in (("Code-Review", "+2"), ("Verified", "+2"), ("Workflow", "+1")):
        page.locator(f'fieldset[data-label="{label}"] label', has_text=value).click()
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".state")).to_have_text("Ready to submit")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator(".state")).to_have_text("Merged")
    expect(page.locator(".closed-state")).to_contain_text("merged")
    screenshot(page, "day-merged")

    comments = decode(httpx.get(f"{server.url}changes/{number}/comments"), 200)
    assert isinstance(comments, dict)
    [comment] = comments["geometry.py"]
    assert (comment["line"], comment["message"]) == (2, "Should this check for negative sizes?")
    tip = services.projects.branch_tip(PROJECT, "master")
    assert tip is not None and services.review.lookup(str(number)).status.value == "MERGED"

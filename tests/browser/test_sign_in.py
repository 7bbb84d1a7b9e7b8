"""A person signs in, finds their settings and a new HTTP password, and signs out."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from lockgate.testing.browser import screenshot, sign_in
from lockgate.testing.server import LiveServer


def test_sign_in_settings_new_password_and_sign_out(sqlite_server: LiveServer, page: Page) -> None:
    server = sqlite_server
    page.goto(f"{server.url}settings")
    # Not signed in: the sign-in page, which comes back here afterwards.
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fsettings$"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("HTTP password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("username or HTTP password is wrong")

    sign_in(page, server.url, *server.admin)
    page.goto(f"{server.url}settings")
    expect(page.locator(".username")).to_have_text("admin")
    expect(page.locator("ul.groups")).to_contain_text("Administrators")
    cookie = next(c for c in page.context.cookies() if c["name"] == "lockgate_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    screenshot(page, "settings")

    page.get_by_role("button", name="Generate a new HTTP password").click()
    new_password = page.locator(".new-password").inner_text()
    assert (
        httpx.get(f"{server.url}a/accounts/self", auth=("admin", new_password)).status_code == 200
    )
    assert httpx.get(f"{server.url}a/accounts/self", auth=server.admin).status_code == 401

    with page.expect_response(lambda r: r.url.endswith("/logout")) as signed_out:
        page.get_by_role("button", name="Sign out").click()
    assert signed_out.value.status == 303
    page.goto(f"{server.url}settings")
    expect(page).to_have_url(re.compile(r"/login"))


def test_forms_refuse_a_post_without_the_csrf_token(sqlite_server: LiveServer) -> None:
    server = sqlite_server
    with httpx.Client(base_url=server.url) as browser_like:
        form = browser_like.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        username, password = server.admin
        # Another site's page can make the browser post, but cannot read the token.
        forged = browser_like.post("/login", data={"username": username, "password": password})
        assert forged.status_code == 403
        assert "security token" in forged.text
        assert "lockgate_session" not in browser_like.cookies
        signed_in = browser_like.post(
            "/login",
            data={"csrf_token": token.group(1), "username": username, "password": password},
        )
        assert signed_in.status_code == 303
        # Signed in, the session's own token is needed: the sign-in page's one is stale.
        stale = browser_like.post("/settings/http-password", data={"csrf_token": token.group(1)})
        assert stale.status_code == 403
        assert httpx.get(f"{server.url}a/accounts/self", auth=server.admin).status_code == 200

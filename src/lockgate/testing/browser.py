"""A real browser for the web interface's tests: Debian's Chromium, headless,
driven by Playwright, with helpers for what every story does first."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright

SCREENSHOTS = Path(os.environ.get("LOCKGATE_SCREENSHOTS", "screenshots"))


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError(
            "the browser tests need Chromium: `./scripts/setup --test` installs Debian's chromium"
        )
    return found


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(
        executable_path=chromium_path(),
        headless=True,
        # Chromium's own sandbox needs user namespaces that a root test run lacks.
        args=["--no-sandbox", "--disable-dev-shm-usage"],
    )


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Sign in through the sign-in form, as a person would."""
    page.goto(f"{base_url}login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("HTTP password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if page.url.endswith("/login"):
        raise AssertionError(f"signing in as {username} failed")


def screenshot(page: Page, name: str) -> Path:
    """Keep a picture of the page for a person to look at (never compared)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

"""One Chromium per test module; a fresh browser context (cookies, storage) per test.

Per module, not per process: Playwright's sync API keeps an asyncio loop
running in the thread while it is open, and tests of other modules that run
their own loop (anyio.run) in the same worker would fail beside it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from lockgate.testing.browser import launch


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()

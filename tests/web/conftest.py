"""Fixtures of the browser tests: one real clusterd with real elektrad processes for the whole
run (see stack.py), Debian's Chromium driven by Playwright, and a logged-in page per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from .stack import ADMIN_PASSWORD, Instance, Stack, running_stack
from .ui import WebUI

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Every test opens a new context; Chromium may treat the new page as backgrounded and
    # defer its tasks (a hashchange then ran only seconds later). Keep every page running.
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
INSTANCES = ("web-1", "web-2", "web-3", "db-1")
VIEWER = ("vera", "viewer-secret-1")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """clusterd with web-1, web-2, web-3 and db-1 registered; `spare` runs, not registered."""
    with running_stack(tmp_path_factory.mktemp("stack"), INSTANCES) as started:
        started.add_instance("spare")
        started.add_user(*VIEWER, "viewer")
        yield started


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _open(browser: Browser, stack: Stack) -> Iterator[Page]:
    context = browser.new_context(
        base_url=stack.url, viewport={"width": 1360, "height": 860}, accept_downloads=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    yield from _open(browser, stack)


@pytest.fixture
def ui(page: Page, stack: Stack) -> WebUI:
    """The page, logged in as admin, on the overview."""
    web = WebUI(page, stack, SCREENSHOTS)
    web.log_in("admin", ADMIN_PASSWORD)
    return web


@pytest.fixture
def viewer_ui(page: Page, stack: Stack) -> WebUI:
    web = WebUI(page, stack, SCREENSHOTS)
    web.log_in(*VIEWER)
    return web


@pytest.fixture
def web1(stack: Stack) -> Instance:
    return stack.instances["web-1"]


@pytest.fixture
def ui_page_unlogged(page: Page, stack: Stack) -> WebUI:
    return WebUI(page, stack, SCREENSHOTS)

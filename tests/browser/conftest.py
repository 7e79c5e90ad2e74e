"""Headless Chromium (Debian's package) driven by Playwright, against the live server."""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("STOCKYARD_CHROMIUM", "/usr/bin/chromium")
# Chromium's own background traffic would only hit the closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `make chromium` (make test does).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    # Whatever the Content Security Policy refuses (an inline style or script a
    # page or a library slipped in) fails the test.
    refusals = []
    page.on(
        "console",
        lambda message: (
            refusals.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert refusals == []


@pytest.fixture
def screenshot(page):
    """Save a screenshot when STOCKYARD_SCREENSHOTS names a folder (for a human look)."""
    folder = os.environ.get("STOCKYARD_SCREENSHOTS")

    def take(name):
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            # caret="initial": hiding the caret would add an inline style the CSP refuses.
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True, caret="initial")

    return take

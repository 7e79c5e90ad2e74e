"""What a person does in the browser again and again: sign in, open a screen, check the fit."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import PASSWORD

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def sign_in(page, live_server, username):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("home-heading")).to_be_visible()


def sign_out(page):
    page.locator("#user-menu").click()
    page.get_by_test_id("sign-out").click()


def open_from_menu(page, name):
    """Open a screen from the main navigation, unfolding the menu or "More" as a person would."""
    menu = page.get_by_role("navigation", name="Main navigation")
    link = menu.get_by_role("link", name=name, exact=True)
    if not link.is_visible():
        toggler = menu.get_by_role("button", name="Toggle navigation")
        if toggler.is_visible():  # a phone: the menu is folded away
            toggler.click()
        if not link.is_visible():  # one of the rarer screens, under "More"
            menu.get_by_test_id("nav-more").click()
    link.click()


def fits_the_screen(page):
    """Nothing on the page reaches past the window's width: nobody scrolls sideways."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width

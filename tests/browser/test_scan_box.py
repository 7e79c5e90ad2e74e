"""The scan box in the navbar: a scanned SKU opens its product, on a desk and on a phone."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from inventory.catalog.services import create_product
from tests.browser.steps import sign_in
from tests.conftest import make_member
from warehouse.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rice(tenant):
    return create_product(tenant=tenant, sku="RCE-BAS-5", name="Basmati rice 5 kg", uom="kg")


def product_url(live_server, product):
    return live_server.url + reverse("inventory:product", kwargs={"product_id": product.pk})


def test_a_scanned_sku_opens_the_product(live_server, page, tenant, rice):
    make_member(tenant, "oscar", Role.OPERATOR)
    page.set_viewport_size({"width": 1500, "height": 900})
    sign_in(page, live_server, "oscar")
    box = page.get_by_role("searchbox", name="Scan or type a code")
    box.click()
    page.keyboard.type("rce-bas-5")
    page.keyboard.press("Enter")
    page.wait_for_url(product_url(live_server, rice))


def test_on_a_laptop_the_scan_button_opens_the_scan_page(live_server, page, tenant, rice):
    make_member(tenant, "oscar", Role.OPERATOR)
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, "oscar")
    # The menu keeps its one line: only the button shows beside it.
    expect(page.locator("#scan-box-code")).to_be_hidden()
    page.get_by_role("button", name="Find").click()
    field = page.locator("#scan-page-code")
    expect(field).to_be_focused()
    expect(page.get_by_test_id("scan-empty")).to_be_visible()
    # Nothing found: the page says so, ready for the next scan.
    page.keyboard.type("NOPE-1")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("scan-nothing")).to_contain_text("Nothing found for NOPE-1")
    expect(field).to_be_focused()
    expect(field).to_have_value("")
    page.keyboard.type("RCE-BAS-5")
    page.keyboard.press("Enter")
    page.wait_for_url(product_url(live_server, rice))


def test_the_scan_box_on_a_phone(live_server, page, tenant, rice):
    make_member(tenant, "oscar", Role.OPERATOR)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "oscar")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("#scan-box-code")
    # Folded away with the menu, so it does not crowd the bar.
    expect(box).to_be_hidden()
    page.get_by_role("button", name="Toggle navigation").click()
    expect(box).to_be_visible()
    expect(page.get_by_role("button", name="Find")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box.click()
    page.keyboard.type("RCE-BAS-5")
    page.keyboard.press("Enter")
    page.wait_for_url(product_url(live_server, rice))

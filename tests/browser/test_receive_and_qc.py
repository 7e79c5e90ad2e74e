"""An operator receives a QC-bound lot by scanner; an inspector releases it; stock shows it."""

import re

import pytest
from playwright.sync_api import expect

from inventory.services import create_product
from tests.conftest import PASSWORD, make_member, make_site
from warehouse.models import Location, LocationKind, Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, live_server, username):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("home-heading")).to_be_visible()


def open_from_menu(page, name):
    menu = page.get_by_role("navigation", name="Main navigation")
    menu.get_by_role("link", name=name, exact=True).click()


def sign_out(page):
    page.locator("#user-menu").click()
    page.get_by_test_id("sign-out").click()


def test_receive_then_release_from_quarantine(live_server, page, screenshot, tenant):
    make_member(tenant, "oscar", Role.OPERATOR)
    make_member(tenant, "quinn", Role.QC)
    warehouse = make_site(tenant, "DC1", bins=("A-01",))
    with tenant_context(tenant.id):
        Location.objects.create(
            tenant=tenant, warehouse=warehouse, code="RCV-01", kind=LocationKind.RECEIVING
        )
    create_product(tenant=tenant, sku="CHEESE-1", name="Aged cheddar", uom="kg", qc_required=True)

    sign_in(page, live_server, "oscar")
    open_from_menu(page, "Receive")
    sku = page.get_by_label("Product SKU")
    expect(sku).to_be_focused()
    # A keyboard-wedge scanner types the code and presses Enter.
    sku.fill("cheese-1")
    page.get_by_label("Lot code").fill("LOT-7")
    page.get_by_label("Quantity").fill("12.5")
    page.get_by_label("Quantity").press("Enter")
    result = page.get_by_test_id("receive-result")
    expect(result).to_contain_text("Received 12.5 kg of CHEESE-1 as lot LOT-7 into RCV-01")
    expect(result).to_contain_text("in quarantine until QC decides")
    expect(page.get_by_label("Product SKU")).to_have_value("")
    screenshot("receive")
    sign_out(page)

    sign_in(page, live_server, "quinn")
    open_from_menu(page, "QC queue")
    row = page.get_by_test_id("lot-LOT-7")
    expect(row).to_contain_text("12.5 kg")
    row.get_by_placeholder("Note (required to reject)").fill("Lab results fine")
    screenshot("qc-queue")
    row.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("lot-LOT-7").get_by_test_id("decision")).to_have_text("Approved")

    open_from_menu(page, "Stock")
    stock_row = page.get_by_test_id("stock-table").get_by_role("row", name=re.compile("CHEESE-1"))
    expect(stock_row).to_contain_text("12.5")
    expect(stock_row.locator("td").nth(5)).to_have_text("12.5")
    screenshot("stock")

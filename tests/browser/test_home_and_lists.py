"""The home per role, the stock table and the QC queue in a browser, on a desk and on a phone."""

import re

import pytest
from playwright.sync_api import expect

from inventory.catalog.services import create_product
from inventory.orders.services import create_order
from inventory.reservations.requests import LineRequest
from inventory.stock.receipts import receive_stock
from tests.browser.steps import PHONE, sign_in
from tests.conftest import make_member
from tests.test_home_and_lists import stocked_products
from warehouse.models import Location, LocationKind, Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True)


def receiving_site(tenant):
    from tests.conftest import make_site

    warehouse = make_site(tenant, "DC1", bins=("A-01",))
    with tenant_context(tenant.id):
        Location.objects.create(
            tenant=tenant, warehouse=warehouse, code="RCV-01", kind=LocationKind.RECEIVING
        )
    return warehouse


def assert_no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a 390 px phone"


def test_home_shows_each_role_its_work(live_server, page, tenant, screenshot):
    make_member(tenant, "mia", Role.MANAGER)
    make_member(tenant, "oscar", Role.OPERATOR)
    site = receiving_site(tenant)
    vaccine = create_product(tenant=tenant, sku="VAX-10", name="Vaccine vial", qc_required=True)
    receive_stock(tenant=tenant, product=vaccine, warehouse=site, lot_code="VAX-L-1", quantity=40)
    create_order(
        tenant=tenant,
        warehouse=site,
        reference="SO-1001",
        customer="Clinic North",
        lines=[LineRequest(vaccine, "4")],
    )

    sign_in(page, live_server, "mia")
    expect(page.get_by_test_id("card-quarantine-count")).to_have_text("1")
    expect(page.get_by_test_id("card-allocate-count")).to_have_text("1")
    expect(page.get_by_test_id("card-quarantine")).to_contain_text("VAX-L-1")
    expect(page.get_by_test_id("card-pick-empty")).to_contain_text("Nothing waiting")
    screenshot("home-manager")
    page.set_viewport_size(PHONE)
    expect(page.get_by_test_id("card-quarantine-count")).to_be_in_viewport()
    assert_no_sideways_scroll(page)
    screenshot("home-manager-phone")
    page.get_by_test_id("card-quarantine-link").click()
    expect(page).to_have_url(re.compile(r"/qc/$"))
    expect(page.get_by_test_id("lot-VAX-L-1")).to_be_visible()
    page.context.clear_cookies()

    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, "oscar")
    expect(page.get_by_test_id("card-allocate")).to_contain_text("SO-1001")
    expect(page.get_by_test_id("card-allocate")).to_contain_text("Clinic North")
    expect(page.get_by_test_id("card-quarantine")).to_have_count(0)
    screenshot("home-operator")


def stock_skus(page) -> list[str]:
    cells = page.get_by_test_id("stock-table").locator("tbody tr td:first-child")
    return [text.strip() for text in cells.all_inner_texts()]


def test_stock_table_sorts_and_pages_in_place(live_server, page, tenant, screenshot):
    make_member(tenant, "oscar", Role.OPERATOR)
    site = receiving_site(tenant)
    stocked_products(tenant, site, 30)

    sign_in(page, live_server, "oscar")
    page.goto(live_server.url + "/stock/")
    # A marker that only survives if the page itself is never reloaded.
    page.evaluate("window.stayedOnPage = true")
    table = page.get_by_test_id("stock-table")
    table.get_by_role("link", name="Available").click()
    expect(page).to_have_url(re.compile(r"sort=available"))
    table.get_by_role("link", name="Available").click()
    expect(page).to_have_url(re.compile(r"sort=-available"))
    expect(table.locator("tbody tr").first).to_contain_text("P-00029")
    assert stock_skus(page)[:3] == ["P-00029", "P-00028", "P-00027"]
    expect(
        page.get_by_test_id("stock-P-00029-DC1").locator('[data-column="available"]')
    ).to_have_text("30.000 kg")
    page.locator('a[rel="next"]').click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.get_by_test_id("page-summary")).to_have_text(re.compile(r"26\W30 of 30"))
    assert stock_skus(page) == ["P-00004", "P-00003", "P-00002", "P-00001", "P-00000"]
    assert page.evaluate("window.stayedOnPage") is True
    screenshot("stock")

    page.set_viewport_size(PHONE)
    row = page.get_by_test_id("stock-P-00004-DC1")
    expect(row.locator("td").first).to_be_in_viewport()
    expect(row.locator('[data-column="available"]')).to_be_in_viewport()
    expect(row.locator('[data-column="on_hand"]')).to_be_hidden()
    assert_no_sideways_scroll(page)
    screenshot("stock-phone")


def test_qc_queue_on_a_phone_decides_and_counts_down(live_server, page, tenant, screenshot):
    make_member(tenant, "quinn", Role.QC)
    site = receiving_site(tenant)
    egg = create_product(tenant=tenant, sku="EGG-FRR-30", name="Free-range eggs", qc_required=True)
    for code in ("EGG-LOT-2026-11-001", "EGG-LOT-2026-11-002"):
        receive_stock(tenant=tenant, product=egg, warehouse=site, lot_code=code, quantity=1250)

    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "quinn")
    page.goto(live_server.url + "/qc/")
    expect(page.get_by_test_id("queue-size")).to_have_text("2 waiting")
    row = page.get_by_test_id("lot-EGG-LOT-2026-11-001")
    approve = row.get_by_role("button", name="Approve")
    expect(approve).to_be_in_viewport()
    expect(row.get_by_role("button", name="Reject")).to_be_in_viewport()
    expect(row.get_by_test_id("on-hand")).to_have_text("1,250 ea")
    # The lot code stays on one line, hyphens and all.
    code = row.locator(".sy-code").first
    box = code.bounding_box()
    line_height = code.evaluate("element => parseFloat(getComputedStyle(element).lineHeight)")
    assert box["height"] < 1.5 * line_height
    assert_no_sideways_scroll(page)
    screenshot("qc-queue-phone")

    approve.click()
    expect(page.get_by_test_id("lot-EGG-LOT-2026-11-001").get_by_test_id("decision")).to_have_text(
        "Approved"
    )
    expect(page.get_by_test_id("queue-size")).to_have_text("1 waiting")
    expect(
        page.get_by_test_id("lot-EGG-LOT-2026-11-002").get_by_role("button", name="Approve")
    ).to_be_visible()
    assert_no_sideways_scroll(page)

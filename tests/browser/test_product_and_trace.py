"""A scanned SKU opens its product page; a manager traces a lot to its customers.

Each flow runs at a desk (1366x768) and on a phone (390x844): on the phone
the number people came for and the buttons stay visible and nothing scrolls
sideways.
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inventory.catalog.services import create_product
from inventory.models import Order, OrderStatus
from inventory.stock.movements import move_stock, ship_stock
from inventory.stock.receipts import receive_stock
from tests.browser.steps import LAPTOP, PHONE, fits_the_screen, open_from_menu, sign_in
from tests.conftest import bin_of, make_member, make_site
from warehouse.models import Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shipped_lot(tenant):
    """Lot F-100 of flour: received into A-01, part moved to A-02, part shipped to a bakery."""
    make_member(tenant, "maria", Role.MANAGER)
    warehouse = make_site(tenant, "DC1", bins=("A-01", "A-02"))
    a01, a02 = bin_of(tenant, warehouse, "A-01"), bin_of(tenant, warehouse, "A-02")
    flour = create_product(
        tenant=tenant, sku="FLOUR-25-KG-PREMIUM", name="Wheat flour 25 kg", uom="kg"
    )
    received = timezone.now() - datetime.timedelta(days=3)
    lot = receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=warehouse,
        location=a01,
        lot_code="F-2026-11-100",
        quantity="1250.5",
        occurred_at=received,
    ).lot
    move_stock(
        tenant=tenant,
        lot=lot,
        from_location=a01,
        to_location=a02,
        quantity="250",
        occurred_at=received + datetime.timedelta(hours=2),
    )
    shipped_at = received + datetime.timedelta(days=1)
    entry = ship_stock(tenant=tenant, lot=lot, location=a02, quantity="100", occurred_at=shipped_at)
    with tenant_context(tenant.id):
        Order.objects.create(
            tenant=tenant,
            reference="SO-1001",
            customer="Bäckerei Müller",
            warehouse=warehouse,
            status=OrderStatus.SHIPPED,
            shipped_at=shipped_at,
            shipment_operation_id=entry.operation_id,
        )
    return {"product": flour, "lot": lot}


def test_scanned_sku_opens_the_product_and_the_history_filters_in_place(
    live_server, page, screenshot, shipped_lot
):
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, "maria")
    open_from_menu(page, "Products")
    search = page.get_by_label("Search products")
    expect(search).to_be_focused()
    # A keyboard-wedge scanner types the SKU and presses Enter.
    search.fill("flour-25-kg-premium")
    search.press("Enter")
    expect(page.get_by_test_id("product-sku")).to_have_text("FLOUR-25-KG-PREMIUM")
    product_url = page.url
    available = page.get_by_test_id("available-total")
    expect(available).to_contain_text("1,150.500")
    expect(page.get_by_test_id("holding-A-01-F-2026-11-100")).to_be_visible()
    history = page.get_by_test_id("history-table")
    expect(history).to_contain_text("Receipt")
    screenshot("product-desk")

    # The filter swaps the history alone: the page (and this mark on it) stays.
    page.evaluate("window.stayedOnPage = true")
    page.get_by_label("What").select_option("SHIP")
    expect(history).not_to_contain_text("Receipt")
    expect(history).to_contain_text("Shipment")
    expect(history).to_contain_text("\N{MINUS SIGN}100.000")
    assert page.evaluate("window.stayedOnPage") is True
    expect(page).to_have_url(re.compile(r"kind=SHIP"))

    page.set_viewport_size(PHONE)
    page.goto(product_url)
    expect(page.get_by_test_id("available-total")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Filter")).to_be_visible()
    # Codes never wrap at their hyphens.
    assert page.get_by_test_id("product-sku").evaluate("el => getComputedStyle(el).whiteSpace") == (
        "nowrap"
    )
    fits_the_screen(page)
    screenshot("product-phone")


def test_manager_traces_a_lot_to_its_customer(live_server, page, screenshot, shipped_lot):
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, "maria")
    open_from_menu(page, "Trace")
    code = page.get_by_label("Lot code")
    expect(code).to_be_focused()
    code.fill("f-2026-11-100")
    code.press("Enter")
    expect(page.get_by_test_id("lot-code")).to_have_text("F-2026-11-100")
    movements = page.get_by_test_id("movement-table")
    expect(movements).to_contain_text("SO-1001")
    expect(movements).to_contain_text("Bäckerei Müller")
    expect(page.get_by_test_id("bin-A-01")).to_contain_text("1,000.500")
    expect(page.get_by_test_id("bin-A-02")).to_contain_text("150.000")
    with page.expect_download() as download:
        page.get_by_test_id("lot-csv").click()
    assert download.value.suggested_filename == "lot-F-2026-11-100-trace.csv"
    screenshot("lot-desk")

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.get_by_test_id("lot-csv")).to_be_in_viewport()
    expect(page.get_by_test_id("bin-A-01")).to_be_visible()
    fits_the_screen(page)
    screenshot("lot-phone")

    # The customer's side of the recall, on the phone.
    page.goto(live_server.url + "/lots/trace/")
    page.get_by_label("Customer").fill("bäckerei")
    page.get_by_role("button", name="Find lots").click()
    customers = page.get_by_test_id("customer-table")
    expect(customers).to_contain_text("F-2026-11-100")
    expect(customers).to_contain_text("100.000")
    expect(page.get_by_test_id("customer-csv")).to_be_visible()
    fits_the_screen(page)
    screenshot("customer-phone")

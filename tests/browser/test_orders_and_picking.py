"""An operator records an order, allocates it, picks it by scanning (wrong bin first), ships it."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from inventory.catalog.services import create_product
from inventory.models import Pick
from inventory.stock.receipts import receive_stock
from inventory.stock.selectors import stock_summary
from tests.browser.steps import PHONE, fits_the_screen, open_from_menu, sign_in
from tests.conftest import bin_of, make_member, make_site
from warehouse.models import Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def floor(tenant):
    """Oscar the operator; DC1 with bins A-01, A-02; 20 soap of lot S-100 in A-02."""
    make_member(tenant, "oscar", Role.OPERATOR)
    warehouse = make_site(tenant, "DC1", bins=("A-01", "A-02"))
    soap = create_product(tenant=tenant, sku="SOAP-1", name="Olive soap")
    receive_stock(
        tenant=tenant,
        product=soap,
        warehouse=warehouse,
        lot_code="S-100",
        quantity=20,
        location=bin_of(tenant, warehouse, "A-02"),
    )
    return warehouse, soap


def on_hand(tenant, product):
    with tenant_context(tenant.id):
        return stock_summary(tenant=tenant, product=product).on_hand


def scan(page, text):
    field = page.get_by_test_id("scan")
    expect(field).to_be_focused()
    field.fill(text)
    field.press("Enter")


def test_order_is_created_allocated_picked_and_shipped(
    live_server, page, screenshot, tenant, floor
):
    _, soap = floor
    sign_in(page, live_server, "oscar")
    open_from_menu(page, "Orders")
    expect(page.get_by_test_id("empty-state")).to_contain_text("record a new order")
    page.get_by_test_id("new-order").click()
    page.get_by_label("Order reference").fill("SO-77")
    page.get_by_label("Customer").fill("Harbour cafe")
    page.get_by_label("SKU of line 1").fill("soap-1")
    page.get_by_label("Quantity of line 1").fill("4")
    page.get_by_test_id("order-submit").click()

    expect(page.get_by_role("heading", name="Order SO-77")).to_be_visible()
    expect(page.get_by_test_id("order-status")).to_have_text("Open")
    page.get_by_test_id("allocate").click()
    expect(page.get_by_test_id("order-notice")).to_contain_text("allocated")
    expect(page.get_by_test_id("order-allocations")).to_contain_text("S-100")
    screenshot("order-allocated")
    page.get_by_test_id("start-picking").click()

    expect(page).to_have_url(re.compile(r"/orders/\d+/pick/$"))
    expect(page.get_by_test_id("pick-progress")).to_have_text("0 of 1 lines picked")
    expect(page.get_by_test_id("pick-bin")).to_have_text("A-02")
    scan(page, "A-01")
    expect(page.get_by_test_id("pick-error")).to_contain_text("Wrong bin: you scanned A-01")
    expect(page.get_by_test_id("pick-bin")).to_have_text("A-02")
    screenshot("pick-wrong-bin")
    scan(page, "A-02")
    expect(page.get_by_label("Scan the lot (or the product)")).to_be_visible()
    scan(page, "S-100")
    expect(page.get_by_label("Quantity taken")).to_have_value("4")
    page.get_by_test_id("confirm-pick").click()
    expect(page.get_by_test_id("pick-progress")).to_have_text("1 of 1 lines picked")
    expect(page.get_by_test_id("pick-notice")).to_contain_text("Picked 4 ea of SOAP-1 from A-02")
    page.get_by_test_id("ship").click()

    expect(page.get_by_test_id("order-status")).to_have_text("Shipped")
    expect(page.get_by_text("Order SO-77 shipped.")).to_be_visible()
    screenshot("order-shipped")
    assert on_hand(tenant, soap) == Decimal("16")
    open_from_menu(page, "Orders")
    row = page.get_by_role("row", name=re.compile("SO-77"))
    expect(row.get_by_test_id("order-status")).to_have_text("Shipped")
    screenshot("orders-list")
    # The table follows the search as it is typed, in place.
    page.get_by_placeholder("Search reference or customer").fill("nobody")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No orders match")
    page.get_by_label("Status").select_option("SHIPPED")
    page.get_by_placeholder("Search reference or customer").fill("harbour")
    expect(page.get_by_role("link", name="SO-77")).to_be_visible()
    expect(page).to_have_url(re.compile(r"status=SHIPPED"))


def test_an_order_on_a_phone_from_the_form_to_shipped(live_server, page, screenshot, tenant, floor):
    _, soap = floor
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "oscar")

    # Record the order on the phone: the form fits, and so does each step after it.
    open_from_menu(page, "Orders")
    page.get_by_test_id("new-order").click()
    expect(page.get_by_test_id("order-submit")).to_be_visible()
    fits_the_screen(page)
    screenshot("order-form-phone")
    page.get_by_label("Order reference").fill("SO-78")
    page.get_by_label("Customer").fill("Corner shop")
    page.get_by_label("SKU of line 1").fill("SOAP-1")
    page.get_by_label("Quantity of line 1").fill("3")
    page.get_by_test_id("order-submit").click()
    expect(page.get_by_role("heading", name="Order SO-78")).to_be_visible()
    fits_the_screen(page)

    # Allocate and start picking from the order page.
    page.get_by_test_id("allocate").click()
    expect(page.get_by_test_id("order-allocations")).to_contain_text("S-100")
    fits_the_screen(page)
    page.get_by_test_id("start-picking").click()

    # Pick: bin, lot and quantity in view; a wrong bin is refused in place.
    expect(page).to_have_url(re.compile(r"/orders/\d+/pick/$"))
    for key in ("pick-bin", "pick-lot", "pick-quantity", "scan-submit", "pick-progress"):
        expect(page.get_by_test_id(key)).to_be_in_viewport()
    expect(page.get_by_test_id("pick-quantity")).to_contain_text("3")
    fits_the_screen(page)
    screenshot("pick-phone")
    scan(page, "A-01")
    expect(page.get_by_test_id("pick-error")).to_be_in_viewport()
    fits_the_screen(page)
    scan(page, "A-02")
    expect(page.get_by_label("Scan the lot (or the product)")).to_be_visible()
    scan(page, "S-100")
    expect(page.get_by_test_id("confirm-pick")).to_be_in_viewport()
    fits_the_screen(page)
    page.get_by_test_id("confirm-pick").click()
    expect(page.get_by_test_id("ship")).to_be_in_viewport()
    fits_the_screen(page)
    with tenant_context(tenant.id):
        assert Pick.objects.get(order__reference="SO-78").picked == Decimal("3")
    page.get_by_test_id("ship").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Shipped")
    fits_the_screen(page)
    screenshot("order-phone")
    assert on_hand(tenant, soap) == Decimal("17")

    # The list shows it shipped, on the phone too.
    open_from_menu(page, "Orders")
    expect(page.get_by_role("link", name="SO-78")).to_be_visible()
    fits_the_screen(page)
    screenshot("orders-list-phone")

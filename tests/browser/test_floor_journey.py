"""One lot's whole way across the floor, as the people who handle it see it.

An operator receives a product that needs QC, the inspector approves it, it
is available on its product page, an order is recorded and allocated, the
picker scans a wrong bin (refused) and then the right bin and lot, the
order ships; the stock, the product's movement history and the lot trace
all show it. Every screen is the real one, in headless Chromium against the
live server.
"""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from inventory.catalog.services import create_product
from inventory.models import LedgerEntry, LedgerKind, Lot
from inventory.stock.selectors import stock_summary
from tests.browser.steps import open_from_menu, sign_in, sign_out
from tests.conftest import make_member, make_site
from warehouse.models import Location, LocationKind, Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def floor(tenant):
    make_member(tenant, "oscar", Role.OPERATOR)
    make_member(tenant, "quinn", Role.QC)
    make_member(tenant, "maria", Role.MANAGER)
    warehouse = make_site(tenant, "DC1", bins=("A-01", "A-02"))
    with tenant_context(tenant.id):
        Location.objects.create(
            tenant=tenant, warehouse=warehouse, code="RCV-01", kind=LocationKind.RECEIVING
        )
    product = create_product(
        tenant=tenant, sku="VAX-10", name="Flu vaccine 10 doses", qc_required=True
    )
    return warehouse, product


def scan(page, text):
    field = page.get_by_test_id("scan")
    expect(field).to_be_focused()
    field.fill(text)
    field.press("Enter")


def test_a_lot_from_receipt_through_qc_and_picking_to_its_customer(
    live_server, page, screenshot, tenant, floor
):
    _, product = floor

    # Receive: the product needs QC, so the lot waits in quarantine.
    sign_in(page, live_server, "oscar")
    open_from_menu(page, "Receive")
    page.get_by_label("Product SKU").fill("vax-10")
    page.get_by_label("Lot code").fill("V-2026-001")
    page.get_by_label("Quantity").fill("10")
    page.get_by_label("Bin").fill("A-02")
    page.get_by_label("Quantity").press("Enter")
    expect(page.get_by_test_id("receive-result")).to_contain_text("in quarantine until QC decides")
    sign_out(page)

    # QC: the lot is in the queue; the inspector approves it.
    sign_in(page, live_server, "quinn")
    open_from_menu(page, "QC queue")
    row = page.get_by_test_id("lot-V-2026-001")
    expect(row).to_be_visible()
    row.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("lot-V-2026-001").get_by_test_id("decision")).to_have_text(
        "Approved"
    )
    sign_out(page)

    # The product page: ten available, in A-02.
    sign_in(page, live_server, "oscar")
    open_from_menu(page, "Products")
    search = page.get_by_label("Search products")
    search.fill("VAX-10")
    search.press("Enter")
    expect(page.get_by_test_id("product-sku")).to_have_text("VAX-10")
    expect(page.get_by_test_id("available-total")).to_contain_text("10")
    expect(page.get_by_test_id("holding-A-02-V-2026-001")).to_be_visible()

    # An order, allocated from that lot.
    open_from_menu(page, "Orders")
    page.get_by_test_id("new-order").click()
    page.get_by_label("Order reference").fill("SO-500")
    page.get_by_label("Customer").fill("St. Mary's clinic")
    page.get_by_label("SKU of line 1").fill("VAX-10")
    page.get_by_label("Quantity of line 1").fill("4")
    page.get_by_test_id("order-submit").click()
    expect(page.get_by_role("heading", name="Order SO-500")).to_be_visible()
    page.get_by_test_id("allocate").click()
    expect(page.get_by_test_id("order-allocations")).to_contain_text("V-2026-001")
    page.get_by_test_id("start-picking").click()

    # Picking: a wrong bin is refused and changes nothing; then bin, lot, quantity.
    expect(page.get_by_test_id("pick-bin")).to_have_text("A-02")
    scan(page, "A-01")
    expect(page.get_by_test_id("pick-error")).to_contain_text("Wrong bin")
    expect(page.get_by_test_id("pick-progress")).to_have_text("0 of 1 lines picked")
    scan(page, "A-02")
    expect(page.get_by_label("Scan the lot (or the product)")).to_be_focused()
    scan(page, "V-2026-001")
    expect(page.get_by_label("Quantity taken")).to_have_value("4")
    page.get_by_test_id("confirm-pick").click()
    expect(page.get_by_test_id("pick-progress")).to_have_text("1 of 1 lines picked")
    page.get_by_test_id("ship").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Shipped")

    # Stock: six left, all of it available.
    open_from_menu(page, "Stock")
    stock_row = page.get_by_test_id("stock-table").get_by_role("row", name=re.compile("VAX-10"))
    expect(stock_row.locator('[data-column="available"]')).to_contain_text("6")
    with tenant_context(tenant.id):
        summary = stock_summary(product=product)
        assert (summary.on_hand, summary.available) == (Decimal("6"), Decimal("6"))
        lot = Lot.objects.get(code="V-2026-001")
        shipped = LedgerEntry.objects.filter(lot=lot, kind=LedgerKind.SHIP)
        assert [entry.quantity for entry in shipped] == [Decimal("-4")]

    # The product's history shows the shipment by the operator, above the receipt.
    page.goto(f"{live_server.url}/products/{product.pk}/")
    history = page.get_by_test_id("history-table")
    shipment = history.get_by_role("row", name=re.compile("Shipment"))
    expect(shipment).to_contain_text("\N{MINUS SIGN}4 ea")
    expect(shipment).to_contain_text("Oscar")
    rows = history.locator("tbody tr")
    kinds = [text for text in rows.all_inner_texts()]
    first_shipment = next(i for i, text in enumerate(kinds) if "Shipment" in text)
    assert first_shipment < next(i for i, text in enumerate(kinds) if "Receipt" in text)
    screenshot("journey-product")
    sign_out(page)

    # The trace: the lot went to St. Mary's clinic on SO-500; six remain in A-02.
    sign_in(page, live_server, "maria")
    open_from_menu(page, "Trace")
    code = page.get_by_label("Lot code")
    code.fill("V-2026-001")
    code.press("Enter")
    movements = page.get_by_test_id("movement-table")
    expect(movements).to_contain_text("SO-500")
    expect(movements).to_contain_text("St. Mary's clinic")
    expect(page.get_by_test_id("bin-A-02")).to_contain_text("6")
    screenshot("journey-trace")

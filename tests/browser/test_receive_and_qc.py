"""An operator receives a QC-bound lot by scanner; an inspector releases it; stock shows it."""

import re

import pytest
from playwright.sync_api import expect

from inventory.catalog.services import create_product
from tests.browser.steps import open_from_menu, sign_in, sign_out
from tests.conftest import make_member, make_site
from warehouse.models import Location, LocationKind, Role, Warehouse
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True)


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
    expect(row.get_by_test_id("on-hand")).to_have_text("12.500 kg")
    row.get_by_placeholder("Note (required to reject)").fill("Lab results fine")
    screenshot("qc-queue")
    row.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("lot-LOT-7").get_by_test_id("decision")).to_have_text("Approved")

    open_from_menu(page, "Stock")
    stock_row = page.get_by_test_id("stock-table").get_by_role("row", name=re.compile("CHEESE-1"))
    expect(stock_row.locator('[data-column="available"]')).to_have_text("12.500 kg")
    screenshot("stock")


def quarantined(tenant, code="L-77"):
    from inventory.catalog.selectors import get_warehouse_by_code
    from inventory.models import Lot
    from inventory.stock.receipts import receive_stock

    product = create_product(
        tenant=tenant, sku="EGG-FRR-30", name="Free-range eggs", qc_required=True
    )
    with tenant_context(tenant.id):
        warehouse = get_warehouse_by_code("DC1")
    receive_stock(tenant=tenant, product=product, warehouse=warehouse, lot_code=code, quantity=30)
    with tenant_context(tenant.id):
        return Lot.objects.get(code=code)


def qc_status(tenant, lot):
    with tenant_context(tenant.id):
        lot.refresh_from_db()
    return lot.qc_status


def test_enter_in_a_qc_note_decides_nothing(live_server, page, tenant):
    make_member(tenant, "quinn", Role.QC)
    warehouse = make_site(tenant, "DC1", bins=("A-01",))
    with tenant_context(tenant.id):
        Location.objects.create(
            tenant=tenant, warehouse=warehouse, code="RCV-01", kind=LocationKind.RECEIVING
        )
    lot = quarantined(tenant)
    sign_in(page, live_server, "quinn")
    open_from_menu(page, "QC queue")
    row = page.get_by_test_id("lot-L-77")
    note = row.get_by_placeholder("Note (required to reject)")
    note.fill("Seal broken, reject please")
    note.press("Enter")
    page.wait_for_timeout(500)  # give a wrongly submitted form time to land
    assert qc_status(tenant, lot) == "QUARANTINE"
    expect(row.get_by_role("button", name="Reject")).to_be_visible()
    expect(note).to_have_value("Seal broken, reject please")
    row.get_by_role("button", name="Reject").click()
    expect(page.get_by_test_id("lot-L-77").get_by_test_id("decision")).to_have_text("Rejected")
    assert qc_status(tenant, lot) == "REJECTED"


def test_enter_in_a_qc_note_decides_nothing_without_javascript(live_server, browser, tenant):
    make_member(tenant, "quinn", Role.QC)
    make_site(tenant, "DC1", bins=("A-01",))
    with tenant_context(tenant.id):
        Location.objects.create(
            tenant=tenant,
            warehouse=Warehouse.objects.get(code="DC1"),
            code="RCV-01",
            kind=LocationKind.RECEIVING,
        )
    lot = quarantined(tenant)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, "quinn")
        page.goto(live_server.url + "/qc/")
        note = page.get_by_test_id("lot-L-77").get_by_placeholder("Note (required to reject)")
        note.fill("Seal broken, reject please")
        note.press("Enter")
        page.wait_for_timeout(500)
        assert qc_status(tenant, lot) == "QUARANTINE"
    finally:
        context.close()


def test_a_manager_reverses_a_wrong_approval(live_server, page, tenant, screenshot):
    make_member(tenant, "quinn", Role.QC)
    make_member(tenant, "mia", Role.MANAGER)
    warehouse = make_site(tenant, "DC1", bins=("A-01",))
    with tenant_context(tenant.id):
        Location.objects.create(
            tenant=tenant, warehouse=warehouse, code="RCV-01", kind=LocationKind.RECEIVING
        )
    lot = quarantined(tenant)
    sign_in(page, live_server, "quinn")
    open_from_menu(page, "QC queue")
    page.get_by_test_id("lot-L-77").get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("lot-L-77").get_by_test_id("decision")).to_have_text("Approved")
    sign_out(page)

    sign_in(page, live_server, "mia")
    open_from_menu(page, "QC queue")
    page.get_by_text("Reverse…").click()
    form = page.get_by_test_id("reverse-L-77")
    form.get_by_label("Set lot L-77 to").select_option("QUARANTINE")
    form.get_by_label("Reason (required)").fill("Approved the wrong lot")
    screenshot("qc-reverse")
    form.get_by_role("button", name="Reverse decision").click()
    expect(page.get_by_role("alert").first).to_contain_text("reversed: now quarantine")
    expect(page.get_by_test_id("lot-L-77").get_by_role("button", name="Reject")).to_be_visible()
    expect(page.get_by_test_id("recent-decisions")).to_contain_text("Approved the wrong lot")
    assert qc_status(tenant, lot) == "QUARANTINE"

    # The whole history, on a phone: both entries, the newest first, filtered in place.
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_test_id("all-decisions").click()
    expect(page).to_have_url(re.compile(r"/qc/history/$"))
    rows = page.locator("#qc-history tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Reversed")
    expect(rows.first.get_by_role("link", name="L-77")).to_be_in_viewport()
    page.get_by_label("Kind").select_option("DECISION")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"kind=DECISION"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Approved")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("qc-history-phone")


def test_a_decimal_comma_in_an_english_browser_is_never_multiplied(live_server, browser, tenant):
    make_member(tenant, "oscar", Role.OPERATOR)
    warehouse = make_site(tenant, "DC1", bins=("A-01",))
    with tenant_context(tenant.id):
        Location.objects.create(
            tenant=tenant, warehouse=warehouse, code="RCV-01", kind=LocationKind.RECEIVING
        )
    create_product(tenant=tenant, sku="FLOUR-25", name="Flour", uom="kg")
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, live_server, "oscar")
        page.goto(live_server.url + "/receive/")
        page.get_by_label("Product SKU").fill("FLOUR-25")
        page.get_by_label("Lot code").fill("F-1")
        page.get_by_label("Quantity").fill("12,5")
        page.get_by_label("Quantity").press("Enter")
        expect(page.get_by_test_id("receive-result")).to_contain_text("Received 12.5 kg")
        page.get_by_label("Product SKU").fill("FLOUR-25")
        page.get_by_label("Lot code").fill("F-2")
        page.get_by_label("Quantity").fill("1,250")
        page.get_by_label("Quantity").press("Enter")
        expect(page.get_by_test_id("error-quantity")).to_contain_text("could mean 1250 or 1.250")
    finally:
        context.close()
    from inventory.models import Balance

    with tenant_context(tenant.id):
        assert [str(b.on_hand) for b in Balance.objects.all()] == ["12.500"]

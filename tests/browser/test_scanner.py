"""A keyboard-wedge scanner on the receive screen: Enter (or Tab) moves on, never submits early."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from inventory.catalog.services import create_product
from inventory.models import LedgerEntry, Lot
from tests.browser.steps import open_from_menu, sign_in
from tests.conftest import make_member, make_site
from warehouse.models import Location, LocationKind, Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiving(live_server, page, tenant):
    """Oscar, signed in on the receive screen of a tenant with two warehouses."""
    make_member(tenant, "oscar", Role.OPERATOR)
    for code in ("DC1", "DC2"):
        warehouse = make_site(tenant, code, bins=("A-01",))
        with tenant_context(tenant.id):
            Location.objects.create(
                tenant=tenant, warehouse=warehouse, code=f"RCV-{code}", kind=LocationKind.RECEIVING
            )
    create_product(tenant=tenant, sku="RCE-BAS-5", name="Basmati rice 5 kg", uom="kg")
    sign_in(page, live_server, "oscar")
    open_from_menu(page, "Receive")
    # The cursor is in the SKU field before the first scan, as the operator sees it.
    expect(page.get_by_label("Product SKU")).to_be_focused()
    return page


def ledger_count(tenant):
    with tenant_context(tenant.id):
        return LedgerEntry.objects.count()


def scan(page, code, terminator="Enter"):
    page.keyboard.type(code)
    page.keyboard.press(terminator)


def test_each_enter_moves_to_the_next_field_and_the_last_one_submits_once(
    receiving, tenant, screenshot
):
    page = receiving
    sku, lot, quantity = (
        page.get_by_label("Product SKU"),
        page.get_by_label("Lot code"),
        page.get_by_label("Quantity"),
    )
    expect(sku).to_be_focused()
    scan(page, "RCE-BAS-5")
    expect(lot).to_be_focused()
    expect(page.get_by_test_id("receive-error")).to_have_count(0)
    expect(page.locator(".invalid-feedback")).to_have_count(0)
    assert ledger_count(tenant) == 0
    scan(page, "L-77")
    expect(quantity).to_be_focused()
    assert ledger_count(tenant) == 0
    scan(page, "12,5")
    result = page.get_by_test_id("receive-result")
    expect(result).to_contain_text("Received 12.5 kg of RCE-BAS-5 as lot L-77 into RCV-DC1")
    screenshot("scanner-received")
    # Ready for the next pallet: focus on an empty SKU, nothing appended.
    expect(page.get_by_label("Product SKU")).to_be_focused()
    expect(page.get_by_label("Product SKU")).to_have_value("")
    expect(page.get_by_label("Lot code")).to_have_value("")
    assert ledger_count(tenant) == 1
    with tenant_context(tenant.id):
        assert str(Lot.objects.get(code="L-77").balances.get().on_hand) == "12.500"


def test_a_scanner_ending_with_tab_fills_sku_lot_and_quantity(receiving, tenant):
    page = receiving
    warehouse = page.get_by_label("Warehouse")
    warehouse.select_option(label="DC2 · DC2 site")
    # Choosing the warehouse hands focus back to the first scanned field.
    expect(page.get_by_label("Product SKU")).to_be_focused()
    scan(page, "RCE-BAS-5", "Tab")
    scan(page, "L-78", "Tab")
    scan(page, "3", "Tab")
    expect(page.get_by_label("Product SKU")).to_have_value("RCE-BAS-5")
    expect(page.get_by_label("Lot code")).to_have_value("L-78")
    expect(page.get_by_label("Quantity")).to_have_value("3")
    expect(warehouse).to_have_value(str(_warehouse_id(tenant, "DC2")))
    assert ledger_count(tenant) == 0
    page.get_by_test_id("receive-submit").click()
    expect(page.get_by_test_id("receive-result")).to_contain_text("into RCV-DC2")
    # The warehouse stays chosen for the next receipt, also after a reload.
    expect(page.get_by_label("Warehouse")).to_have_value(str(_warehouse_id(tenant, "DC2")))
    page.reload()
    expect(page.get_by_label("Warehouse")).to_have_value(str(_warehouse_id(tenant, "DC2")))


def test_a_refused_scan_keeps_the_form_and_focuses_the_field_to_fix(receiving, tenant):
    page = receiving
    scan(page, "RCE-BAS-9")
    scan(page, "L-79")
    scan(page, "1,250")
    expect(page.get_by_test_id("error-sku")).to_contain_text("No product with SKU")
    expect(page.get_by_test_id("error-quantity")).to_contain_text("could mean 1250 or 1.250")
    expect(page.get_by_label("Product SKU")).to_be_focused()
    # A new scan replaces the wrong code instead of being appended to it.
    scan(page, "RCE-BAS-5")
    expect(page.get_by_label("Product SKU")).to_have_value("RCE-BAS-5")
    assert ledger_count(tenant) == 0


def _warehouse_id(tenant, code):
    from warehouse.models import Warehouse

    with tenant_context(tenant.id):
        return Warehouse.objects.get(code=code).pk


def test_a_scan_into_the_bin_field_moves_on_to_the_sku(receiving, tenant):
    page = receiving
    page.get_by_label("Bin").click()
    scan(page, "A-01")
    expect(page.get_by_label("Product SKU")).to_be_focused()
    scan(page, "RCE-BAS-5")
    scan(page, "L-80")
    scan(page, "2")
    expect(page.get_by_test_id("receive-result")).to_contain_text("as lot L-80 into A-01")
    assert ledger_count(tenant) == 1


# -- GS1 labels: one scan fills product, lot, expiry and quantity ---------------------

RICE_GTIN = "09501101020917"


def gs1_label(separator):
    """A GS1-128 label as a wedge scanner types it: GTIN, expiry, lot, then the count."""
    return f"]C101{RICE_GTIN}17270131" + f"10L-90{separator}3012"


def give_rice_its_gtin(tenant):
    from inventory.catalog.services import set_product_gtin
    from inventory.models import Product

    with tenant_context(tenant.id):
        rice = Product.objects.get(sku="RCE-BAS-5")
    set_product_gtin(tenant=tenant, product=rice, gtin=RICE_GTIN)


def assert_fits_the_screen(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("separator", ["\x1d", ""], ids=["with-group-separator", "without"])
def test_a_gs1_128_scan_fills_product_lot_expiry_and_quantity(receiving, tenant, separator):
    page = receiving
    give_rice_its_gtin(tenant)
    sku = page.get_by_label("Product SKU")
    scan(page, gs1_label(separator))
    expect(sku).to_have_value("RCE-BAS-5")
    expect(page.get_by_label("Lot code")).to_have_value("L-90")
    expect(page.get_by_label("Quantity")).to_have_value("12")
    expect(page.get_by_label("Expiry date")).to_have_value("2027-01-31")
    expect(sku).to_have_class(re.compile(r"\bsy-scan-ok\b"))
    expect(page.get_by_test_id("scan-message")).to_contain_text("Read SKU RCE-BAS-5, lot L-90")
    # Everything needed is there: the next Enter records the receipt, once.
    expect(page.get_by_test_id("receive-submit")).to_be_focused()
    assert ledger_count(tenant) == 0
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receive-result")).to_contain_text(
        "Received 12 kg of RCE-BAS-5 as lot L-90 into RCV-DC1"
    )
    assert ledger_count(tenant) == 1
    with tenant_context(tenant.id):
        lot = Lot.objects.get(code="L-90")
        assert lot.expires_on == datetime.date(2027, 1, 31)
        assert lot.product.sku == "RCE-BAS-5"
        assert str(lot.balances.get().on_hand) == "12.000"


def test_a_label_of_a_product_without_its_gtin_is_refused_in_red(receiving, tenant):
    page = receiving
    sku = page.get_by_label("Product SKU")
    scan(page, gs1_label("\x1d"))
    expect(sku).to_have_class(re.compile(r"\bsy-scan-bad\b"))
    expect(page.get_by_test_id("scan-message")).to_contain_text(f"No product has GTIN {RICE_GTIN}")
    # What the label carries is filled; the SKU stays to be fixed, focused.
    expect(page.get_by_label("Lot code")).to_have_value("L-90")
    expect(sku).to_be_focused()
    assert ledger_count(tenant) == 0


def test_a_gs1_scan_on_a_phone(receiving, tenant):
    page = receiving
    give_rice_its_gtin(tenant)
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_label("Product SKU").focus()
    scan(page, gs1_label(""))
    expect(page.get_by_label("Quantity")).to_have_value("12")
    submit = page.get_by_test_id("receive-submit")
    expect(submit).to_be_focused()
    expect(submit).to_be_in_viewport()
    assert_fits_the_screen(page, 390)
    page.keyboard.press("Enter")
    result = page.get_by_test_id("receive-result")
    expect(result).to_contain_text("Received 12 kg")
    expect(result).to_be_visible()
    assert_fits_the_screen(page, 390)

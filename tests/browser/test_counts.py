"""An operator counts a bin blind; a manager approves the difference and the stock follows."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from inventory.catalog.services import create_product
from inventory.counts.services import start_count
from inventory.models import Balance, CountStatus
from inventory.stock.receipts import receive_stock
from tests.browser.steps import fits_the_screen, open_from_menu, sign_in, sign_out
from tests.conftest import bin_of, make_member, make_site
from warehouse.models import Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shelf(tenant):
    """Bin A-01 holds 40 bolts (2.50 each) and 12.5 kg of flour; over 20.00 needs a manager."""
    tenant.count_approval_value = Decimal("20.00")
    tenant.save()
    warehouse = make_site(tenant, "DC1", bins=("A-01", "A-02"))
    a01 = bin_of(tenant, warehouse, "A-01")
    bolts = create_product(tenant=tenant, sku="BOLT-8", name="Hex bolt M8")
    flour = create_product(tenant=tenant, sku="FLOUR-25", name="Wheat flour", uom="kg")
    bolt_lot = receive_stock(
        tenant=tenant,
        product=bolts,
        warehouse=warehouse,
        location=a01,
        lot_code="B-1",
        quantity=40,
        unit_cost="2.50",
    ).lot
    receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=warehouse,
        location=a01,
        lot_code="F-1",
        quantity="12.5",
        unit_cost="1.20",
    )
    return {"warehouse": warehouse, "a01": a01, "bolt_lot": bolt_lot}


def bolts_on_hand(tenant, shelf):
    with tenant_context(tenant.id):
        return Balance.objects.get(lot=shelf["bolt_lot"], location=shelf["a01"]).on_hand


def test_a_blind_count_with_a_difference_approved_by_a_manager(
    live_server, page, screenshot, tenant, shelf
):
    make_member(tenant, "oscar", Role.OPERATOR)
    make_member(tenant, "mia", Role.MANAGER)
    page.set_viewport_size({"width": 1366, "height": 768})

    sign_in(page, live_server, "oscar")
    open_from_menu(page, "Counts")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No counts yet")
    page.get_by_label("Bins").fill("a-01")
    page.get_by_test_id("start-submit").click()
    expect(page.get_by_role("heading", name=re.compile(r"Count \d+"))).to_be_visible()
    bolts = page.get_by_test_id("line-A-01-B-1")
    flour = page.get_by_test_id("line-A-01-F-1")
    expect(bolts.get_by_test_id("line-status")).to_have_text("Not counted yet")
    assert "40" not in bolts.inner_text() and "12.5" not in flour.inner_text()
    # Enter saves the line and moves on to the next one.
    expect(bolts.locator("[data-count-input]")).to_be_focused()
    page.keyboard.type("30")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("line-A-01-B-1").get_by_test_id("line-status")).to_contain_text(
        "Saved: 30 ea"
    )
    expect(flour.locator("[data-count-input]")).to_be_focused()
    page.keyboard.type("12,5")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("line-A-01-F-1").get_by_test_id("line-status")).to_contain_text(
        "Saved: 12.5 kg"
    )
    screenshot("count-sheet")
    page.get_by_test_id("submit-count").click()
    expect(page.get_by_test_id("count-status")).to_have_text("In review")
    actions = page.get_by_test_id("count-actions")
    expect(actions).to_contain_text("A manager will approve and post it.")
    expect(page.get_by_test_id("post-count")).to_have_count(0)
    expect(page.get_by_test_id("total-value")).to_have_text("25.00")
    assert bolts_on_hand(tenant, shelf) == 40
    sign_out(page)

    sign_in(page, live_server, "mia")
    open_from_menu(page, "Counts")
    screenshot("counts-list")
    page.get_by_role("link", name="Review").click()
    difference = page.get_by_test_id("review-A-01-B-1").get_by_test_id("difference")
    expect(difference).to_contain_text("\N{MINUS SIGN}10 ea")
    screenshot("count-review")
    page.get_by_test_id("approve-post").click()
    expect(page.get_by_test_id("review-notice")).to_contain_text(
        "approved and posted: 1 difference written to stock"
    )
    expect(page.get_by_test_id("count-status")).to_have_text("Posted")
    assert bolts_on_hand(tenant, shelf) == 30


def test_counting_on_a_phone_turns_the_page_after_its_last_line(
    live_server, page, screenshot, tenant, shelf, settings
):
    settings.COUNT_SHEET_PAGE_SIZE = 1  # a page per line: Enter on page 1 goes on to page 2
    oscar = make_member(tenant, "oscar", Role.OPERATOR)
    session = start_count(
        tenant=tenant, warehouse=shelf["warehouse"], user=oscar, locations=[shelf["a01"]]
    )
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "oscar")
    page.goto(f"{live_server.url}/counts/")
    expect(page.get_by_role("link", name="Resume")).to_be_visible()
    fits_the_screen(page)
    screenshot("counts-list-phone")

    page.get_by_role("link", name="Resume").click()
    bolts = page.get_by_test_id("line-A-01-B-1")
    expect(bolts.locator("[data-count-input]")).to_be_focused()
    expect(bolts.get_by_test_id("save-line")).to_be_visible()
    expect(page.get_by_test_id("count-progress")).to_contain_text("0 of 2 lines counted")
    expect(page.get_by_test_id("line-A-01-F-1")).to_have_count(0)
    fits_the_screen(page)
    page.keyboard.type("40")
    page.keyboard.press("Enter")
    flour_input = page.get_by_test_id("line-A-01-F-1").locator("[data-count-input]")
    expect(flour_input).to_be_focused()
    expect(page).to_have_url(re.compile(rf"/counts/{session.pk}/\?page=2$"))
    expect(page.get_by_test_id("count-progress")).to_contain_text("1 of 2 lines counted")
    page.keyboard.type("12.5")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("line-A-01-F-1").get_by_test_id("line-status")).to_contain_text(
        "Saved: 12.5 kg"
    )
    expect(page.get_by_test_id("count-progress")).to_contain_text("2 of 2 lines counted")
    expect(page.get_by_test_id("sheet-pager")).to_be_visible()
    fits_the_screen(page)
    screenshot("count-sheet-phone")

    page.get_by_test_id("submit-count").click()
    expect(page.get_by_test_id("post-count")).to_be_visible()
    expect(page.get_by_test_id("review-A-01-B-1").get_by_test_id("difference")).to_be_visible()
    fits_the_screen(page)
    page.get_by_test_id("post-count").click()
    expect(page.get_by_test_id("review-notice")).to_contain_text("every line matched the books")
    with tenant_context(tenant.id):
        session.refresh_from_db()
    assert session.status == CountStatus.POSTED
    screenshot("count-review-phone")

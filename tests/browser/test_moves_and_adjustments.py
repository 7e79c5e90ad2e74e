"""An operator puts received stock away by scanner; a manager adjusts a bin with a reason.

Each flow runs on a desktop screen and on a phone (390 x 844), where the
buttons and the numbers people came for must show without sideways scrolling.
"""

import pytest
from playwright.sync_api import expect

from inventory.catalog.services import create_location, create_product, create_warehouse
from inventory.stock.receipts import receive_stock
from tests.browser.steps import fits_the_screen, open_from_menu, sign_in
from tests.conftest import bin_of, make_member
from warehouse.models import Role

pytestmark = pytest.mark.django_db(transaction=True)

SCREENS = {"desktop": None, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=SCREENS, ids=list(SCREENS))
def screen(request, page):
    if SCREENS[request.param]:
        page.set_viewport_size(SCREENS[request.param])
    yield request.param


def stocked_site(tenant, location=None):
    warehouse = create_warehouse(tenant=tenant, code="DC1", name="Acme DC")
    for sequence, code in enumerate(("A-01", "A-02"), start=1):
        create_location(tenant=tenant, warehouse=warehouse, code=code, pick_sequence=sequence)
    flour = create_product(
        tenant=tenant, sku="FLOUR-25", name="Wheat flour 25 kg", uom="kg", shelf_life_days=180
    )
    receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=warehouse,
        lot_code="F-1",
        quantity=40,
        location=bin_of(tenant, warehouse, location) if location else None,
    )
    return warehouse


def shown_across(page, locator):
    """The element lies within the screen's width: nobody scrolls sideways to reach it."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= page.viewport_size["width"]


def go_to(page, live_server, screen, name, path):
    """The menu on a wide screen; on a phone the menu is folded away, so the address."""
    if screen == "phone":
        page.goto(live_server.url + path)
    else:
        open_from_menu(page, name)


def test_operator_moves_stock_by_scanning_and_puts_the_rest_away(
    live_server, page, screen, screenshot, tenant
):
    make_member(tenant, "oscar", Role.OPERATOR)
    stocked_site(tenant)
    sign_in(page, live_server, "oscar")

    page.goto(live_server.url + "/moves/")
    from_bin = page.get_by_label("From bin")
    expect(from_bin).to_be_focused()
    # A keyboard-wedge scanner types each code and presses Enter.
    for scanned in ("RECEIVING", "f-1", "15", "a-01"):
        page.keyboard.type(scanned)
        page.keyboard.press("Enter")
    result = page.get_by_test_id("move-result")
    expect(result).to_contain_text("Moved 15 kg of FLOUR-25 lot F-1 from RECEIVING to A-01.")
    expect(result).to_be_in_viewport()
    expect(page.get_by_label("From bin")).to_be_focused()
    expect(page.get_by_label("From bin")).to_have_value("")
    expect(page.get_by_test_id("move-submit")).to_be_visible()
    fits_the_screen(page)
    screenshot(f"move-{screen}")

    # A scanned bin that holds no such lot is refused next to the field; nothing moves.
    for scanned in ("A-02", "F-1", "5", "A-01"):
        page.keyboard.type(scanned)
        page.keyboard.press("Enter")
    expect(page.get_by_test_id("error-lot_code")).to_have_text("No lot 'F-1' in bin A-02.")
    expect(page.get_by_label("Lot")).to_be_focused()

    go_to(page, live_server, screen, "Put away", "/put-away/")
    row = page.get_by_test_id("put-away-F-1")
    expect(row).to_contain_text("25.000")
    expect(row).to_contain_text("A-01")  # already holds the product
    put_away = row.get_by_role("link", name="Put away")
    shown_across(page, put_away)
    fits_the_screen(page)
    screenshot(f"put-away-{screen}")
    put_away.click()
    to_bin = page.get_by_label("To bin")
    expect(to_bin).to_be_focused()
    expect(page.get_by_label("Quantity")).to_have_value("25")
    # The operator scans the bin the pallet actually went into.
    page.keyboard.type("A-02")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("move-result")).to_contain_text("from RECEIVING to A-02.")

    page.get_by_test_id("move-result").get_by_role("link", name="A-02").click()
    contents = page.get_by_test_id("contents-F-1")
    expect(contents).to_contain_text("25.000")
    shown_across(page, contents.locator("td").nth(2))
    expect(page.get_by_test_id("move-from-here")).to_be_visible()
    fits_the_screen(page)
    screenshot(f"bin-{screen}")


def test_manager_adjusts_a_bin_with_a_reason(live_server, page, screen, screenshot, tenant):
    make_member(tenant, "mia", Role.MANAGER)
    warehouse = stocked_site(tenant, location="A-01")
    sign_in(page, live_server, "mia")
    page.goto(live_server.url + f"/bins/{bin_of(tenant, warehouse, 'A-01').pk}/")
    page.get_by_test_id("adjust-here").click()
    expect(page.get_by_label("Bin")).to_have_value("A-01")

    page.get_by_label("Lot").fill("F-1")
    page.get_by_label("Quantity").fill("2,5")
    page.get_by_label("Reason").select_option("other")
    page.get_by_test_id("adjust-submit").click()
    expect(page.get_by_test_id("error-note")).to_have_text(
        "Say what happened: “Other” needs a note."
    )

    page.get_by_label("Reason").select_option("damaged")
    page.get_by_label("Note").fill("pallet crushed")
    page.get_by_label("Note").press("Enter")  # Enter in the note records nothing
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("adjust-result")).to_have_count(0)
    submit = page.get_by_test_id("adjust-submit")
    expect(submit).to_be_visible()
    submit.click()
    result = page.get_by_test_id("adjust-result")
    expect(result).to_contain_text(
        "Removed 2.5 kg of FLOUR-25 lot F-1 from A-01: Damaged: pallet crushed."
    )
    history = page.get_by_test_id("adjustments-table")
    expect(history).to_contain_text("Damaged: pallet crushed")
    change = history.get_by_role("row").nth(1).locator("td.sy-num")
    expect(change).to_contain_text("2.500")
    shown_across(page, change)
    fits_the_screen(page)
    screenshot(f"adjust-{screen}")

    page.goto(live_server.url + f"/bins/{bin_of(tenant, warehouse, 'A-01').pk}/")
    expect(page.get_by_test_id("contents-F-1")).to_contain_text("37.500")
    expect(page.get_by_test_id("bin-movements")).to_contain_text("Damaged: pallet crushed")

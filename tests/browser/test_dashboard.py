"""A manager reads the dashboard, follows a card into its report and adds a reorder rule.

The data set is the dashboard view tests' (``tests/analytics/test_dashboard.py``).
The A-items card leads into the low-stock report, which lists the same item.
"""

import re

import pytest
from playwright.sync_api import expect

from analytics.dw import refresh_current_stock
from inventory.catalog.services import create_product
from tests.analytics.conftest import DW_DATABASES
from tests.analytics.test_dashboard import build_dashboard_data, take_the_weeks_snapshots
from tests.browser.steps import LAPTOP, PHONE, fits_the_screen, open_from_menu, sign_in
from tests.conftest import make_member
from warehouse.models import Role

pytestmark = pytest.mark.django_db(transaction=True, databases=DW_DATABASES)


@pytest.fixture
def figures(tenant, site, flour, vaccine):
    make_member(tenant, "maria", Role.MANAGER)
    data = build_dashboard_data(tenant, site, flour, vaccine)
    create_product(tenant=tenant, sku="SUGAR-1", name="Cane sugar 1 kg", uom="kg")
    take_the_weeks_snapshots()
    refresh_current_stock()
    return data


def test_a_manager_reads_the_cards_and_adds_a_reorder_rule(live_server, page, screenshot, figures):
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, "maria")
    open_from_menu(page, "Reports")
    expect(page.get_by_test_id("dashboard-heading")).to_be_visible()
    # The figures worked out in tests/analytics/test_dashboard.py.
    expect(page.get_by_test_id("card-value-figure")).to_have_text("570.00")
    expect(page.get_by_test_id("card-expiring-figure")).to_have_text("1 lot")
    expect(page.get_by_test_id("card-quarantined-figure")).to_have_text("120.00")
    expect(page.get_by_test_id("card-stock-outs-figure")).to_have_text("3 products")
    expect(page.get_by_test_id("card-a-items-figure")).to_have_text("1")
    screenshot("dashboard-laptop")
    expect(page.get_by_test_id("a-item-GOLD")).to_have_attribute(
        "href", "/reports/history/?sku=GOLD"
    )
    link = page.get_by_test_id("card-a-items-link")
    expect(link).to_have_attribute("href", "/reports/low-stock/")
    link.click()
    page.wait_for_url(live_server.url + "/reports/low-stock/")
    expect(page.locator("#report-table")).to_contain_text("GOLD")

    page.goto(live_server.url + "/reports/")
    page.get_by_test_id("reorder-rules-link").click()
    page.wait_for_url(live_server.url + "/reports/reorder-rules/")
    expect(page.get_by_test_id("rule-GOLD-DC1")).to_be_visible()
    page.get_by_label("Product SKU").fill("sugar-1")
    page.get_by_label("Reorder point").fill("12,5")
    page.get_by_label("Reorder quantity").fill("100")
    page.get_by_test_id("rule-submit").click()
    expect(page.get_by_test_id("rule-result")).to_contain_text(
        "Reorder rule for SUGAR-1 in DC1 added."
    )
    row = page.get_by_test_id("rule-SUGAR-1-DC1")
    expect(row).to_contain_text("12.500 kg")
    expect(row).to_contain_text("100.000 kg")
    # Every action of the row within the list, not behind its own sideways scroll.
    region = page.locator("#rules-table").bounding_box()
    delete = row.get_by_test_id("delete").bounding_box()
    assert delete["x"] + delete["width"] <= region["x"] + region["width"]
    # In place: the page was not reloaded, the form is ready for the next rule.
    assert page.url == live_server.url + "/reports/reorder-rules/"
    expect(page.get_by_label("Product SKU")).to_have_value("")
    screenshot("reorder-rules-laptop")


def test_the_dashboard_and_the_rules_fit_a_phone(live_server, page, screenshot, figures):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "maria")
    open_from_menu(page, "Reports")
    expect(page.get_by_test_id("card-value-figure")).to_be_in_viewport()
    fits_the_screen(page)
    screenshot("dashboard-phone")
    page.goto(live_server.url + "/reports/reorder-rules/")
    toggle = page.get_by_test_id("rule-GOLD-DC1").get_by_test_id("toggle")
    expect(toggle).to_be_visible()
    fits_the_screen(page)
    # The toggle lies within the screen, not behind the table's own sideways scroll.
    box = toggle.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    screenshot("reorder-rules-phone")
    assert re.search(r"/reports/reorder-rules/$", page.url)

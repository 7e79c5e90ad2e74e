"""A manager reads the ABC report: the Pareto chart drawn, the table sorted in place, the CSV.

The data set is ``build_reports_data`` (``test_reports_selectors``); every
shipment lies within the last ten years, so a 3660-day window shows them
all: ALPHA A, BRAVO B, CHARLIE C. The ``page`` fixture fails the test on any
refusal of the Content Security Policy (the chart's data is a JSON block,
Chart.js runs from a static file).
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.analytics.test_reports_selectors import build_reports_data
from tests.browser.steps import LAPTOP, PHONE, fits_the_screen, sign_in
from tests.conftest import make_member
from warehouse.models import Role

pytestmark = pytest.mark.django_db(transaction=True)

ABC = "/reports/abc/?days=3660"


@pytest.fixture
def reports_data(tenant, site):
    make_member(tenant, "maria", Role.MANAGER)
    return build_reports_data(tenant, site)


def chart_is_drawn(page, test_id: str) -> None:
    canvas = page.get_by_test_id(test_id)
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box["width"] > 0 and box["height"] > 0
    assert canvas.evaluate("canvas => Boolean(window.Chart && window.Chart.getChart(canvas))")


def test_manager_reads_the_abc_chart_sorts_the_table_and_downloads_it(
    live_server, page, screenshot, reports_data
):
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, "maria")
    page.goto(live_server.url + ABC)
    expect(page.locator("h1")).to_have_text("ABC analysis")
    chart_is_drawn(page, "chart-pareto")
    expect(page.get_by_test_id("card-total-value")).to_contain_text("110.00")
    expect(page.get_by_test_id("chart-note")).to_contain_text("All 3 products that shipped")
    screenshot("abc-desk")

    # Sorting swaps the table alone: the page (and the chart) stay as they were.
    page.evaluate("window.notReloaded = true")
    table = page.get_by_test_id("report-table")
    table.get_by_role("link", name="SKU").click()
    expect(page).to_have_url(re.compile(r"sort=sku"))
    table.get_by_role("link", name="SKU").click()
    expect(page).to_have_url(re.compile(r"sort=-sku"))
    expect(table.locator("tbody tr").first).to_contain_text("ECHO")
    assert page.evaluate("window.notReloaded === true")
    chart_is_drawn(page, "chart-pareto")

    # A narrower window through the filter: the figures and the chart are drawn again.
    page.get_by_label("Days").fill("30")
    page.get_by_test_id("report-submit").click()
    expect(page).to_have_url(re.compile(r"days=30"))
    expect(page.get_by_test_id("card-total-value")).not_to_contain_text("110.00")
    assert page.evaluate("window.notReloaded === true")

    with page.expect_download() as download:
        page.get_by_test_id("report-csv").click()
    today = timezone.localdate().isoformat()
    assert download.value.suggested_filename == f"abc-30-days-{today}.csv"
    with open(download.value.path(), encoding="utf-8") as export:
        assert export.readline().strip() == (
            "sku,product,consumption_value,share,cumulative_share,class"
        )


def test_the_abc_report_fits_a_phone(live_server, page, screenshot, reports_data):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "maria")
    page.goto(live_server.url + ABC)
    chart_is_drawn(page, "chart-pareto")
    box = page.get_by_test_id("chart-pareto").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    expect(page.get_by_test_id("report-csv")).to_be_visible()
    expect(page.get_by_test_id("report-table").locator("td.sy-num").first).to_be_visible()
    fits_the_screen(page)
    screenshot("abc-phone")

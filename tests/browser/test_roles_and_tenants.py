"""Who sees what: an operator meets no QC decision or adjustment; another tenant sees nothing.

The pages are asked for the way a curious person would: through the menu
first, then by typing the addresses of screens and records they may not
open. Refusals are the branded pages (403 for a role, 404 for another
tenant's record: its existence is not confirmed).
"""

import re

import pytest
from playwright.sync_api import expect

from inventory.catalog.services import create_product
from inventory.orders.services import create_order
from inventory.reservations.requests import LineRequest
from inventory.stock.receipts import receive_stock
from tests.browser.steps import LAPTOP, PHONE, fits_the_screen, sign_in
from tests.conftest import bin_of, make_member, make_site
from warehouse.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def acme(tenant):
    """Acme: a lot waiting for QC and an approved one in bin A-01, and an open order."""
    make_member(tenant, "oscar", Role.OPERATOR)
    warehouse = make_site(tenant, "DC1", bins=("A-01",))
    shelf = bin_of(tenant, warehouse, "A-01")
    vaccine = create_product(tenant=tenant, sku="VAX-10", name="Vaccine vial", qc_required=True)
    flour = create_product(tenant=tenant, sku="FLOUR-25", name="Wheat flour 25 kg", uom="kg")
    waiting = receive_stock(
        tenant=tenant,
        product=vaccine,
        warehouse=warehouse,
        location=shelf,
        lot_code="V-1",
        quantity=40,
    ).lot
    approved = receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=warehouse,
        location=shelf,
        lot_code="F-1",
        quantity=9,
    ).lot
    order = create_order(
        tenant=tenant,
        warehouse=warehouse,
        reference="SO-ACME-1",
        customer="Clinic North",
        lines=[LineRequest(product=flour, quantity="2")],
    )
    return {
        "bin": shelf,
        "vaccine": vaccine,
        "waiting": waiting,
        "approved": approved,
        "order": order,
    }


def refused(page, url, status):
    response = page.goto(url)
    assert response.status == status, url
    heading = "You can't open this page" if status == 403 else "Page not found"
    expect(page.get_by_role("heading", name=heading)).to_be_visible()


@pytest.mark.parametrize("screen", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_an_operator_meets_no_qc_decision_or_adjustment(live_server, page, acme, screen):
    page.set_viewport_size(screen)
    sign_in(page, live_server, "oscar")
    menu = page.get_by_role("navigation", name="Main navigation")
    toggler = menu.get_by_role("button", name="Toggle navigation")
    if toggler.is_visible():
        toggler.click()
    menu.get_by_test_id("nav-more").click()
    expect(menu.get_by_role("link", name="Warehouses", exact=True)).to_be_visible()
    for absent in ("QC queue", "Adjust", "Trace"):
        expect(menu.get_by_role("link", name=absent, exact=True)).to_have_count(0)

    # The bin holds both lots; it offers moves, and no adjustment.
    page.goto(f"{live_server.url}/bins/{acme['bin'].pk}/")
    expect(page.get_by_test_id("move-from-here")).to_be_visible()
    expect(page.locator("main")).to_contain_text("V-1")
    expect(page.get_by_test_id("adjust-here")).to_have_count(0)
    fits_the_screen(page)
    # The product page shows the quarantined lot as text, not a way into QC or trace.
    page.goto(f"{live_server.url}/products/{acme['vaccine'].pk}/")
    expect(page.get_by_text("V-1", exact=True).first).to_be_visible()
    expect(page.get_by_role("link", name="V-1", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)

    # Typing the addresses gets the branded refusal, and nothing of the lot.
    for path in ("/qc/", "/qc/history/", "/adjustments/", f"/lots/{acme['waiting'].pk}/"):
        refused(page, live_server.url + path, 403)
        expect(page.locator("main")).to_contain_text("you are signed in as Operator")
        fits_the_screen(page)


def test_another_tenants_manager_sees_none_of_it(live_server, page, acme, other_tenant):
    make_member(other_tenant, "gita", Role.MANAGER)
    make_site(other_tenant, "GLOBEX-DC", bins=("G-01",))
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, "gita")
    expect(page.get_by_test_id("home-heading")).to_have_text("Globex Storage")

    # Lists: none of Acme's orders, stock, lots waiting for QC or products.
    page.goto(live_server.url + "/orders/")
    expect(page.get_by_test_id("empty-state")).to_be_visible()
    expect(page.get_by_text("SO-ACME-1")).to_have_count(0)
    page.goto(live_server.url + "/stock/")
    expect(page.get_by_text("VAX-10")).to_have_count(0)
    page.goto(live_server.url + "/qc/")
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    page.goto(live_server.url + "/products/?q=VAX")
    expect(page.get_by_text("VAX-10")).to_have_count(0)
    page.goto(live_server.url + "/lots/trace/?customer=Clinic")
    expect(page.get_by_text("Clinic North")).to_have_count(0)

    # Addresses of Acme's records are not found, as if they did not exist.
    for path in (
        f"/orders/{acme['order'].pk}/",
        f"/orders/{acme['order'].pk}/pick/",
        f"/products/{acme['vaccine'].pk}/",
        f"/lots/{acme['waiting'].pk}/",
        f"/lots/{acme['approved'].pk}/trace.csv",
        f"/bins/{acme['bin'].pk}/",
    ):
        refused(page, live_server.url + path, 404)
        expect(page.get_by_text(re.compile("VAX-10|FLOUR-25|SO-ACME-1"))).to_have_count(0)

    # A scan of Acme's SKU finds nothing here.
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#scan-page-code")).to_be_focused()
    page.keyboard.type("VAX-10")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("scan-nothing")).to_contain_text("Nothing found for VAX-10")

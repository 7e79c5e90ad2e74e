"""Every screen, at a laptop's 1366x768 and a phone's 390x844, with real data on it.

A manager (who may open every screen) visits each one: the page answers,
its heading is on screen, nothing scrolls sideways, and nothing is refused
by the Content Security Policy (the ``page`` fixture checks that). With
``STOCKYARD_SCREENSHOTS`` set, each is kept as ``<screen>-<size>.png`` for
a person to look at.
"""

import datetime
import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inventory.catalog.services import create_location, create_product
from inventory.counts.services import save_count_line, start_count, submit_count
from inventory.ledger.posting import Actor
from inventory.lots.services import approve_lot
from inventory.models import CountLine
from inventory.orders.picking import start_picking
from inventory.orders.services import allocate_order, create_order
from inventory.reservations.requests import LineRequest
from inventory.stock.movements import adjust_stock
from inventory.stock.receipts import receive_stock
from tests.browser.steps import LAPTOP, PHONE, sign_in
from tests.conftest import bin_of, make_member, make_site
from warehouse.models import LocationKind, Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {"laptop": LAPTOP, "phone": PHONE}


@pytest.fixture
def floor(tenant):
    """A warehouse with stock in storage and receiving, QC waiting, an order being picked."""
    manager = make_member(tenant, "maria", Role.MANAGER)
    warehouse = make_site(tenant, "DC1", bins=("A-01-01", "A-01-02"))
    receiving = create_location(
        tenant=tenant, warehouse=warehouse, code="RCV-01", kind=LocationKind.RECEIVING
    )
    flour = create_product(
        tenant=tenant, sku="FLOUR-25-KG-PREMIUM", name="Wheat flour 25 kg", uom="kg"
    )
    vaccine = create_product(tenant=tenant, sku="VAX-10", name="Vaccine vial", qc_required=True)
    soon = timezone.localdate() + datetime.timedelta(days=12)
    lot = receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=warehouse,
        location=bin_of(tenant, warehouse, "A-01-01"),
        lot_code="F-2026-11-100",
        quantity="1250.5",
        expires_on=soon,
    ).lot
    receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=warehouse,
        location=receiving,
        lot_code="F-2026-11-101",
        quantity="300",
    )
    receive_stock(tenant=tenant, product=vaccine, warehouse=warehouse, lot_code="V-1", quantity=40)
    released = receive_stock(
        tenant=tenant, product=vaccine, warehouse=warehouse, lot_code="V-0", quantity=10
    ).lot
    approve_lot(tenant=tenant, lot=released, actor=Actor.user(manager), note="Certificate checked")
    adjust_stock(
        tenant=tenant,
        lot=lot,
        location=bin_of(tenant, warehouse, "A-01-01"),
        quantity_delta="-0.5",
        reason="Damaged: bag torn",
    )
    order = create_order(
        tenant=tenant,
        warehouse=warehouse,
        reference="SO-2026-0042",
        customer="Bäckerei Müller GmbH",
        lines=[LineRequest(product=flour, quantity="100")],
    )
    allocate_order(tenant=tenant, order_id=order.pk)
    start_picking(tenant=tenant, order_id=order.pk)
    count = start_count(
        tenant=tenant,
        warehouse=warehouse,
        user=manager,
        locations=[bin_of(tenant, warehouse, "A-01-02")],
    )
    # A count of the flour's bin, one kilogram short, waiting for review.
    reviewed = start_count(
        tenant=tenant,
        warehouse=warehouse,
        user=manager,
        locations=[bin_of(tenant, warehouse, "A-01-01")],
    )
    with tenant_context(tenant.id):
        line = CountLine.objects.get(session=reviewed)
    save_count_line(tenant=tenant, session=reviewed, line_id=line.pk, quantity="1249", user=manager)
    submit_count(tenant=tenant, session=reviewed, user=manager)
    return {
        "reviewed": reviewed,
        "product": flour,
        "lot": lot,
        "order": order,
        "count": count,
        "bin": bin_of(tenant, warehouse, "A-01-01"),
    }


def screens(floor) -> list[tuple[str, str]]:
    return [
        ("home", "/"),
        ("receive", "/receive/"),
        ("put-away", "/put-away/"),
        ("move", "/moves/"),
        ("bin", f"/bins/{floor['bin'].pk}/"),
        ("orders", "/orders/"),
        ("order-new", "/orders/new/"),
        ("order", f"/orders/{floor['order'].pk}/"),
        ("pick", f"/orders/{floor['order'].pk}/pick/"),
        ("counts", "/counts/"),
        ("count", f"/counts/{floor['count'].pk}/"),
        ("count-review", f"/counts/{floor['reviewed'].pk}/review/"),
        ("qc-queue", "/qc/"),
        ("qc-history", "/qc/history/"),
        ("stock", "/stock/"),
        ("products", "/products/"),
        ("product", f"/products/{floor['product'].pk}/"),
        ("trace", "/lots/trace/?customer=B%C3%A4ckerei"),
        ("lot", f"/lots/{floor['lot'].pk}/"),
        ("adjustments", "/adjustments/"),
        ("warehouses", "/warehouses/"),
        ("team", "/team/"),
        ("report-abc", "/reports/abc/"),
        ("report-aging", "/reports/aging/"),
        ("report-turnover", "/reports/turnover/"),
        ("report-demand", "/reports/demand/?sku=FLOUR-25-KG-PREMIUM"),
        ("report-history", "/reports/history/?sku=FLOUR-25-KG-PREMIUM"),
        ("report-valuation", "/reports/valuation/"),
        ("report-stock-outs", "/reports/stock-outs/"),
        ("report-low-stock", "/reports/low-stock/"),
        ("reports", "/reports/"),
        ("reorder-rules", "/reports/reorder-rules/"),
    ]


# What a person opens each screen for: on a phone too it must lie within the
# screen's width (not behind a table's own sideways scroll).
WHAT_PEOPLE_CAME_FOR = {
    "stock": '[data-column="available"]',
    "qc-queue": 'button[value="approve"]',
    "pick": '[data-testid="pick-card"]',
    "product": '[data-testid="available-total"]',
    "bin": '[data-testid="bin-contents"] td.sy-num',
    "count-review": '[data-testid="difference"]',
    "reports": '[data-testid="card-value-figure"]',
}


def within_the_width(page, name, selector, width):
    element = page.locator(selector).first
    expect(element).to_be_visible()
    box = element.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{name}: {selector} at {box}"


@pytest.mark.parametrize("size", SIZES)
def test_every_screen_fits_the_laptop_and_the_phone(live_server, page, tenant, floor, size):
    viewport = SIZES[size]
    page.set_viewport_size(viewport)
    sign_in(page, live_server, "maria")
    folder = os.environ.get("STOCKYARD_SCREENSHOTS")
    for name, path in screens(floor):
        response = page.goto(live_server.url + path)
        assert response.status == 200, (name, response.status)
        expect(page.locator("h1").first).to_be_in_viewport()
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=str(Path(folder) / f"{name}-{size}.png"), full_page=True, caret="initial"
            )
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} scrolls sideways at {size}: {width}px"
        if name in WHAT_PEOPLE_CAME_FOR:
            within_the_width(page, name, WHAT_PEOPLE_CAME_FOR[name], viewport["width"])

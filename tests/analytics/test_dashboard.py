"""The manager dashboard at /reports/: five cards with figures worked out by hand.

The data set (built with the services; days relative to today, UTC):

lot  product   warehouse  cost    received   qty  expires    afterwards
G1   GOLD      DC1        100.00  20 days    10   none       ship 6 two days ago
F1   FLOUR-25  DC2          2.50  today      20   in 10 days
V1   VAX-10    DC1          3.00  today      40   none       (QC product: quarantined)
S1   SALT      DC1          1.00  6 days      5   none       ship 5 three days ago
P1   PEPPER    DC1          0.00  6 days      5   none       ship 5 four days ago
P2   PEPPER    DC1          0.00  yesterday   5   none

Stock-outs over 7 days, the six days before today from their snapshots
(``take_the_weeks_snapshots``) and today from the view: SALT (at zero since
three days ago), VAX-10 (its only lot waits for QC, so its available stock
is zero today) and PEPPER (at zero four, three and two days ago, in stock
since yesterday: only the snapshots know it ran out): 3.
Reorder rules: GOLD in DC1 at 10 (4 available: low), SALT in DC1 at 2 (0: low).
ABC over 90 days: GOLD 6 x 100.00 = 600.00, SALT 5 x 1.00 = 5.00: GOLD is A
(nothing before it), SALT is C (600/605 before it), so one A-item: GOLD.
"""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.dw import refresh_current_stock, take_snapshot
from analytics.models import ReorderRule
from analytics.web.dashboard_cards import STOCK_OUT_DAYS
from inventory.catalog.services import create_product
from inventory.stock.movements import ship_stock
from inventory.stock.receipts import receive_stock
from tests.analytics.conftest import DW_DATABASES
from tests.conftest import PASSWORD, bin_of, make_member, make_site
from warehouse.models import Role
from warehouse.tenancy import tenant_context

URL = "/reports/"


def days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def build_dashboard_data(tenant, site, flour, vaccine) -> dict:
    dc2 = make_site(tenant, "DC2")
    gold = create_product(tenant=tenant, sku="GOLD", name="Gold leaf")
    salt = create_product(tenant=tenant, sku="SALT", name="Sea salt")
    receiving = bin_of(tenant, site, "RECEIVING")
    today = timezone.localdate()
    gold_lot = receive_stock(
        tenant=tenant,
        product=gold,
        warehouse=site,
        lot_code="G1",
        quantity=10,
        unit_cost="100.00",
        occurred_at=days_ago(20),
    ).lot
    ship_stock(tenant=tenant, lot=gold_lot, location=receiving, quantity=6, occurred_at=days_ago(2))
    receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=dc2,
        location=bin_of(tenant, dc2, "A-01"),
        lot_code="F1",
        quantity=20,
        unit_cost="2.50",
        expires_on=today + datetime.timedelta(days=10),
    )
    receive_stock(
        tenant=tenant, product=vaccine, warehouse=site, lot_code="V1", quantity=40, unit_cost="3.00"
    )
    salt_lot = receive_stock(
        tenant=tenant,
        product=salt,
        warehouse=site,
        lot_code="S1",
        quantity=5,
        unit_cost="1.00",
        occurred_at=days_ago(6),
    ).lot
    ship_stock(tenant=tenant, lot=salt_lot, location=receiving, quantity=5, occurred_at=days_ago(3))
    pepper = create_product(tenant=tenant, sku="PEPPER", name="Black pepper")

    def receive_pepper(code, received):
        return receive_stock(
            tenant=tenant,
            product=pepper,
            warehouse=site,
            lot_code=code,
            quantity=5,
            unit_cost="0.00",
            occurred_at=days_ago(received),
        ).lot

    pepper_lot = receive_pepper("P1", 6)
    ship_stock(
        tenant=tenant, lot=pepper_lot, location=receiving, quantity=5, occurred_at=days_ago(4)
    )
    receive_pepper("P2", 1)
    with tenant_context(tenant.id):
        for product, point in ((gold, 10), (salt, 2)):
            ReorderRule.objects.create(
                tenant=tenant,
                product=product,
                warehouse=site,
                reorder_point=point,
                reorder_quantity=20,
            )
    return {"dc2": dc2, "gold": gold, "salt": salt}


def take_the_weeks_snapshots() -> None:
    """The snapshots of the days of the stock-outs card before today (the nightly job's)."""
    today = timezone.localdate()
    for back in range(1, STOCK_OUT_DAYS):
        take_snapshot(today - datetime.timedelta(days=back))


def signed_in(client, username):
    assert client.login(username=username, password=PASSWORD)
    return client


def text_of(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</', html, re.S)
    assert match, testid
    return match.group(1).strip()


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_the_cards_show_the_hand_worked_figures(clean_dw, client, tenant, site, flour, vaccine):
    data = build_dashboard_data(tenant, site, flour, vaccine)
    make_member(tenant, "maria", Role.MANAGER)
    take_the_weeks_snapshots()
    refresh_current_stock()
    response = signed_in(client, "maria").get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    # DC1: GOLD 4 x 100.00 = 400.00 + VAX-10 40 x 3.00 = 120.00 = 520.00;
    # DC2: FLOUR-25 20 x 2.50 = 50.00; all warehouses 570.00. SALT has none left.
    assert text_of(html, "card-value-figure") == "570.00"
    assert re.search(r'value-DC1".*?520\.00', html, re.S)
    assert re.search(r'value-DC2".*?50\.00', html, re.S)
    # F1 expires in 10 days: one lot, 20 x 2.50 = 50.00. GOLD and V1 have no expiry.
    assert text_of(html, "card-expiring-figure") == "1 lot"
    assert text_of(html, "card-expiring-value") == "50.00"
    # V1 waits for QC: 40 x 3.00 = 120.00.
    assert text_of(html, "card-quarantined-figure") == "120.00"
    assert text_of(html, "card-quarantined-lots") == "1"
    # SALT has been at zero since three days ago; VAX-10's only lot waits for QC, so its
    # available stock is zero today; PEPPER was at zero from four to two days ago (the
    # snapshots); GOLD never ran out: 3.
    assert text_of(html, "card-stock-outs-figure") == "3 products"
    # Both rules are low; only GOLD is an A-item.
    assert text_of(html, "card-a-items-figure") == "1"
    assert 'href="/reports/history/?sku=GOLD"' in html
    assert 'data-testid="a-item-SALT"' not in html
    # Each card leads into its report.
    assert 'href="/reports/valuation/"' in html
    assert 'href="/reports/aging/#chart-expiry-title"' in html
    assert 'href="/qc/"' in html
    assert 'href="/reports/stock-outs/?days=7"' in html
    assert 'href="/reports/low-stock/"' in html
    # Freshly refreshed: the time of the refresh and the schedule.
    assert re.search(
        r"Stock figures as of \d\d:\d\d, refreshed every 5 minutes\.", text_of(html, "freshness")
    )
    assert data["dc2"].code == "DC2"


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_a_view_never_refreshed_says_the_job_will_fill_it(clean_dw, client, tenant, site, flour):
    receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="F1", quantity=3)
    make_member(tenant, "maria", Role.MANAGER)
    html = signed_in(client, "maria").get(URL).content.decode()
    assert "have not been computed yet: the refresh job fills them" in html
    assert text_of(html, "card-value-figure") == "0.00"


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_another_tenants_manager_sees_zeros(
    clean_dw, client, tenant, other_tenant, site, flour, vaccine
):
    build_dashboard_data(tenant, site, flour, vaccine)
    make_member(other_tenant, "globex-boss", Role.MANAGER)
    take_the_weeks_snapshots()
    refresh_current_stock()
    html = signed_in(client, "globex-boss").get(URL).content.decode()
    assert text_of(html, "card-value-figure") == "0.00"
    assert text_of(html, "card-expiring-figure") == "0 lots"
    assert text_of(html, "card-quarantined-figure") == "0.00"
    assert text_of(html, "card-stock-outs-figure") == "0 products"
    assert text_of(html, "card-a-items-figure") == "0"
    for code in ("GOLD", "DC1", "DC2", "FLOUR-25"):
        assert code not in html


def test_an_empty_tenant_shows_zeros_and_what_fills_each_card(client, manager):
    html = signed_in(client, "manager").get(URL).content.decode()
    assert text_of(html, "card-value-figure") == "0.00"
    assert "Receiving goods fills this card." in html
    assert "No lot on hand expires in the next 30 days." in html
    assert "Nothing waits for QC." in html
    assert "No product ran out in the last 7 days." in html
    assert "No A-item is below its reorder point." in html
    # Every report listed with what it answers, and the way to reorder rules.
    for path in (
        "abc",
        "aging",
        "turnover",
        "demand",
        "history",
        "valuation",
        "stock-outs",
        "low-stock",
    ):
        assert f'href="/reports/{path}/"' in html
    assert 'href="/reports/reorder-rules/"' in html


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.QC])
def test_operators_and_inspectors_are_refused_and_see_no_menu_entry(client, tenant, role):
    make_member(tenant, "someone", role)
    signed_in(client, "someone")
    response = client.get(URL)
    assert response.status_code == 403
    assert "You can't open this page" in response.content.decode()
    home = client.get("/").content.decode()
    assert 'href="/reports/"' not in home


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_admins_open_it_from_the_menu(client, tenant, role):
    make_member(tenant, "boss", role)
    signed_in(client, "boss")
    assert 'href="/reports/"' in client.get("/").content.decode()
    assert client.get(reverse("analytics:dashboard")).status_code == 200


def stock_products(tenant, warehouse, numbers):
    """Products that ran out yesterday, each with a lot expiring soon and a low reorder rule."""
    location = bin_of(tenant, warehouse, "RECEIVING")
    for number in numbers:
        product = create_product(tenant=tenant, sku=f"P-{number:04d}", name=f"Product {number}")
        lot = receive_stock(
            tenant=tenant,
            product=product,
            warehouse=warehouse,
            lot_code=f"L{number}",
            quantity=5,
            unit_cost="1.00",
            occurred_at=days_ago(4),
        ).lot
        ship_stock(tenant=tenant, lot=lot, location=location, quantity=5, occurred_at=days_ago(1))
        with tenant_context(tenant.id):
            ReorderRule.objects.create(
                tenant=tenant,
                product=product,
                warehouse=warehouse,
                reorder_point=1,
                reorder_quantity=5,
            )


def dashboard_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_the_query_count_does_not_grow_with_the_products(clean_dw, client, tenant, site, manager):
    signed_in(client, "manager")
    stock_products(tenant, site, range(10))
    take_the_weeks_snapshots()
    refresh_current_stock()
    client.get(URL)  # the first visit saves the session: a query the others do not make
    few, html = dashboard_queries(client)
    assert text_of(html, "card-stock-outs-figure") == "10 products"
    stock_products(tenant, site, range(10, 200))
    take_the_weeks_snapshots()
    refresh_current_stock()
    many, html = dashboard_queries(client)
    assert text_of(html, "card-stock-outs-figure") == "200 products"
    assert many == few

"""The product list, search and the product page, as every member of a tenant uses them."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.catalog.selectors import stock_by_warehouse
from inventory.catalog.services import create_product
from inventory.core.idempotency import new_operation
from inventory.ledger.posting import Actor
from inventory.lots.services import approve_lot
from inventory.models import LedgerEntry, LedgerKind, Lot, Product
from inventory.reservations.allocation import reserve_stock
from inventory.reservations.requests import LineRequest
from inventory.stock.movements import move_stock
from inventory.stock.receipts import receive_stock
from inventory.stock.selectors import stock_summary
from tests.clients import signed_in
from tests.conftest import bin_of, make_member, make_site
from warehouse.models import Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def region(client, url, target, **params):
    """What htmx gets when it asks for one region of a page."""
    return client.get(url, params, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target)


@pytest.fixture
def stocked(tenant, site, flour, vaccine, operator):
    """Flour in two warehouses (one lot reserved in part), a quarantined vaccine lot."""
    north = make_site(tenant, "NORTH", bins=("N-01",))
    actor = Actor.user(operator)
    first = receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        location=bin_of(tenant, site, "A-01"),
        lot_code="F-100",
        quantity="100",
        actor=actor,
    ).lot
    receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=north,
        location=bin_of(tenant, north, "N-01"),
        lot_code="F-200",
        quantity="40.5",
        actor=actor,
    )
    move_stock(
        tenant=tenant,
        lot=first,
        from_location=bin_of(tenant, site, "A-01"),
        to_location=bin_of(tenant, site, "A-02"),
        quantity="30",
        actor=actor,
        reason="Closer to the dock",
    )
    reservation = reserve_stock(
        tenant=tenant,
        warehouse=site,
        lines=[LineRequest(product=flour, quantity="25")],
        reference="CHECKOUT-77",
        ttl_seconds=3600,
    ).reservation
    receive_stock(
        tenant=tenant, product=vaccine, warehouse=site, lot_code="V-1", quantity="10", actor=actor
    )
    return {"north": north, "lot": first, "reservation": reservation}


def test_product_page_shows_stock_per_warehouse_as_stock_summary_counts_it(
    tenant, operator, site, flour, stocked
):
    response = signed_in("operator").get(f"/products/{flour.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    with tenant_context(tenant.id):
        total = stock_summary(product=flour)
        rows = {row["warehouse"]: row for row in stock_by_warehouse(flour)}
        north = stock_summary(product=flour, warehouse=stocked["north"])
        main = stock_summary(product=flour, warehouse=site)
    assert total.on_hand == Decimal("140.5")
    assert total.reserved == Decimal("25")
    for code, summary in (("DC1", main), ("NORTH", north)):
        for field in ("on_hand", "reserved", "available", "quarantined", "rejected", "expired"):
            assert rows[code][field] == getattr(summary, field)
    # The numbers on the page, in the unit's decimals.
    assert 'data-testid="warehouse-DC1"' in page
    assert "115.500" in page  # available overall: 140.5 - 25
    assert "75.000" in page  # available in DC1: 100 - 25
    assert "40.500" in page


def test_product_page_lists_stock_per_bin_and_lot_and_the_open_reservation(
    tenant, operator, flour, stocked
):
    page = signed_in("operator").get(f"/products/{flour.pk}/").content.decode()
    assert 'data-testid="holding-A-01-F-100"' in page
    assert 'data-testid="holding-A-02-F-100"' in page
    assert 'data-testid="holding-N-01-F-200"' in page
    reservation = stocked["reservation"]
    assert f'data-testid="reservation-{reservation.pk}"' in page
    assert "CHECKOUT-77" in page
    # Operators see lots but no way into the trace.
    assert f"/lots/{stocked['lot'].pk}/" not in page
    assert "/lots/trace/" not in page


def test_quarantined_lot_shows_its_qc_state_and_no_available_stock(
    tenant, inspector, vaccine, stocked
):
    response = signed_in("inspector").get(f"/products/{vaccine.pk}/")
    page = response.content.decode()
    row = page.split('data-testid="holding-RECEIVING-V-1"')[1].split("</tr>")[0]
    assert 'data-column="quarantined">10<' in row
    assert 'data-column="available">0<' in row
    assert "Quarantine" in row
    with tenant_context(tenant.id):
        lot = Lot.objects.get(code="V-1")
    # QC and managers may follow a lot into its trace.
    assert f"/lots/{lot.pk}/" in page


def test_history_lists_movements_newest_first_with_who_and_why(tenant, operator, flour, stocked):
    response = signed_in("operator").get(f"/products/{flour.pk}/")
    table = response.content.decode().split('data-testid="history-table"')[1]
    kinds = [kind for kind in ("Reservation", "Move in", "Move out", "Receipt") if kind in table]
    assert kinds == ["Reservation", "Move in", "Move out", "Receipt"]
    positions = [table.index(kind) for kind in kinds]
    assert positions == sorted(positions), "newest first: the reservation, then the move"
    assert "Closer to the dock" in table
    assert "Operator" in table  # who moved it
    assert "System" in table  # the reservation had no user
    assert "+100" in table and "\N{MINUS SIGN}30.000" in table


def test_history_filters_by_kind_and_swaps_only_its_region(tenant, operator, flour, stocked):
    response = region(
        signed_in("operator"), f"/products/{flour.pk}/", "history-table", kind=LedgerKind.MOVE_IN
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="history-table"')
    assert "<html" not in fragment and "Stock per warehouse" not in fragment
    assert "Move in" in fragment
    assert "Receipt" not in fragment and "Move out" not in fragment


def test_history_filters_by_date_range(tenant, operator, flour, site):
    lot_dates = {"OLD": datetime.datetime(2026, 3, 10, 9, 0), "NEW": datetime.datetime(2026, 6, 2)}
    for code, when in lot_dates.items():
        receive_stock(
            tenant=tenant,
            product=flour,
            warehouse=site,
            lot_code=code,
            quantity="5",
            occurred_at=timezone.make_aware(when),
        )
    client = signed_in("operator")
    url = f"/products/{flour.pk}/"
    march = region(client, url, "history-table", since="2026-03-01", until="2026-03-31")
    assert ">OLD<" in march.content.decode() and ">NEW<" not in march.content.decode()
    # Both days are included.
    june = region(client, url, "history-table", since="2026-06-02", until="2026-06-02")
    assert ">NEW<" in june.content.decode() and ">OLD<" not in june.content.decode()


def test_history_filter_refuses_impossible_dates_with_a_message(tenant, operator, flour):
    client = signed_in("operator")
    url = f"/products/{flour.pk}/"
    backwards = region(client, url, "history-table", since="2026-06-02", until="2026-06-01")
    assert backwards.status_code == 422
    assert "The “to” date is before the “from” date." in backwards.content.decode()
    for bad in ("9999-12-31", "31/02/2026", "x" * 5000):
        response = client.get(url, {"until": bad})
        assert response.status_code == 422
        assert 'data-testid="error-until"' in response.content.decode()
    unknown_kind = client.get(url, {"kind": "STEAL"})
    assert unknown_kind.status_code == 422


def history_entries(tenant, product, site, count):
    """``count`` ledger entries of ``product`` in one bin, by bulk insert."""
    lot = receive_stock(
        tenant=tenant, product=product, warehouse=site, lot_code="BULK", quantity="1"
    ).lot
    location = bin_of(tenant, site, "A-01")
    start = timezone.now() - datetime.timedelta(days=1)
    with tenant_context(tenant.id):
        operation = new_operation(tenant=tenant, kind="test")
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                tenant=tenant,
                occurred_at=start + datetime.timedelta(seconds=number),
                kind=LedgerKind.RECEIPT,
                product=product,
                warehouse=site,
                location=location,
                lot=lot,
                quantity=Decimal(1),
                operation=operation,
            )
            for number in range(count - 1)
        )


def queries_of(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def test_history_pages_lazily_with_constant_queries(tenant, operator, site, flour):
    other = create_product(tenant=tenant, sku="SUGAR-1", name="Sugar", uom="kg")
    history_entries(tenant, flour, site, 10)
    history_entries(tenant, other, site, 1000)
    client = signed_in("operator")
    client.get("/products/")  # the session settles on its first request
    few = queries_of(client, f"/products/{flour.pk}/")
    many = queries_of(client, f"/products/{other.pk}/?page=3")
    assert len(few) == len(many)
    ledger_reads = [sql for sql in many if '"inventory_ledgerentry"' in sql]
    assert ledger_reads, "the history is read from the ledger"
    assert not any("COUNT(" in sql.upper() for sql in ledger_reads), "no count over the ledger"
    page = client.get(f"/products/{other.pk}/?page=3").content.decode()
    assert "Page 3" in page and 'rel="next"' in page


def test_product_list_sorts_and_pages_with_constant_queries(tenant, operator):
    def load(count, prefix):
        with tenant_context(tenant.id):
            Product.objects.bulk_create(
                Product(tenant=tenant, sku=f"{prefix}-{number:04}", name=f"Item {number}")
                for number in range(count)
            )

    client = signed_in("operator")
    load(10, "FEW")
    client.get("/")  # the session settles on its first request
    few = queries_of(client, "/products/?sort=-name")
    load(1000, "MANY")
    many = queries_of(client, "/products/?sort=-name&page=7")
    assert len(few) == len(many)
    response = region(client, "/products/", "product-table", sort="-sku")
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="product-table"')
    assert fragment.index("MANY-0999") < fragment.index("MANY-0998")


def test_search_by_name_and_by_sku_prefix(tenant, operator, flour, vaccine):
    create_product(tenant=tenant, sku="FLAG-1", name="Signal flag")
    client = signed_in("operator")
    by_name = client.get("/products/", {"q": "wheat"}).content.decode()
    assert "FLOUR-25" in by_name and "VAX-10" not in by_name
    by_prefix = client.get("/products/", {"q": "fl"}).content.decode()
    assert "FLOUR-25" in by_prefix and "FLAG-1" in by_prefix and "VAX-10" not in by_prefix
    nothing = client.get("/products/", {"q": "zeppelin"}).content.decode()
    assert "No product matches." in nothing


def test_exact_sku_or_gtin_goes_straight_to_the_product(tenant, operator, flour):
    with tenant_context(tenant.id):
        Product.objects.filter(pk=flour.pk).update(gtin="04006381333931")
    client = signed_in("operator")
    response = client.get("/products/", {"q": " flour-25 "})
    assert response.status_code == 302
    assert response["Location"] == f"/products/{flour.pk}/"
    # A scanned EAN-13 is the same GTIN.
    assert client.get("/products/", {"q": "4006381333931"})["Location"] == f"/products/{flour.pk}/"
    scanned = client.get(
        "/products/", {"q": "FLOUR-25"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="product-table"
    )
    assert scanned["HX-Redirect"] == f"/products/{flour.pk}/"


def test_search_input_is_bounded(tenant, operator):
    response = signed_in("operator").get("/products/", {"q": "x" * 201})
    assert response.status_code == 422
    assert "Type at most 200 characters" in response.content.decode()


def test_another_tenants_products_are_invisible(
    tenant, other_tenant, other_tenant_user, flour, stocked
):
    client = signed_in("other")
    assert client.get(f"/products/{flour.pk}/").status_code == 404
    assert client.get("/products/99999999999999999999/").status_code == 404
    for query in ("flour", "FLOUR-25", "wheat"):
        response = client.get("/products/", {"q": query})
        assert response.status_code == 200
        page = response.content.decode()
        assert "Wheat flour" not in page and f"/products/{flour.pk}/" not in page
        assert "No product matches." in page
    assert "Wheat flour" not in client.get("/products/").content.decode()


def test_every_member_sees_products_in_the_menu_but_only_qc_and_managers_see_trace(
    tenant, operator, inspector, manager
):
    operator_home = signed_in("operator").get("/").content.decode()
    assert 'href="/products/"' in operator_home
    assert 'href="/lots/trace/"' not in operator_home
    for username in ("inspector", "manager"):
        assert 'href="/lots/trace/"' in signed_in(username).get("/").content.decode()


def test_admin_role_sees_the_product_page(tenant, flour):
    make_member(tenant, "ada", Role.ADMIN)
    assert signed_in("ada").get(f"/products/{flour.pk}/").status_code == 200


def test_approved_lot_is_available_on_the_product_page(tenant, inspector, vaccine, site):
    lot = receive_stock(
        tenant=tenant, product=vaccine, warehouse=site, lot_code="V-9", quantity="12"
    ).lot
    approve_lot(tenant=tenant, lot=lot)
    page = signed_in("inspector").get(f"/products/{vaccine.pk}/").content.decode()
    row = page.split('data-testid="holding-RECEIVING-V-9"')[1].split("</tr>")[0]
    assert 'data-column="available">12<' in row
    assert "Approved" in row


def test_empty_catalog_says_where_products_come_from(tenant, operator):
    page = signed_in("operator").get("/products/").content.decode()
    assert "No products yet. Products are added in the admin" in page


def many_holdings(tenant, site, product, count, start=0):
    """``count`` lots of ``product`` with stock in bin A-01, lots L-000.. (balances in bulk)."""
    from inventory.models import Balance

    location = bin_of(tenant, site, "A-01")
    with tenant_context(tenant.id):
        lots = Lot.objects.bulk_create(
            Lot(
                tenant=tenant,
                product=product,
                code=f"L-{number:03}",
                received_at=timezone.now(),
                qc_status="APPROVED",
                qc_at=timezone.now(),
            )
            for number in range(start, start + count)
        )
        Balance.objects.bulk_create(
            Balance(
                tenant=tenant,
                lot=lot,
                location=location,
                product=product,
                warehouse=site,
                on_hand=number + 1,
            )
            for number, lot in enumerate(lots)
        )


def test_stock_per_bin_and_lot_pages_and_sorts_in_place(tenant, site, flour, operator):
    many_holdings(tenant, site, flour, 30)
    client = signed_in("operator")
    url = f"/products/{flour.pk}/"
    page = client.get(url).content.decode()
    assert page.count('data-testid="holding-A-01-L-') == 25
    assert "1\u201325 of 30" in page
    # The second page by lot code, newest code first, as the table's own region.
    response = region(
        client, url, "holdings-table", **{"holdings-sort": "-lot", "holdings-page": 2}
    )
    fragment = response.content.decode().strip()
    assert fragment.startswith('<div id="holdings-table"')
    assert fragment.count('data-testid="holding-A-01-L-') == 5
    assert 'data-testid="holding-A-01-L-004"' in fragment
    assert 'data-testid="holding-A-01-L-005"' not in fragment
    assert "Movement history" not in fragment


def test_product_page_costs_the_same_queries_for_10_and_1000_lots(tenant, site, flour, operator):
    client = signed_in("operator")
    client.get("/")  # the session's first request does its own one-off work
    url = f"/products/{flour.pk}/"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {"holdings-sort": "-available"})
        assert response.status_code == 200
        return len(captured)

    many_holdings(tenant, site, flour, 10)
    with_ten = queries()
    many_holdings(tenant, site, flour, 990, start=10)
    assert queries() == with_ten

"""The lot trace and the customer trace, as QC and managers use them for a recall."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.core.idempotency import new_operation
from inventory.ledger.posting import Actor
from inventory.lots.services import approve_lot
from inventory.models import LedgerEntry, LedgerKind, Order, OrderStatus
from inventory.stock.movements import move_stock, ship_stock
from inventory.stock.receipts import receive_stock
from tests.clients import signed_in
from tests.conftest import bin_of
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db

RECEIVED = timezone.make_aware(datetime.datetime(2026, 11, 2, 8, 0))


def ship_to(tenant, lot, location, quantity, *, reference, customer, at):
    """Ship part of ``lot`` as the order ``reference`` of ``customer``, as shipping does."""
    entry = ship_stock(tenant=tenant, lot=lot, location=location, quantity=quantity, occurred_at=at)
    with tenant_context(tenant.id):
        return Order.objects.create(
            tenant=tenant,
            reference=reference,
            customer=customer,
            warehouse_id=location.warehouse_id,
            status=OrderStatus.SHIPPED,
            shipped_at=at,
            shipment_operation_id=entry.operation_id,
        )


@pytest.fixture
def recall(tenant, site, flour, vaccine, operator):
    """Lot F-100 of flour: received, moved, shipped to two customers; a vaccine lot F-100 too."""
    a01, a02 = bin_of(tenant, site, "A-01"), bin_of(tenant, site, "A-02")
    lot = receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        location=a01,
        lot_code="F-100",
        quantity="100",
        actor=Actor.user(operator),
        occurred_at=RECEIVED,
    ).lot
    move_stock(
        tenant=tenant,
        lot=lot,
        from_location=a01,
        to_location=a02,
        quantity="30",
        reason="Pick face",
        occurred_at=RECEIVED + datetime.timedelta(hours=1),
    )
    ship_to(
        tenant,
        lot,
        a02,
        "20",
        reference="SO-1001",
        customer="Bäckerei Müller",
        at=RECEIVED + datetime.timedelta(days=1),
    )
    ship_to(
        tenant,
        lot,
        a01,
        "5.5",
        reference="=SO-1002",
        customer='=HYPERLINK("http://evil.example","Click")',
        at=RECEIVED + datetime.timedelta(days=2),
    )
    other = receive_stock(
        tenant=tenant, product=vaccine, warehouse=site, lot_code="f-100", quantity="3"
    ).lot
    approve_lot(tenant=tenant, lot=other, note="Looks fine")
    return {"lot": lot, "other": other}


def test_lot_trace_lists_receipt_moves_and_shipments_with_order_and_customer(
    tenant, inspector, recall
):
    response = signed_in("inspector").get(f"/lots/{recall['lot'].pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    movements = page.split('data-testid="movement-table"')[1]
    order = ["Receipt", "Move out", "Move in", "SO-1001", "=SO-1002"]
    positions = [movements.index(text) for text in order]
    assert positions == sorted(positions), "oldest first: receipt, move, then the shipments"
    assert "Bäckerei Müller" in movements
    assert "Pick face" in movements
    assert "\N{MINUS SIGN}20.000" in movements
    # What is still in each bin: 100 - 30 - 5.5 in A-01, 30 - 20 in A-02.
    bins = page.split('data-testid="lot-bins"')[1].split("</table>")[0]
    assert "64.500" in bins.split('data-testid="bin-A-01"')[1].split("</tr>")[0]
    assert "10.000" in bins.split('data-testid="bin-A-02"')[1].split("</tr>")[0]


def test_lot_trace_shows_the_qc_decisions(tenant, manager, recall):
    page = signed_in("manager").get(f"/lots/{recall['other'].pk}/").content.decode()
    decisions = page.split('data-testid="lot-decisions"')[1]
    assert "Approved" in decisions and "Looks fine" in decisions


def test_movement_table_swaps_in_place(tenant, inspector, recall):
    response = signed_in("inspector").get(
        f"/lots/{recall['lot'].pk}/",
        {"sort": "-occurred_at"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="movement-table",
    )
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="movement-table"')
    assert "Still in stock" not in fragment
    assert fragment.index("=SO-1002") < fragment.index("Receipt"), "newest first when asked"


def read_csv(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_lot_trace_csv_has_plain_values_and_no_formulas(tenant, manager, recall):
    response = signed_in("manager").get(f"/lots/{recall['lot'].pk}/trace.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="lot-F-100-trace.csv"' in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header[:8] == [
        "occurred_at",
        "kind",
        "sku",
        "lot",
        "warehouse",
        "bin",
        "quantity",
        "unit",
    ]
    assert [row[1] for row in rows] == ["Receipt", "Move out", "Move in", "Shipment", "Shipment"]
    assert rows[0][6] == "100.000"  # no thousands separator, the sign kept
    assert rows[3][6] == "-20.000"
    assert rows[3][8:10] == ["SO-1001", "Bäckerei Müller"]
    # Text that a spreadsheet would run as a formula is quoted; numbers are not.
    assert rows[4][8] == "'=SO-1002"
    assert rows[4][9] == '\'=HYPERLINK("http://evil.example","Click")'
    assert rows[4][6] == "-5.500"
    assert rows[0][0] == RECEIVED.isoformat()


def test_trace_by_lot_code_lists_every_product_with_that_code(tenant, inspector, recall):
    response = signed_in("inspector").get("/lots/trace/", {"lot": "F-100"})
    assert response.status_code == 200
    matches = response.content.decode().split('data-testid="lot-matches"')[1]
    assert "FLOUR-25" in matches and "VAX-10" in matches
    assert f"/lots/{recall['lot'].pk}/" in matches and f"/lots/{recall['other'].pk}/" in matches


def test_trace_by_a_code_only_one_lot_has_opens_it(tenant, inspector, site, flour):
    lot = receive_stock(
        tenant=tenant, product=flour, warehouse=site, lot_code="ONLY-1", quantity="1"
    ).lot
    response = signed_in("inspector").get("/lots/trace/", {"lot": " only-1 "})
    assert response.status_code == 302
    assert response["Location"] == f"/lots/{lot.pk}/"


def test_trace_by_unknown_lot_says_so(tenant, inspector, recall):
    response = signed_in("inspector").get("/lots/trace/", {"lot": "NOPE"})
    assert "No lot has that code." in response.content.decode()


def test_customer_trace_lists_the_lots_they_received(tenant, inspector, recall):
    response = signed_in("inspector").get("/lots/trace/", {"customer": "bäckerei"})
    assert response.status_code == 200
    table = response.content.decode().split('data-testid="customer-table"')[1]
    assert "F-100" in table and "FLOUR-25" in table and "SO-1001" in table
    assert "20.000" in table
    assert "=SO-1002" not in table, "another customer's order"
    fragment = signed_in("inspector").get(
        "/lots/trace/",
        {"customer": "Bäckerei", "sort": "occurred_at"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="customer-table",
    )
    assert fragment.content.decode().lstrip().startswith('<section id="customer-table"')


def test_customer_trace_csv(tenant, manager, recall):
    response = signed_in("manager").get("/lots/trace/customer.csv", {"customer": "=hyper"})
    assert response.status_code == 200
    assert 'filename="customer-hyper-lots.csv"' in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header[:6] == ["shipped_at", "customer", "order", "sku", "product", "lot"]
    assert len(rows) == 1
    assert rows[0][1].startswith("'=HYPERLINK(") and rows[0][2] == "'=SO-1002"
    assert rows[0][5] == "F-100" and rows[0][7] == "5.500"


def test_trace_refuses_an_empty_or_oversized_search(tenant, inspector):
    client = signed_in("inspector")
    empty = client.get("/lots/trace/", {"lot": "", "customer": ""})
    assert empty.status_code == 422
    assert "Type a lot code, or the start of a customer" in empty.content.decode()
    long = client.get("/lots/trace/", {"lot": "L" * 65})
    assert long.status_code == 422
    assert "at most 64 characters" in long.content.decode()
    assert client.get("/lots/trace/customer.csv", {"customer": ""}).status_code == 422
    assert client.get("/lots/trace/", {"customer": "a\x00b"}).status_code == 422


def test_operators_may_not_trace(tenant, operator, recall):
    client = signed_in("operator")
    for url in (
        "/lots/trace/",
        "/lots/trace/?customer=b",
        f"/lots/{recall['lot'].pk}/",
        f"/lots/{recall['lot'].pk}/trace.csv",
        "/lots/trace/customer.csv?customer=b",
    ):
        assert client.get(url).status_code == 403, url


def test_another_tenant_traces_nothing(tenant, other_tenant, other_tenant_user, recall):
    client = signed_in("other")
    assert client.get(f"/lots/{recall['lot'].pk}/").status_code == 404
    assert client.get(f"/lots/{recall['lot'].pk}/trace.csv").status_code == 404
    lots = client.get("/lots/trace/", {"lot": "F-100"}).content.decode()
    assert "No lot has that code." in lots and "FLOUR-25" not in lots
    customers = client.get("/lots/trace/", {"customer": "b"}).content.decode()
    assert "SO-1001" not in customers and "No shipment to a customer" in customers
    header, *rows = read_csv(client.get("/lots/trace/customer.csv", {"customer": "b"}))
    assert header[0] == "shipped_at" and rows == []


def test_lot_trace_costs_the_same_queries_for_10_and_1000_movements(tenant, inspector, site, flour):
    def lot_with(count, code):
        location = bin_of(tenant, site, "A-01")
        lot = receive_stock(
            tenant=tenant,
            product=flour,
            warehouse=site,
            location=location,
            lot_code=code,
            quantity="1",
        ).lot
        with tenant_context(tenant.id):
            operation = new_operation(tenant=tenant, kind="test")
            LedgerEntry.objects.bulk_create(
                LedgerEntry(
                    tenant=tenant,
                    occurred_at=RECEIVED + datetime.timedelta(minutes=number),
                    kind=LedgerKind.RECEIPT,
                    product=flour,
                    warehouse=site,
                    location=location,
                    lot=lot,
                    quantity=Decimal(1),
                    operation=operation,
                )
                for number in range(count - 1)
            )
        return lot

    few, many = lot_with(10, "FEW"), lot_with(1000, "MANY")
    client = signed_in("inspector")
    client.get("/")  # the session settles on its first request
    counts = []
    for url in (f"/lots/{few.pk}/", f"/lots/{many.pk}/?page=5"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def test_customer_trace_costs_the_same_queries_for_10_and_1000_shipments(
    tenant, inspector, site, flour
):
    location = bin_of(tenant, site, "A-01")
    lot = receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        location=location,
        lot_code="C-1",
        quantity="1",
    ).lot

    def shipments(count, customer):
        with tenant_context(tenant.id):
            operation = new_operation(tenant=tenant, kind="test")
            LedgerEntry.objects.bulk_create(
                LedgerEntry(
                    tenant=tenant,
                    occurred_at=RECEIVED + datetime.timedelta(minutes=number),
                    kind=LedgerKind.SHIP,
                    product=flour,
                    warehouse=site,
                    location=location,
                    lot=lot,
                    quantity=Decimal(-1),
                    operation=operation,
                )
                for number in range(count)
            )
            Order.objects.create(
                tenant=tenant,
                reference=f"SO-{customer}",
                customer=customer,
                warehouse=site,
                status=OrderStatus.SHIPPED,
                shipped_at=RECEIVED,
                shipment_operation=operation,
            )

    shipments(10, "Few Foods")
    shipments(1000, "Many Meals")
    client = signed_in("inspector")
    client.get("/")  # the session settles on its first request
    counts = []
    for params in ({"customer": "few"}, {"customer": "many", "page": "7"}):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/lots/trace/", params)
        assert response.status_code == 200
        assert "C-1" in response.content.decode()
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]

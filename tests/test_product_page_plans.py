"""The history and trace reads use their indexes as the runtime role, and dates prune months.

Like ``tests/test_rls_plans.py``: each read runs as the app role in a tenant
context; the SQL it sent is explained, and the wanted index must be an index
condition (not a filter over every row of the tenant).
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.http import QueryDict
from django.utils import timezone

from inventory.catalog.filters import HistoryFilter
from inventory.catalog.services import create_product
from inventory.core.idempotency import new_operation
from inventory.ledger.history import customer_receipts, lot_movements, product_history
from inventory.ledger.partitions import partition_name
from inventory.lots.selectors import lots_with_code
from inventory.models import LedgerEntry, LedgerKind, Lot
from inventory.stock.receipts import receive_stock
from tests.conftest import bin_of
from tests.test_rls_plans import explained, index_conditions, plan_nodes, scans_of
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def lot(tenant, site):
    product = create_product(tenant=tenant, sku="SALT-1", name="Sea salt", uom="kg")
    return receive_stock(
        tenant=tenant, product=product, warehouse=site, lot_code="S-1", quantity="5"
    ).lot


def parent_index(name: str) -> str:
    """The ledger index a partition's index was made from (PostgreSQL names the copies itself)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT parent.relname FROM pg_inherits AS link"
            " JOIN pg_class AS child ON child.oid = link.inhrelid"
            " JOIN pg_class AS parent ON parent.oid = link.inhparent"
            " WHERE child.relname = %s",
            [name],
        )
        row = cursor.fetchone()
    return row[0] if row else name


def this_months_index_reads(nodes) -> dict[str, str]:
    """The ledger indexes read in the month the test's entries are in, with their conditions.

    ``{parent index name: index condition}`` over the month's scans, whether
    an index scan or a bitmap heap scan over its bitmap index scans. The
    plan that matters is that of the month holding the rows; the other
    months are empty.
    """
    month = partition_name(timezone.now().date().replace(day=1))
    reads = {}
    for scan in (node for node in nodes if node.get("Relation Name") == month):
        for node in plan_nodes(scan):
            if "Index Name" in node:
                reads[parent_index(node["Index Name"])] = node.get("Index Cond", "")
    return reads


def crowded_month(tenant, site, entries=3000):
    """This month's ledger partition busy with another product's lots in two bins, analysed.

    The plans asserted here are those of a real tenant's month, where the
    wanted index is the clearly cheaper way in; on a month of one row every
    index costs about the same and the planner may take any of them. The
    rows are committed (the test must be a ``transaction=True`` one that may
    use the ``owner`` alias) so the owner can gather the partition's
    statistics.
    """
    product = create_product(tenant=tenant, sku="CROWD-1", name="Crowd", uom="kg")
    locations = [bin_of(tenant, site, code) for code in ("A-01", "A-02")]
    now = timezone.now()
    with tenant_context(tenant.id):
        operation = new_operation(tenant=tenant, kind="test")
        lots = Lot.objects.bulk_create(
            Lot(tenant=tenant, product=product, code=f"C-{number:03}", received_at=now)
            for number in range(100)
        )
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                tenant=tenant,
                occurred_at=now - datetime.timedelta(seconds=number),
                kind=LedgerKind.RECEIPT,
                product=product,
                warehouse=site,
                location=locations[number % 2],
                lot=lots[number % 100],
                quantity=Decimal(1),
                operation=operation,
            )
            for number in range(entries)
        )
    month = partition_name(now.date().replace(day=1))
    with connections["owner"].cursor() as cursor:
        cursor.execute(f"ANALYZE {month}, inventory_lot")


def ledger_scans(nodes):
    return [node for node in nodes if node.get("Relation Name", "").startswith("inventory_ledger")]


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_history_reads_the_product_index_newest_first(tenant, site, lot):
    crowded_month(tenant, site)
    with tenant_context(tenant.id):
        nodes, sql = explained(lambda: list(product_history(lot.product)[:26]))
    reads = this_months_index_reads(nodes)
    # The month's copy of ledger_product_occurred_idx, with the product as its condition.
    assert list(reads) == ["ledger_product_occurred_idx"], reads
    assert "product_id" in reads["ledger_product_occurred_idx"]
    assert "COUNT(" not in sql.upper()


def test_history_between_dates_reads_only_those_months(tenant, lot):
    query = QueryDict("since=2026-03-05&until=2026-03-20")
    with tenant_context(tenant.id):
        history = HistoryFilter(query, queryset=product_history(lot.product))
        assert history.is_valid()
        nodes, _ = explained(lambda: list(history.qs[:26]))
    tables = {scan["Relation Name"] for scan in ledger_scans(nodes)}
    assert tables == {partition_name(datetime.date(2026, 3, 1))}


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_lot_movements_read_the_lot_index(tenant, site, lot):
    crowded_month(tenant, site)
    with tenant_context(tenant.id):
        nodes, _ = explained(lambda: list(lot_movements(lot)[:50]))
    conditions = " ".join(
        node.get("Index Cond", "") for node in ledger_scans(nodes) if node.get("Index Cond")
    )
    assert "lot_id" in conditions
    reads = this_months_index_reads(nodes)
    assert list(reads) == ["ledger_lot_location_idx"], reads
    assert "lot_id" in reads["ledger_lot_location_idx"]


def test_lot_code_across_products_reads_the_trace_index(tenant, lot):
    with tenant_context(tenant.id):
        nodes, _ = explained(lambda: list(lots_with_code("s-1")))
    assert "code_key" in index_conditions(nodes, "inventory_lot")


_SHIPPED_ORDERS = """
WITH operation AS (
    INSERT INTO inventory_operation (tenant_id, key, kind, fingerprint, created_at)
    SELECT %(tenant)s, 'shipment-' || n, 'shipment', '', now()
      FROM generate_series(1, 2000) AS n
    RETURNING id, key
)
INSERT INTO inventory_order (tenant_id, reference, customer, warehouse_id, status, created_at,
                             shipped_at, shipment_operation_id)
SELECT %(tenant)s, 'SO-' || operation.id, 'Customer ' || (operation.id %% 300), %(warehouse)s,
       'SHIPPED', now(), now(), operation.id
  FROM operation
"""


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_customer_name_prefix_is_an_index_condition(tenant, lot, site):
    with tenant_context(tenant.id), connection.cursor() as cursor:
        cursor.execute(_SHIPPED_ORDERS, {"tenant": tenant.id, "warehouse": site.id})
    with connections["owner"].cursor() as cursor:
        cursor.execute("ANALYZE inventory_order, inventory_operation")
    with tenant_context(tenant.id):
        nodes, _ = explained(lambda: list(customer_receipts("customer 12")[:25]))
    orders = " ".join(
        node.get("Index Cond", "")
        for scan in scans_of(nodes, "inventory_order")
        for node in plan_nodes(scan)
    )
    assert "customer_key" in orders and ">=" in orders, orders
    # Each shipment finds its order by the operation (order_shipment_idx).
    assert "shipment_operation_id" in orders, orders

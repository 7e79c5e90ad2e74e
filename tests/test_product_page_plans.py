"""The history and trace reads use their indexes as the runtime role, and dates prune months.

Like ``tests/test_rls_plans.py``: each read runs as the app role in a tenant
context; the SQL it sent is explained, and the wanted index must be an index
condition (not a filter over every row of the tenant).
"""

import datetime

import pytest
from django.db import connection, connections
from django.http import QueryDict
from django.utils import timezone

from inventory.catalog.filters import HistoryFilter
from inventory.catalog.services import create_product
from inventory.ledger.history import customer_receipts, lot_movements, product_history
from inventory.ledger.partitions import partition_name
from inventory.lots.selectors import lots_with_code
from inventory.stock.receipts import receive_stock
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


def this_months_scans(nodes):
    """The scans of the month the test's entries are in.

    An empty partition may be read through any of its indexes at the same
    cost; the plan that matters is that of the month holding the rows.
    """
    month = partition_name(timezone.now().date().replace(day=1))
    return [node for node in nodes if node.get("Relation Name") == month]


def ledger_scans(nodes):
    return [node for node in nodes if node.get("Relation Name", "").startswith("inventory_ledger")]


def test_history_reads_the_product_index_newest_first(tenant, lot):
    with tenant_context(tenant.id):
        nodes, sql = explained(lambda: list(product_history(lot.product)[:26]))
    scans = this_months_scans(nodes)
    assert scans
    # The month's copy of ledger_product_occurred_idx.
    assert {parent_index(scan.get("Index Name", "")) for scan in scans} == {
        "ledger_product_occurred_idx"
    }, [(scan.get("Node Type"), scan.get("Index Name")) for scan in scans]
    assert all("product_id" in scan.get("Index Cond", "") for scan in scans)
    assert "COUNT(" not in sql.upper()


def test_history_between_dates_reads_only_those_months(tenant, lot):
    query = QueryDict("since=2026-03-05&until=2026-03-20")
    with tenant_context(tenant.id):
        history = HistoryFilter(query, queryset=product_history(lot.product))
        assert history.is_valid()
        nodes, _ = explained(lambda: list(history.qs[:26]))
    tables = {scan["Relation Name"] for scan in ledger_scans(nodes)}
    assert tables == {partition_name(datetime.date(2026, 3, 1))}


def test_lot_movements_read_the_lot_index(tenant, lot):
    with tenant_context(tenant.id):
        nodes, _ = explained(lambda: list(lot_movements(lot)[:50]))
    conditions = " ".join(
        node.get("Index Cond", "") for node in ledger_scans(nodes) if node.get("Index Cond")
    )
    assert "lot_id" in conditions
    scans = this_months_scans(nodes)
    assert scans
    assert {parent_index(scan.get("Index Name", "")) for scan in scans} == {
        "ledger_lot_location_idx"
    }


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

"""Every lookup of a scan is an index condition on a stored key, as the runtime role.

Row-level security lets only LEAKPROOF comparisons into an index scan, so
each query ``resolve_scan`` sends must compare ``sku_key``, ``gtin`` or
``code_key`` in its index condition, never filter every row of the tenant.
"""

import json

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from inventory.scanning.resolve import resolve_scan
from tests.conftest import make_site
from tests.test_rls_plans import filters, index_conditions, plan_nodes
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])

PRODUCTS = 2000

# Product n has the GTIN 0000000 + n (7 digits) + its check digit, computed in SQL.
_PRODUCTS = """
INSERT INTO inventory_product (tenant_id, sku, name, uom, qc_required, unit_cost, attributes,
                               gtin, is_active, created_at)
SELECT %(tenant)s, %(prefix)s || lpad(n::text, 5, '0'), 'Widget ' || n, 'ea', false, 1,
       '{}'::jsonb, digits || ((10 - (
           SELECT sum(substr(digits, i, 1)::int * CASE WHEN i %% 2 = 1 THEN 3 ELSE 1 END)
             FROM generate_series(1, 13) AS i) %% 10) %% 10)::text,
       true, now()
  FROM generate_series(1, %(count)s) AS n,
       LATERAL (SELECT lpad(n::text, 13, '0') AS digits) AS gtin
"""

_LOTS = """
INSERT INTO inventory_lot (tenant_id, product_id, code, expires_on, received_at, unit_cost,
                           qc_status, qc_at, qc_note)
SELECT %(tenant)s, id, 'Lot-' || id, NULL, now(), 1, 'APPROVED', now(), ''
  FROM inventory_product
"""


@pytest.fixture
def catalogs(tenant, other_tenant):
    for owner, prefix in ((tenant, "ACME-"), (other_tenant, "GLBX-")):
        with tenant_context(owner.id), connection.cursor() as cursor:
            cursor.execute(_PRODUCTS, {"tenant": owner.id, "prefix": prefix, "count": PRODUCTS})
            cursor.execute(_LOTS, {"tenant": owner.id})
        for site in ("DC1", "DC2", "DC3"):
            make_site(owner, f"{prefix}{site}", bins=[f"A-{n:03}" for n in range(200)])
    with connections["owner"].cursor() as cursor:
        cursor.execute("VACUUM ANALYZE inventory_product, inventory_lot, warehouse_location")


def explained_all(call):
    """(plan nodes, SQL) of every query ``call`` sends, in the current tenant context."""
    with CaptureQueriesContext(connection) as queries:
        call()
    plans = []
    with connection.cursor() as cursor:
        # Small tables here: make the plan shape the one a full catalog gets.
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in queries.captured_queries:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {query['sql']}")
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            plans.append((list(plan_nodes(plan[0]["Plan"])), query["sql"]))
    return plans


def assert_keyed(plans, table, key):
    relevant = [nodes for nodes, sql in plans if f'FROM "{table}"' in sql]
    assert relevant, f"no query read {table}"
    for nodes in relevant:
        assert key in index_conditions(nodes, table)
        assert "lower(" not in filters(nodes, table)


def first_gtin(tenant):
    with tenant_context(tenant.id), connection.cursor() as cursor:
        cursor.execute("SELECT gtin FROM inventory_product WHERE sku = 'ACME-00042'")
        return cursor.fetchone()[0]


def test_sku_and_gtin_lookups_use_their_indexes(tenant, catalogs):
    gtin = first_gtin(tenant)
    with tenant_context(tenant.id):
        assert resolve_scan("acme-00042").product.sku == "ACME-00042"
        assert_keyed(
            explained_all(lambda: resolve_scan("acme-00042")), "inventory_product", "sku_key"
        )
        assert resolve_scan(gtin).product.sku == "ACME-00042"
        assert_keyed(explained_all(lambda: resolve_scan(gtin)), "inventory_product", "gtin")


def test_bin_and_lot_lookups_use_their_indexes(tenant, catalogs):
    with tenant_context(tenant.id):
        assert len(resolve_scan("a-042").locations) == 3
        assert_keyed(explained_all(lambda: resolve_scan("a-042")), "warehouse_location", "code_key")
        lot_code = resolve_scan("acme-00042").product.pk
        assert resolve_scan(f"lot-{lot_code}").lot is not None
        plans = explained_all(lambda: resolve_scan(f"lot-{lot_code}"))
        assert_keyed(plans, "inventory_lot", "code_key")


def test_a_gs1_label_looks_up_product_and_lot_by_their_keys(tenant, catalogs):
    gtin = first_gtin(tenant)
    with tenant_context(tenant.id):
        product = resolve_scan(gtin).product
        # The separator ends the lot: without it, digits of the id could read as a count.
        label = f"01{gtin}10LOT-{product.pk}\x1d"
        assert resolve_scan(label).gs1.lot == f"LOT-{product.pk}"
        assert resolve_scan(label).lot.product == product
        plans = explained_all(lambda: resolve_scan(label))
    assert_keyed(plans, "inventory_product", "gtin")
    assert_keyed(plans, "inventory_lot", "code_key")

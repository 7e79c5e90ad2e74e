"""Ledger figures: demo size, reconcile time, and the plans of the two hot reads.

Run with ``.venv/bin/python benchmarks/ledger_report.py [--entries N]``.

It works in a throwaway database (``stockyard_bench``, created and dropped by
the script) so the demo data is left alone:

1. loads the demo data (``seed_demo``) and prints its ledger size and the
   wall time of ``reconcile`` over it;
2. adds a bulk tenant (default 500,000 ledger entries over twelve months,
   1,000 products, 5,000 lots, 200 bins) so the planner has a reason to use
   indexes, then prints ``EXPLAIN (ANALYZE, BUFFERS)`` of the stock summary
   and of the first page of the movements list, both run exactly as the app
   runs them: as the runtime role, inside a tenant context, under row-level
   security.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases  # noqa: E402

from warehouse.provisioning import provision_from_settings  # noqa: E402

BULK = """
WITH product AS (
    INSERT INTO inventory_product (tenant_id, sku, name, uom, qc_required, unit_cost, attributes,
                                   is_active, created_at)
    SELECT %(tenant)s, 'BULK-' || lpad(n::text, 5, '0'), 'Bulk item ' || n, 'ea', false, 1.50,
           '{}'::jsonb, true, now()
      FROM generate_series(1, %(products)s) AS n
    RETURNING id
)
SELECT count(*) FROM product
"""

LOTS = """
INSERT INTO inventory_lot (tenant_id, product_id, code, expires_on, received_at, unit_cost,
                           qc_status, qc_at, qc_note)
SELECT %(tenant)s, p.id, 'L' || n, current_date + (n %% 400), now() - (n %% 365) * interval '1 day',
       1.50, CASE WHEN n %% 10 = 0 THEN 'QUARANTINE' ELSE 'APPROVED' END,
       CASE WHEN n %% 10 = 0 THEN NULL ELSE now() END, ''
  FROM inventory_product p, generate_series(1, %(lots_per_product)s) AS n
 WHERE p.tenant_id = %(tenant)s
"""

LOCATIONS = """
INSERT INTO warehouse_location (tenant_id, warehouse_id, code, kind, pick_sequence, is_active)
SELECT %(tenant)s, %(warehouse)s, 'B-' || lpad(n::text, 3, '0'), 'storage', n, true
  FROM generate_series(1, %(locations)s) AS n
"""

ENTRIES = """
WITH lots AS (
    SELECT array_agg(id ORDER BY id) AS ids, array_agg(product_id ORDER BY id) AS products
      FROM inventory_lot WHERE tenant_id = %(tenant)s
), bins AS (
    SELECT array_agg(id ORDER BY id) AS ids
      FROM warehouse_location WHERE tenant_id = %(tenant)s AND warehouse_id = %(warehouse)s
)
INSERT INTO inventory_ledgerentry (tenant_id, occurred_at, kind, product_id, warehouse_id,
                                   location_id, lot_id, quantity, reason, operation_id)
SELECT %(tenant)s, now() - (random() * 360) * interval '1 day', 'RECEIPT',
       lots.products[1 + n %% cardinality(lots.ids)], %(warehouse)s,
       bins.ids[1 + n %% cardinality(bins.ids)], lots.ids[1 + n %% cardinality(lots.ids)],
       1 + (n %% 20), '', %(operation)s
  FROM generate_series(1, %(entries)s) AS n, lots, bins
"""

BALANCES = """
INSERT INTO inventory_balance (tenant_id, lot_id, location_id, product_id, warehouse_id,
                               on_hand, reserved, updated_at)
SELECT tenant_id, lot_id, location_id, product_id, warehouse_id, sum(quantity), 0, now()
  FROM inventory_ledgerentry WHERE tenant_id = %(tenant)s
 GROUP BY tenant_id, lot_id, location_id, product_id, warehouse_id
"""


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=500_000)
    args = parser.parse_args()

    for alias in connections:
        settings.DATABASES[alias]["TEST"] = {
            **settings.DATABASES[alias].get("TEST", {}),
            "NAME": "stockyard_bench",
        }
    provision_from_settings()
    config = setup_databases(verbosity=0, interactive=False, aliases={"owner"})
    try:
        report(args.entries)
    finally:
        connections.close_all()
        teardown_databases(config, verbosity=0)


def report(entry_count: int) -> None:
    from inventory.catalog.services import create_warehouse
    from inventory.ledger.selectors import ledger_entries
    from inventory.models import LedgerEntry, Product
    from inventory.stock.selectors import stock_summary
    from warehouse.models import Tenant
    from warehouse.tenancy import tenant_context

    call_command("seed_demo", stdout=io.StringIO())
    demo_entries = {}
    for tenant in Tenant.objects.all():
        with tenant_context(tenant.id):
            demo_entries[tenant.slug] = LedgerEntry.objects.count()
    print(f"Demo ledger entries: {sum(demo_entries.values())} ({demo_entries})")
    started = time.perf_counter()
    out = io.StringIO()
    call_command("reconcile", stdout=out)
    elapsed = time.perf_counter() - started
    print(f"reconcile over the demo: {elapsed:.2f} s wall ({out.getvalue().strip()})")

    tenant = Tenant.objects.create(slug="bulk", name="Bulk tenant")
    warehouse = create_warehouse(tenant=tenant, code="BULK", name="Bulk DC")
    started = time.perf_counter()
    with tenant_context(tenant.id), connection.cursor() as cursor:
        params = {
            "tenant": tenant.id,
            "warehouse": warehouse.id,
            "products": 1000,
            "lots_per_product": 5,
            "locations": 200,
            "entries": entry_count,
        }
        cursor.execute(BULK, params)
        cursor.execute(LOTS, params)
        cursor.execute(LOCATIONS, params)
        cursor.execute(
            "INSERT INTO inventory_operation (tenant_id, key, kind, fingerprint, created_at) "
            "VALUES (%s, 'bulk-load', 'bulk', '', now()) RETURNING id",
            [tenant.id],
        )
        params["operation"] = cursor.fetchone()[0]
        cursor.execute(ENTRIES, params)
        cursor.execute(BALANCES, params)
    with connections["owner"].cursor() as cursor:
        cursor.execute("ANALYZE")
    elapsed = time.perf_counter() - started
    print(f"\nBulk tenant: {entry_count:,} ledger entries loaded in {elapsed:.1f} s")

    started = time.perf_counter()
    out = io.StringIO()
    call_command("reconcile", stdout=out)
    elapsed = time.perf_counter() - started
    print(f"reconcile over all tenants: {elapsed:.2f} s wall ({out.getvalue().strip()})")

    with tenant_context(tenant.id):
        product = Product.objects.get(sku="BULK-00042")
        with CaptureQueriesContext(connection) as captured:
            summary = stock_summary(product=product, warehouse=warehouse)
        print(f"\n== Stock summary of BULK-00042 in BULK: {summary}")
        print(explain(captured.captured_queries[-1]["sql"]))

        page = ledger_entries(product=product)[:50]
        with CaptureQueriesContext(connection) as captured:
            rows = list(page)
        print(f"\n== Movements of BULK-00042, first page ({len(rows)} rows)")
        print(explain(captured.captured_queries[-1]["sql"]))

        page = ledger_entries()[:50]
        with CaptureQueriesContext(connection) as captured:
            rows = list(page)
        print(f"\n== Movements of the whole tenant, first page ({len(rows)} rows)")
        print(explain(captured.captured_queries[-1]["sql"]))


if __name__ == "__main__":
    main()

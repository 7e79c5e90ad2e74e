"""The stock history reads only the ledger partitions of its range, through the product index.

Explained as the app role, in the tenant context, under row-level security,
with sequential scans discouraged so the small test tables get the plan a
full ledger gets.
"""

import datetime
import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.reports import stock_history
from tests.analytics.test_reports_selectors import TODAY, build_reports_data
from warehouse.tenancy import tenant_context


def plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def app_role_plan(tenant, sql: str) -> list[dict]:
    """The nodes of ``sql``'s plan as the app role in ``tenant``'s context (no seq scans)."""
    with tenant_context(tenant.pk), connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == ("stockyard_app",)
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return list(plan_nodes(plan[0]["Plan"]))


def test_stock_history_prunes_partitions_and_uses_the_product_index(tenant, site):
    build_reports_data(tenant, site)
    with CaptureQueriesContext(connection) as queries:
        stock_history(
            tenant=tenant,
            sku="ALPHA",
            since=datetime.date(2026, 2, 9),
            until=datetime.date(2026, 3, 1),
            today=TODAY,
        )
    (sql,) = [
        query["sql"] for query in queries.captured_queries if "generate_series" in query["sql"]
    ]
    nodes = app_role_plan(tenant, sql)
    ledger_scans = [
        node for node in nodes if node.get("Relation Name", "").startswith("inventory_ledgerentry")
    ]
    scanned = {node["Relation Name"] for node in ledger_scans}
    # From February 2026 on (and the default partition), never the months before the range.
    assert "inventory_ledgerentry_y2026m02" in scanned
    assert not {"inventory_ledgerentry_y2026m01", "inventory_ledgerentry_y2025m12"} & scanned
    # Each partition is read through its copy of the (tenant, product, occurred_at) index.
    indexes = set()
    for node in ledger_scans:
        indexes |= {child["Index Name"] for child in plan_nodes(node) if "Index Name" in child}
        assert node["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan"), node
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [list(indexes)])
        definitions = {row[0].split(" USING ")[1] for row in cursor.fetchall()}
    assert definitions == {"btree (tenant_id, product_id, occurred_at)"}

"""``dw.stock_out_day`` and ``dw.stock_snapshot_day``: written with each snapshot, filled
from the snapshots already taken by their migration, and read by the stock-outs report
through their key, never from the ledger."""

import datetime
import json

import pytest
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from analytics.dw import take_snapshot
from analytics.reports import stock_outs
from tests.analytics.conftest import DW_DATABASES
from tests.analytics.test_reports_plans import app_role_plan
from tests.analytics.test_reports_selectors import TODAY, build_reports_data

BEFORE = ("analytics", "0008_dw_rollup_values")
WITH_STOCK_OUT_DAYS = ("analytics", "0009_dw_stock_out_days")


def read_all(sql: str, params=()) -> list[tuple]:
    """Rows of every tenant, read on the maintenance connection (BYPASSRLS)."""
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def stock_out_rows() -> list[tuple]:
    return read_all(
        "SELECT tenant_id, day, product_id, warehouse_id FROM dw.stock_out_day"
        " ORDER BY 1, 2, 3, 4 NULLS FIRST"
    )


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_a_tenants_snapshot_records_its_day_even_without_rows(clean_dw, tenant, other_tenant):
    day = datetime.date(2026, 3, 30)
    take_snapshot(day, tenant_id=other_tenant.pk)
    # Globex has no stock at all: no snapshot rows, but the day is taken for it alone.
    assert read_all("SELECT count(*) FROM dw.stock_snapshot") == [(0,)]
    assert read_all("SELECT tenant_id, day FROM dw.stock_snapshot_day") == [(other_tenant.pk, day)]
    take_snapshot(day)
    assert read_all("SELECT tenant_id FROM dw.stock_snapshot_day ORDER BY 1") == [
        (tenant.pk,),
        (other_tenant.pk,),
    ]


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_the_migration_fills_the_days_already_snapshotted(clean_dw, tenant, site):
    data = build_reports_data(tenant, site)
    days = [datetime.date(2026, 3, 28), datetime.date(2026, 3, 30)]
    for day in days:
        take_snapshot(day)
    written = stock_out_rows()
    executor = MigrationExecutor(connections["owner"])
    executor.migrate([BEFORE])
    try:
        executor.loader.build_graph()
        # The snapshots stay; the tables written with them are gone.
        assert read_all("SELECT to_regclass('dw.stock_out_day')") == [(None,)]
        assert read_all("SELECT count(*) FROM dw.stock_snapshot")[0][0] > 0
    finally:
        executor.migrate([WITH_STOCK_OUT_DAYS])
    # The same rows take_snapshot wrote: CHARLIE at zero on 03-30 (in DC1 and overall), DELTA
    # quarantined in DC2 on both days, BRAVO's expired B2 in DC2 on both days.
    assert stock_out_rows() == written
    products, dc1, dc2 = data["products"], data["dc1"].pk, data["dc2"].pk
    assert {(day, product, warehouse) for _, day, product, warehouse in written} == {
        (days[1], products["CHARLIE"].pk, None),
        (days[1], products["CHARLIE"].pk, dc1),
        *((day, products["DELTA"].pk, None) for day in days),
        *((day, products["DELTA"].pk, dc2) for day in days),
        *((day, products["BRAVO"].pk, dc2) for day in days),
    }
    assert read_all("SELECT tenant_id, day FROM dw.stock_snapshot_day ORDER BY day") == [
        (tenant.pk, day) for day in days
    ]
    # Under the tenant policy again: the owner is held by it after the migration.
    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM dw.stock_out_day")
        assert cursor.fetchone() == (0,)
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relforcerowsecurity AND relname = ANY(%s)"
            " ORDER BY 1",
            [["stock_out_day", "stock_snapshot", "stock_snapshot_day"]],
        )
        assert cursor.fetchall() == [
            ("stock_out_day",),
            ("stock_snapshot",),
            ("stock_snapshot_day",),
        ]


@pytest.mark.django_db
def test_stock_outs_read_the_days_by_their_key_and_never_the_ledger(tenant, site):
    build_reports_data(tenant, site)
    with CaptureQueriesContext(connection) as queries:
        stock_outs(tenant=tenant, days=30, today=TODAY)
    (sql,) = [query["sql"] for query in queries.captured_queries if "stock_out_day" in query["sql"]]
    nodes = app_role_plan(tenant, sql)
    relations = {node["Relation Name"] for node in nodes if "Relation Name" in node}
    assert not {name for name in relations if name.startswith("inventory_ledgerentry")}
    (days_at_zero,) = [node for node in nodes if node.get("Relation Name") == "stock_out_day"]
    assert days_at_zero["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan")
    assert "stock_out_day_key" in json.dumps(days_at_zero)

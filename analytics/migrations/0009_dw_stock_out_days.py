"""``dw.stock_out_day`` and ``dw.stock_snapshot_day``: the days at zero, and the days taken.

``dw.stock_out_day`` is sparse: one row per tenant, day and product whose
snapshot ``available`` (``dw.stock_snapshot``) was zero or less at the end
of the day, per warehouse (``warehouse_id``) and over all warehouses
together (``warehouse_id`` NULL: the product's available summed over its
warehouses). Its key leads with the warehouse, so a window of days over all
warehouses (or one) reads only its own rows by the key, not the other
warehouses' rows of those days. ``dw.stock_snapshot_day`` says which days were snapshotted for
a tenant, and when: a day without a row there has no snapshot, so the
stock-outs report does not count it (rather than count it as a day in
stock). Both are written by ``analytics.dw.snapshots.take_snapshot`` in the
transaction that writes the day's snapshot (maintenance role) and read by the
app role under the tenant policy.

The days already snapshotted are filled from ``dw.stock_snapshot`` here; the
time they were taken is not recorded there, so they get the migration's
time. The owner writes across tenants for that: the policies of the tables
it reads and writes are lifted for the migration's transaction only.
"""

from django.db import migrations

from config.database import ROLE_NAMES
from warehouse.rls import CURRENT_TENANT

APP = ROLE_NAMES["app"]
MAINTENANCE = ROLE_NAMES["maintenance"]

TABLES = ("dw.stock_out_day", "dw.stock_snapshot_day")
BACKFILL_TABLES = (*TABLES, "dw.stock_snapshot")

UNFORCE = [f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY" for table in BACKFILL_TABLES]
FORCE = [f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY" for table in BACKFILL_TABLES]

CREATE = [
    """
    CREATE TABLE dw.stock_snapshot_day (
        tenant_id bigint NOT NULL,
        day date NOT NULL,
        taken_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, day)
    )
    """,
    # The key leads with the tenant and the warehouse (NULL: all together), then the
    # day: a window of days of one of them is one range of it. The table only
    # grows (a day is rewritten when taken again): vacuumed after each night's
    # rows rather than after a fifth of the table, its pages are soon all
    # visible and the report's scans of the key read no table page.
    """
    CREATE TABLE dw.stock_out_day (
        tenant_id bigint NOT NULL,
        day date NOT NULL,
        product_id bigint NOT NULL,
        warehouse_id bigint,
        CONSTRAINT stock_out_day_key
            UNIQUE NULLS NOT DISTINCT (tenant_id, warehouse_id, day, product_id)
    ) WITH (autovacuum_vacuum_insert_threshold = 10000,
            autovacuum_vacuum_insert_scale_factor = 0)
    """,
    *(
        statement
        for table in TABLES
        for statement in (
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})",
            f"GRANT SELECT ON {table} TO {APP}",
            f"GRANT SELECT, INSERT, DELETE ON {table} TO {MAINTENANCE}",
        )
    ),
    *UNFORCE,
    """
    INSERT INTO dw.stock_snapshot_day (tenant_id, day, taken_at)
    SELECT tenant_id, day, now() FROM dw.stock_snapshot GROUP BY tenant_id, day
    """,
    """
    INSERT INTO dw.stock_out_day (tenant_id, day, product_id, warehouse_id)
    SELECT tenant_id, day, product_id, warehouse_id
      FROM dw.stock_snapshot
     WHERE available <= 0
    UNION ALL
    SELECT tenant_id, day, product_id, NULL
      FROM dw.stock_snapshot
     GROUP BY tenant_id, day, product_id
    HAVING sum(available) <= 0
    """,
    *FORCE,
]
DROP = [f"DROP TABLE {table}" for table in TABLES]


class Migration(migrations.Migration):
    dependencies = [("analytics", "0008_dw_rollup_values")]

    operations = [migrations.RunSQL(sql=CREATE, reverse_sql=DROP)]

"""``dw.stock_snapshot``: each day's closing stock per tenant, product and warehouse.

Written by ``analytics.dw.snapshots.take_snapshot`` (maintenance role, every
tenant) from the ledger; read by the app role under the tenant policy.
"""

from django.db import migrations

from config.database import ROLE_NAMES
from warehouse.rls import CURRENT_TENANT

APP = ROLE_NAMES["app"]
MAINTENANCE = ROLE_NAMES["maintenance"]

CREATE = [
    """
    CREATE TABLE dw.stock_snapshot (
        tenant_id bigint NOT NULL,
        day date NOT NULL,
        product_id bigint NOT NULL,
        warehouse_id bigint NOT NULL,
        on_hand numeric NOT NULL,
        available numeric NOT NULL,
        value numeric NOT NULL,
        PRIMARY KEY (tenant_id, day, product_id, warehouse_id)
    )
    """,
    # A product's history: its rows in date order without reading other products.
    "CREATE INDEX stock_snapshot_product ON dw.stock_snapshot (tenant_id, product_id, day)",
    "ALTER TABLE dw.stock_snapshot ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE dw.stock_snapshot FORCE ROW LEVEL SECURITY",
    "CREATE POLICY tenant_isolation ON dw.stock_snapshot "
    f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})",
    f"GRANT SELECT ON dw.stock_snapshot TO {APP}",
    f"GRANT SELECT, INSERT, DELETE ON dw.stock_snapshot TO {MAINTENANCE}",
]
DROP = ["DROP TABLE dw.stock_snapshot"]


class Migration(migrations.Migration):
    dependencies = [("analytics", "0004_dw_dimensions")]

    operations = [migrations.RunSQL(sql=CREATE, reverse_sql=DROP)]

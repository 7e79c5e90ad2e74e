"""SCD2 dimensions: ``dw.dim_product``, ``dw.dim_warehouse``, ``dw.dim_customer``.

Each row is one version of one thing's attributes, valid over
``[valid_from, valid_to)``; the current version has ``valid_to`` NULL and
``is_current``. ``period`` is that interval as a generated ``tstzrange``
(an open version's has no upper bound: it overlaps every later period as
``'infinity'`` would, and unlike ``'infinity'`` Python can read it), so
the database itself refuses two versions of one key whose periods overlap
(``EXCLUDE USING gist``), and a unique partial index refuses two current
rows of one key. ``analytics.dw.dimensions`` keeps them current with one
close-and-insert statement per dimension.

Natural keys: the product's and warehouse's ids; for customers, who exist
only as the name on orders, that name trimmed, lower-cased and with runs of
spaces made one (``customer_key``).

Every table is under the tenant policy like any tenant table: the app role
reads its own tenant's rows; the maintenance role (BYPASSRLS) writes them
for every tenant.
"""

from django.db import migrations

from config.database import ROLE_NAMES
from warehouse.rls import CURRENT_TENANT

APP = ROLE_NAMES["app"]
MAINTENANCE = ROLE_NAMES["maintenance"]

DIMENSIONS = {
    "dim_product": (
        "product_id bigint NOT NULL",
        """
        sku text NOT NULL,
        name text NOT NULL,
        uom text NOT NULL,
        unit_cost numeric NOT NULL,
        qc_required boolean NOT NULL,
        is_active boolean NOT NULL,
        """,
    ),
    "dim_warehouse": (
        "warehouse_id bigint NOT NULL",
        """
        code text NOT NULL,
        name text NOT NULL,
        time_zone text NOT NULL,
        is_active boolean NOT NULL,
        """,
    ),
    "dim_customer": (
        "customer_key text NOT NULL",
        """
        name text NOT NULL,
        """,
    ),
}


def create(table: str, key: str, attributes: str) -> list[str]:
    key_column = key.split()[0]
    return [
        f"""
        CREATE TABLE dw.{table} (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tenant_id bigint NOT NULL,
            {key},
            {attributes}
            valid_from timestamptz NOT NULL,
            valid_to timestamptz,
            is_current boolean NOT NULL DEFAULT true,
            period tstzrange GENERATED ALWAYS AS (tstzrange(valid_from, valid_to, '[)')) STORED,
            CONSTRAINT {table}_closed_after_opened CHECK (valid_to > valid_from),
            CONSTRAINT {table}_current_is_open CHECK (is_current = (valid_to IS NULL)),
            CONSTRAINT {table}_periods_do_not_overlap EXCLUDE USING gist (
                tenant_id WITH =, {key_column} WITH =, period WITH &&
            )
        )
        """,
        f"CREATE UNIQUE INDEX {table}_current_key ON dw.{table} (tenant_id, {key_column}) "
        "WHERE is_current",
        f"ALTER TABLE dw.{table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE dw.{table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON dw.{table} "
        f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})",
        f"GRANT SELECT ON dw.{table} TO {APP}",
        f"GRANT SELECT, INSERT, UPDATE ON dw.{table} TO {MAINTENANCE}",
    ]


CREATE = [
    statement
    for table, (key, attributes) in DIMENSIONS.items()
    for statement in create(table, key, attributes)
]
DROP = [f"DROP TABLE dw.{table}" for table in DIMENSIONS]


class Migration(migrations.Migration):
    dependencies = [("analytics", "0003_dw_current_stock")]

    operations = [migrations.RunSQL(sql=CREATE, reverse_sql=DROP)]

"""Row-level security for tenant tables: the one helper every migration uses.

Every tenant-owned table gets ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` and a
``tenant_isolation`` policy whose ``USING`` and ``WITH CHECK`` compare
``tenant_id`` with the transaction-local setting ``app.tenant_id``. With no
setting (or an empty one) the comparison is NULL, so a query sees no rows and
may write none: isolation fails closed.

References between tenant tables are composite ``(tenant_id, x_id)`` foreign
keys onto ``(tenant_id, id)``: PostgreSQL checks foreign keys without RLS, so
only the composite key stops a row from pointing into another tenant.
"""

from django.db import migrations

CURRENT_TENANT = "nullif(current_setting('app.tenant_id', true), '')::bigint"
CURRENT_USER = "nullif(current_setting('app.user_id', true), '')::bigint"


def tenant_table(table: str) -> migrations.RunSQL:
    """Enable, force and add the tenant isolation policy on ``table``."""
    return migrations.RunSQL(
        sql=[
            f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
            f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
            f'CREATE POLICY tenant_isolation ON "{table}" '
            f"USING (tenant_id = {CURRENT_TENANT}) "
            f"WITH CHECK (tenant_id = {CURRENT_TENANT})",
        ],
        reverse_sql=[
            f'DROP POLICY tenant_isolation ON "{table}"',
            f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY',
            f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY',
        ],
    )


def tenant_reference(
    table: str, column: str, target: str, on_delete: str = "RESTRICT"
) -> migrations.RunSQL:
    """A composite foreign key ``(tenant_id, column)`` -> ``target (tenant_id, id)``."""
    name = f"{table}_{column}_tenant_fk"
    return migrations.RunSQL(
        sql=(
            f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" '
            f'FOREIGN KEY (tenant_id, "{column}") REFERENCES "{target}" (tenant_id, id) '
            f"ON DELETE {on_delete} DEFERRABLE INITIALLY IMMEDIATE"
        ),
        reverse_sql=f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"',
    )

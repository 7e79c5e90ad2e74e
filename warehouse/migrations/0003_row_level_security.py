"""Row-level security on the tenant tables and composite tenant foreign keys.

Memberships have a second, read-only policy: a user may read their own
memberships in every tenant (``app.user_id``), which is how the tenant
switcher lists them before any tenant is chosen.
"""

from django.db import migrations

from warehouse.rls import CURRENT_USER, tenant_reference, tenant_table


class Migration(migrations.Migration):
    dependencies = [("warehouse", "0002_tenants_memberships_warehouses")]

    operations = [
        tenant_table("warehouse_membership"),
        tenant_table("warehouse_warehouse"),
        tenant_table("warehouse_location"),
        migrations.RunSQL(
            sql=(
                "CREATE POLICY own_memberships ON warehouse_membership FOR SELECT "
                f"USING (user_id = {CURRENT_USER})"
            ),
            reverse_sql="DROP POLICY own_memberships ON warehouse_membership",
        ),
        tenant_reference("warehouse_location", "warehouse_id", "warehouse_warehouse"),
    ]

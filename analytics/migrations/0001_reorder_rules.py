"""Reorder rules (product, warehouse, reorder point and quantity), under RLS."""

import django.db.models.deletion
from django.db import migrations, models

from warehouse.rls import tenant_reference, tenant_table


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("inventory", "0023_ledger_location_index"),
        ("warehouse", "0008_tenant_count_approval_value"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReorderRule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reorder_point", models.DecimalField(decimal_places=3, max_digits=18)),
                ("reorder_quantity", models.DecimalField(decimal_places=3, max_digits=18)),
                ("enabled", models.BooleanField(default=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "product",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="inventory.product",
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="warehouse.tenant",
                    ),
                ),
                (
                    "warehouse",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="warehouse.warehouse",
                    ),
                ),
            ],
            options={
                "ordering": ["product_id", "warehouse_id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("tenant", "id"), name="reorderrule_tenant_id_key"
                    ),
                    models.UniqueConstraint(
                        fields=("tenant", "product", "warehouse"),
                        name="reorderrule_tenant_product_warehouse_key",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("reorder_point__gte", 0)),
                        name="reorderrule_point_nonnegative",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("reorder_quantity__gt", 0)),
                        name="reorderrule_quantity_positive",
                    ),
                ],
            },
        ),
        tenant_table("analytics_reorderrule"),
        tenant_reference(
            "analytics_reorderrule", "product_id", "inventory_product", on_delete="CASCADE"
        ),
        tenant_reference(
            "analytics_reorderrule", "warehouse_id", "warehouse_warehouse", on_delete="CASCADE"
        ),
    ]

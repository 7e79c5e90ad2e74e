"""The product catalog, isolated by tenant.

SKUs are unique per tenant ignoring case (a functional unique index on
``(tenant_id, lower(sku))``); active products have a partial index.
"""

from decimal import Decimal

import django.contrib.postgres.indexes
import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models

from warehouse.rls import tenant_table


class Migration(migrations.Migration):
    initial = True
    dependencies = [("warehouse", "0003_row_level_security")]

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sku", models.CharField(max_length=64)),
                ("name", models.CharField(max_length=200)),
                (
                    "uom",
                    models.CharField(
                        choices=[
                            ("ea", "Each"),
                            ("box", "Box"),
                            ("pallet", "Pallet"),
                            ("kg", "Kilogram"),
                            ("l", "Litre"),
                            ("m", "Metre"),
                        ],
                        default="ea",
                        max_length=8,
                        verbose_name="unit of measure",
                    ),
                ),
                ("qc_required", models.BooleanField(default=False)),
                ("shelf_life_days", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "unit_cost",
                    models.DecimalField(decimal_places=4, default=Decimal("0"), max_digits=14),
                ),
                ("attributes", models.JSONField(blank=True, default=dict)),
                ("is_active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "tenant",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="warehouse.tenant",
                    ),
                ),
            ],
            options={
                "ordering": ["sku"],
            },
        ),
        migrations.AddIndex(
            model_name="product",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["attributes"], name="product_attributes_gin"
            ),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                condition=models.Q(("is_active", True)),
                fields=["tenant", "name"],
                name="product_active_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.UniqueConstraint(
                models.F("tenant"),
                django.db.models.functions.text.Lower("sku"),
                name="product_tenant_sku_key",
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.UniqueConstraint(
                fields=("tenant", "id"), name="product_tenant_id_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.CheckConstraint(
                condition=models.Q(("unit_cost__gte", 0)), name="product_unit_cost_nonnegative"
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.CheckConstraint(
                condition=models.Q(("uom__in", ["ea", "box", "pallet", "kg", "l", "m"])),
                name="product_uom_valid",
            ),
        ),
        tenant_table("inventory_product"),
    ]

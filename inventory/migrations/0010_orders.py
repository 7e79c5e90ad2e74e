"""Orders and their lines; allocating an order links its reservation."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from warehouse.rls import tenant_reference, tenant_table


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0009_reservations"),
    ]

    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reference", models.CharField(max_length=100)),
                ("customer", models.CharField(max_length=200)),
                (
                    "status",
                    models.CharField(
                        choices=[("OPEN", "Open"), ("ALLOCATED", "Allocated")],
                        default="OPEN",
                        max_length=16,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("allocated_at", models.DateTimeField(blank=True, null=True)),
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
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="warehouse.warehouse",
                    ),
                ),
                (
                    "reservation",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="inventory.reservation",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="OrderLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("quantity", models.DecimalField(decimal_places=3, max_digits=18)),
                (
                    "order",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lines",
                        to="inventory.order",
                    ),
                ),
                (
                    "product",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
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
            ],
            options={
                "ordering": ["product_id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("tenant", "id"), name="orderline_tenant_id_key"
                    ),
                    models.UniqueConstraint(
                        fields=("tenant", "order", "product"),
                        name="orderline_tenant_order_product_key",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("quantity__gt", 0)), name="orderline_quantity_positive"
                    ),
                ],
            },
        ),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.UniqueConstraint(fields=("tenant", "id"), name="order_tenant_id_key"),
        ),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.UniqueConstraint(
                fields=("tenant", "reference"), name="order_tenant_reference_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["OPEN", "ALLOCATED"])), name="order_status_valid"
            ),
        ),
        tenant_table("inventory_order"),
        tenant_reference("inventory_order", "warehouse_id", "warehouse_warehouse"),
        tenant_reference("inventory_order", "reservation_id", "inventory_reservation"),
        tenant_table("inventory_orderline"),
        tenant_reference("inventory_orderline", "order_id", "inventory_order"),
        tenant_reference("inventory_orderline", "product_id", "inventory_product"),
    ]

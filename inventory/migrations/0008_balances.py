"""Balances per (tenant, lot, location), with the CHECKs that refuse negative stock."""

from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models

from warehouse.rls import tenant_reference, tenant_table


class Migration(migrations.Migration):
    dependencies = [("inventory", "0007_ledger_immutability")]

    operations = [
        migrations.CreateModel(
            name="Balance",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "on_hand",
                    models.DecimalField(decimal_places=3, default=Decimal("0"), max_digits=18),
                ),
                (
                    "reserved",
                    models.DecimalField(decimal_places=3, default=Decimal("0"), max_digits=18),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "location",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="warehouse.location",
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
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="warehouse.warehouse",
                    ),
                ),
                (
                    "lot",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="balances",
                        to="inventory.lot",
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
            ],
            options={
                "ordering": ["location_id", "lot_id"],
            },
        ),
        migrations.AddIndex(
            model_name="balance",
            index=models.Index(
                fields=["tenant", "product", "warehouse"], name="balance_product_warehouse_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="balance",
            index=models.Index(fields=["tenant", "location"], name="balance_location_idx"),
        ),
        migrations.AddConstraint(
            model_name="balance",
            constraint=models.UniqueConstraint(
                fields=("tenant", "lot", "location"), name="balance_tenant_lot_location_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="balance",
            constraint=models.UniqueConstraint(
                fields=("tenant", "id"), name="balance_tenant_id_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="balance",
            constraint=models.CheckConstraint(
                condition=models.Q(("on_hand__gte", 0)), name="balance_on_hand_nonnegative"
            ),
        ),
        migrations.AddConstraint(
            model_name="balance",
            constraint=models.CheckConstraint(
                condition=models.Q(("reserved__gte", 0)), name="balance_reserved_nonnegative"
            ),
        ),
        migrations.AddConstraint(
            model_name="balance",
            constraint=models.CheckConstraint(
                condition=models.Q(("reserved__lte", models.F("on_hand"))),
                name="balance_reserved_within_on_hand",
            ),
        ),
        tenant_table("inventory_balance"),
        tenant_reference("inventory_balance", "lot_id", "inventory_lot"),
        tenant_reference("inventory_balance", "location_id", "warehouse_location"),
        tenant_reference("inventory_balance", "product_id", "inventory_product"),
        tenant_reference("inventory_balance", "warehouse_id", "warehouse_warehouse"),
    ]

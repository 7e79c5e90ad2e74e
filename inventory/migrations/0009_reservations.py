"""Reservations, their lines and allocations; a partial index for the expiry sweep."""

from decimal import Decimal

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from warehouse.rls import tenant_reference, tenant_table


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0008_balances"),
        ("warehouse", "0003_row_level_security"),
    ]

    operations = [
        migrations.CreateModel(
            name="Reservation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reference", models.CharField(blank=True, default="", max_length=200)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("OPEN", "Open"),
                            ("ISSUED", "Issued"),
                            ("CANCELLED", "Cancelled"),
                            ("EXPIRED", "Expired"),
                        ],
                        default="OPEN",
                        max_length=16,
                    ),
                ),
                ("allow_partial", models.BooleanField(default=False)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("issued_at", models.DateTimeField(blank=True, null=True)),
                ("cancelled_at", models.DateTimeField(blank=True, null=True)),
                ("expired_at", models.DateTimeField(blank=True, null=True)),
                (
                    "operation",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="inventory.operation",
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
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="ReservationLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("quantity", models.DecimalField(decimal_places=3, max_digits=18)),
                (
                    "allocated",
                    models.DecimalField(decimal_places=3, default=Decimal("0"), max_digits=18),
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
                    "reservation",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lines",
                        to="inventory.reservation",
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
            },
        ),
        migrations.CreateModel(
            name="Allocation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("quantity", models.DecimalField(decimal_places=3, max_digits=18)),
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
                    "lot",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="inventory.lot",
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
                    "reservation",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="allocations",
                        to="inventory.reservation",
                    ),
                ),
                (
                    "line",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="allocations",
                        to="inventory.reservationline",
                    ),
                ),
            ],
            options={
                "ordering": ["line_id", "id"],
            },
        ),
        migrations.AddIndex(
            model_name="reservation",
            index=models.Index(
                condition=models.Q(("expires_at__isnull", False), ("status", "OPEN")),
                fields=["expires_at"],
                name="reservation_open_expiry_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="reservation",
            index=models.Index(
                condition=models.Q(("expires_at__isnull", False), ("status", "OPEN")),
                fields=["tenant", "warehouse", "expires_at"],
                name="reservation_open_site_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="reservation",
            constraint=models.UniqueConstraint(
                fields=("tenant", "id"), name="reservation_tenant_id_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="reservation",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["OPEN", "ISSUED", "CANCELLED", "EXPIRED"])),
                name="reservation_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="reservationline",
            constraint=models.UniqueConstraint(
                fields=("tenant", "id"), name="reservationline_tenant_id_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="reservationline",
            constraint=models.UniqueConstraint(
                fields=("tenant", "reservation", "product"),
                name="reservationline_tenant_reservation_product_key",
            ),
        ),
        migrations.AddConstraint(
            model_name="reservationline",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gt", 0)), name="reservationline_quantity_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="reservationline",
            constraint=models.CheckConstraint(
                condition=models.Q(("allocated__gte", 0), ("allocated__lte", models.F("quantity"))),
                name="reservationline_allocated_within_quantity",
            ),
        ),
        migrations.AddIndex(
            model_name="allocation",
            index=models.Index(fields=["tenant", "reservation"], name="allocation_reservation_idx"),
        ),
        migrations.AddConstraint(
            model_name="allocation",
            constraint=models.UniqueConstraint(
                fields=("tenant", "id"), name="allocation_tenant_id_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="allocation",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gt", 0)), name="allocation_quantity_positive"
            ),
        ),
        tenant_table("inventory_reservation"),
        tenant_reference("inventory_reservation", "warehouse_id", "warehouse_warehouse"),
        tenant_reference("inventory_reservation", "operation_id", "inventory_operation"),
        tenant_table("inventory_reservationline"),
        tenant_reference("inventory_reservationline", "reservation_id", "inventory_reservation"),
        tenant_reference("inventory_reservationline", "product_id", "inventory_product"),
        tenant_table("inventory_allocation"),
        tenant_reference("inventory_allocation", "reservation_id", "inventory_reservation"),
        tenant_reference("inventory_allocation", "line_id", "inventory_reservationline"),
        tenant_reference("inventory_allocation", "lot_id", "inventory_lot"),
        tenant_reference("inventory_allocation", "location_id", "warehouse_location"),
    ]

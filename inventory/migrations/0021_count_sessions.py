"""Cycle counts: count sessions, the bins they cover and their lines, under RLS."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from warehouse.rls import tenant_reference, tenant_table


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0020_order_picking"),
        ("warehouse", "0007_code_keys"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CountSession",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("OPEN", "Counting"),
                            ("SUBMITTED", "In review"),
                            ("POSTED", "Posted"),
                            ("CANCELLED", "Cancelled"),
                        ],
                        default="OPEN",
                        max_length=16,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("submitted_at", models.DateTimeField(blank=True, null=True)),
                ("approved_at", models.DateTimeField(blank=True, null=True)),
                ("posted_at", models.DateTimeField(blank=True, null=True)),
                ("cancelled_at", models.DateTimeField(blank=True, null=True)),
                (
                    "approved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "cancelled_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "operation",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="inventory.operation",
                    ),
                ),
                (
                    "posted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "product",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="inventory.product",
                    ),
                ),
                (
                    "submitted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
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
            name="CountLocation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
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
                    "session",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="locations",
                        to="inventory.countsession",
                    ),
                ),
            ],
            options={
                "ordering": ["session_id", "location_id"],
            },
        ),
        migrations.CreateModel(
            name="CountLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("is_found", models.BooleanField(default=False)),
                (
                    "counted_quantity",
                    models.DecimalField(blank=True, decimal_places=3, max_digits=18, null=True),
                ),
                ("counted_at", models.DateTimeField(blank=True, null=True)),
                (
                    "expected_quantity",
                    models.DecimalField(blank=True, decimal_places=3, max_digits=18, null=True),
                ),
                (
                    "difference",
                    models.DecimalField(blank=True, decimal_places=3, max_digits=18, null=True),
                ),
                (
                    "counted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
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
                (
                    "session",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lines",
                        to="inventory.countsession",
                    ),
                ),
            ],
            options={
                "ordering": ["session_id", "id"],
            },
        ),
        migrations.AddIndex(
            model_name="countsession",
            index=models.Index(
                fields=["tenant", "status", "created_at"], name="countsession_status_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="countsession",
            constraint=models.UniqueConstraint(
                fields=("tenant", "id"), name="countsession_tenant_id_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="countsession",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["OPEN", "SUBMITTED", "POSTED", "CANCELLED"])),
                name="countsession_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="countsession",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status", "OPEN"),
                    ("status", "CANCELLED"),
                    ("submitted_at__isnull", False),
                    _connector="OR",
                ),
                name="countsession_submitted_dated",
            ),
        ),
        migrations.AddConstraint(
            model_name="countsession",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "POSTED"), _negated=True),
                    models.Q(("operation__isnull", False), ("posted_at__isnull", False)),
                    _connector="OR",
                ),
                name="countsession_posted_dated",
            ),
        ),
        migrations.AddConstraint(
            model_name="countsession",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "CANCELLED"), _negated=True),
                    ("cancelled_at__isnull", False),
                    _connector="OR",
                ),
                name="countsession_cancelled_dated",
            ),
        ),
        migrations.AddConstraint(
            model_name="countlocation",
            constraint=models.UniqueConstraint(
                fields=("tenant", "id"), name="countlocation_tenant_id_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="countlocation",
            constraint=models.UniqueConstraint(
                fields=("tenant", "session", "location"),
                name="countlocation_tenant_session_location_key",
            ),
        ),
        migrations.AddConstraint(
            model_name="countline",
            constraint=models.UniqueConstraint(
                fields=("tenant", "id"), name="countline_tenant_id_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="countline",
            constraint=models.UniqueConstraint(
                fields=("tenant", "session", "lot", "location"),
                name="countline_tenant_session_lot_location_key",
            ),
        ),
        migrations.AddConstraint(
            model_name="countline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("counted_quantity__isnull", True),
                    ("counted_quantity__gte", 0),
                    _connector="OR",
                ),
                name="countline_counted_nonnegative",
            ),
        ),
        migrations.AddConstraint(
            model_name="countline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("counted_quantity__isnull", True),
                    ("counted_at__isnull", False),
                    _connector="OR",
                ),
                name="countline_counted_dated",
            ),
        ),
        migrations.AddConstraint(
            model_name="countline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("expected_quantity__isnull", True),
                    ("expected_quantity__gte", 0),
                    _connector="OR",
                ),
                name="countline_expected_nonnegative",
            ),
        ),
        tenant_table("inventory_countsession"),
        tenant_reference("inventory_countsession", "warehouse_id", "warehouse_warehouse"),
        tenant_reference("inventory_countsession", "product_id", "inventory_product"),
        tenant_reference("inventory_countsession", "operation_id", "inventory_operation"),
        tenant_table("inventory_countlocation"),
        tenant_reference("inventory_countlocation", "session_id", "inventory_countsession"),
        tenant_reference("inventory_countlocation", "location_id", "warehouse_location"),
        tenant_table("inventory_countline"),
        tenant_reference("inventory_countline", "session_id", "inventory_countsession"),
        tenant_reference("inventory_countline", "location_id", "warehouse_location"),
        tenant_reference("inventory_countline", "lot_id", "inventory_lot"),
        tenant_reference("inventory_countline", "product_id", "inventory_product"),
    ]

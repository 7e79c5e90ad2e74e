"""Lots with their QC status; composite keys onto products and API tokens."""

from decimal import Decimal

import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models

from warehouse.rls import tenant_reference, tenant_table


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0003_api_tokens"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Lot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.CharField(max_length=64)),
                ("expires_on", models.DateField(blank=True, null=True)),
                ("received_at", models.DateTimeField()),
                (
                    "unit_cost",
                    models.DecimalField(decimal_places=4, default=Decimal("0"), max_digits=14),
                ),
                (
                    "qc_status",
                    models.CharField(
                        choices=[
                            ("QUARANTINE", "Quarantine"),
                            ("APPROVED", "Approved"),
                            ("REJECTED", "Rejected"),
                        ],
                        default="QUARANTINE",
                        max_length=16,
                    ),
                ),
                ("qc_at", models.DateTimeField(blank=True, null=True)),
                ("qc_note", models.TextField(blank=True, default="")),
                (
                    "qc_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "qc_by_token",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="inventory.apitoken",
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
                    "product",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lots",
                        to="inventory.product",
                    ),
                ),
            ],
            options={
                "ordering": ["expires_on", "received_at", "id"],
            },
        ),
        migrations.AddIndex(
            model_name="lot",
            index=models.Index(
                fields=["tenant", "product", "expires_on", "received_at"], name="lot_fefo_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="lot",
            index=models.Index(
                condition=models.Q(("qc_status", "QUARANTINE")),
                fields=["tenant", "received_at"],
                name="lot_quarantine_queue_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="lot",
            constraint=models.UniqueConstraint(
                models.F("tenant"),
                models.F("product"),
                django.db.models.functions.text.Lower("code"),
                name="lot_tenant_product_code_key",
            ),
        ),
        migrations.AddConstraint(
            model_name="lot",
            constraint=models.UniqueConstraint(fields=("tenant", "id"), name="lot_tenant_id_key"),
        ),
        migrations.AddConstraint(
            model_name="lot",
            constraint=models.CheckConstraint(
                condition=models.Q(("qc_status__in", ["QUARANTINE", "APPROVED", "REJECTED"])),
                name="lot_qc_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="lot",
            constraint=models.CheckConstraint(
                condition=models.Q(("unit_cost__gte", 0)), name="lot_unit_cost_nonnegative"
            ),
        ),
        migrations.AddConstraint(
            model_name="lot",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("qc_status", "QUARANTINE"), ("qc_at__isnull", False), _connector="OR"
                ),
                name="lot_qc_decision_dated",
            ),
        ),
        tenant_table("inventory_lot"),
        tenant_reference("inventory_lot", "product_id", "inventory_product"),
        tenant_reference("inventory_lot", "qc_by_token_id", "inventory_apitoken"),
    ]

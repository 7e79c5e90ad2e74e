"""Operations: the idempotency record, unique on ``(tenant_id, key)``.

Unpartitioned on purpose: the ledger is partitioned by month, so only this
table can make an idempotency key take effect once.
"""

import django.db.models.deletion
from django.db import migrations, models

from warehouse.rls import tenant_table


class Migration(migrations.Migration):
    dependencies = [("inventory", "0004_lots")]

    operations = [
        migrations.CreateModel(
            name="Operation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=255)),
                ("kind", models.CharField(max_length=32)),
                ("fingerprint", models.CharField(max_length=64)),
                ("response_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("response_body", models.JSONField(blank=True, null=True)),
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
                "ordering": ["-created_at"],
            },
        ),
        migrations.AddConstraint(
            model_name="operation",
            constraint=models.UniqueConstraint(
                fields=("tenant", "key"), name="operation_tenant_key_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="operation",
            constraint=models.UniqueConstraint(
                fields=("tenant", "id"), name="operation_tenant_id_key"
            ),
        ),
        tenant_table("inventory_operation"),
    ]

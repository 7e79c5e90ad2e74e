"""Idempotency keys expire: the key may be cleared, and the cleanup finds old keys fast.

After the retention the key cleanup sets ``key`` to NULL (NULLs never collide
in the ``(tenant_id, key)`` unique constraint) and keeps the row, which the
ledger refers to. The partial index holds only rows that still have a key.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0012_qc_decisions"),
        ("warehouse", "0006_code_and_name_validators"),
    ]

    operations = [
        migrations.AlterField(
            model_name="operation",
            name="key",
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
        migrations.AddIndex(
            model_name="operation",
            index=models.Index(
                condition=models.Q(("key__isnull", False)),
                fields=["created_at"],
                name="operation_held_key_created",
            ),
        ),
    ]

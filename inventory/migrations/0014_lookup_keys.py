"""Stored ``lower()`` keys for SKUs and lot codes, with indexes led by the tenant.

See ``warehouse/migrations/0007_code_keys.py``: lookups compare these keys with
``=`` so that, as the runtime role under row-level security, they are index
conditions rather than filters.
"""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0013_operation_key_retention"),
        ("warehouse", "0007_code_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="lot",
            name="code_key",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Lower("code"),
                output_field=models.CharField(db_collation="C", max_length=64),
                verbose_name="lot code",
            ),
        ),
        migrations.AddField(
            model_name="product",
            name="sku_key",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Lower("sku"),
                output_field=models.CharField(db_collation="C", max_length=64),
                verbose_name="SKU",
            ),
        ),
        migrations.AddIndex(
            model_name="lot",
            index=models.Index(fields=["tenant", "product", "code_key"], name="lot_code_key_idx"),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["tenant", "sku_key"], name="product_sku_key_idx"),
        ),
    ]

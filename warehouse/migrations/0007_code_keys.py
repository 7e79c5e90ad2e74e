"""Stored ``lower(code)`` keys for warehouses and bins, with indexes led by the tenant.

Lookups by code compare these keys with ``=`` (``texteq``, LEAKPROOF), so under
row-level security the index serves them instead of a filter over every row of
the tenant. The keys use the ``C`` collation so that a prefix is a byte range
whatever the server's default collation.
"""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("warehouse", "0006_code_and_name_validators"),
    ]

    operations = [
        migrations.AddField(
            model_name="location",
            name="code_key",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Lower("code"),
                output_field=models.CharField(db_collation="C", max_length=32),
                verbose_name="location code",
            ),
        ),
        migrations.AddField(
            model_name="warehouse",
            name="code_key",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Lower("code"),
                output_field=models.CharField(db_collation="C", max_length=32),
                verbose_name="warehouse code",
            ),
        ),
        migrations.AddIndex(
            model_name="location",
            index=models.Index(
                fields=["tenant", "warehouse", "code_key"], name="location_code_key_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="warehouse",
            index=models.Index(fields=["tenant", "code_key"], name="warehouse_code_key_idx"),
        ),
    ]

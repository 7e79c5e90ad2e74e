"""A tenant setting: refuse receipts of lots already past their expiry."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("warehouse", "0003_row_level_security")]

    operations = [
        migrations.AddField(
            model_name="tenant",
            name="refuse_expired_receipts",
            field=models.BooleanField(
                default=False,
                help_text="Refuse receipts whose expiry date has passed (otherwise: receive "
                "with a warning; the lot is on hand but never available).",
            ),
        ),
    ]

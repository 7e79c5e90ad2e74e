"""A tenant setting: refuse receipts of lots already past their expiry."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("warehouse", "0004_membership_last_used_at")]

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

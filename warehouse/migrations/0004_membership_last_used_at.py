"""Memberships remember when the user last switched to their tenant."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("warehouse", "0003_row_level_security")]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="last_used_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]

"""A tenant setting: the value of count differences above which a manager approves."""

from decimal import Decimal

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("warehouse", "0007_code_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="tenant",
            name="count_approval_value",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("100.00"),
                help_text="A count whose differences are worth more than this in total (at lot "
                "cost, gains and losses both counted) needs a manager to approve its posting.",
                max_digits=14,
                validators=[django.core.validators.MinValueValidator(Decimal("0"))],
            ),
        ),
        migrations.AddConstraint(
            model_name="tenant",
            constraint=models.CheckConstraint(
                condition=models.Q(count_approval_value__gte=0),
                name="tenant_count_approval_value_nonnegative",
            ),
        ),
    ]

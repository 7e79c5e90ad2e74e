"""Indexes of a recall: a lot code across products, a customer's shipped orders by name."""

from django.db import migrations, models
from django.db.models.functions import Collate, Lower


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0019_order_lifecycle_and_gtin"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="lot",
            index=models.Index(fields=["tenant", "code_key"], name="lot_trace_code_idx"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                models.F("tenant"),
                Collate(Lower("customer"), "C"),
                condition=models.Q(shipment_operation__isnull=False),
                name="order_customer_idx",
            ),
        ),
    ]

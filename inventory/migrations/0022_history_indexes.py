"""Indexes of a recall: a lot code across products, a customer's shipped orders by name.

Orders get ``customer_key`` (``lower(customer)``, stored, C collation): under
row-level security an index on the expression ``lower(customer)`` could not
serve the search, as ``lower()`` is not LEAKPROOF; a range on the stored key is.
"""

from django.db import migrations, models
from django.db.models.functions import Lower


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0021_count_sessions"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="lot",
            index=models.Index(fields=["tenant", "code_key"], name="lot_trace_code_idx"),
        ),
        migrations.AddField(
            model_name="order",
            name="customer_key",
            field=models.GeneratedField(
                db_persist=True,
                expression=Lower("customer"),
                output_field=models.CharField(db_collation="C", max_length=200),
                verbose_name="customer",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["tenant", "customer_key"],
                condition=models.Q(shipment_operation__isnull=False),
                name="order_customer_idx",
            ),
        ),
    ]

"""Full-text search on products: a generated ``tsvector`` column with a GIN index.

The column is not part of the Django model (Django never writes it; the
database computes it from the row): ``inventory.selectors.search_products``
ranks against it. SKUs use the ``simple`` configuration so codes are not
stemmed; names and string attribute values use ``english``.
"""

from django.db import migrations

SEARCH_VECTOR = """
    setweight(to_tsvector('simple'::regconfig, sku), 'A')
    || setweight(to_tsvector('english'::regconfig, name), 'B')
    || setweight(jsonb_to_tsvector('english'::regconfig, attributes, '["string"]'::jsonb), 'C')
"""


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_products")]

    operations = [
        migrations.RunSQL(
            sql=[
                "ALTER TABLE inventory_product ADD COLUMN search_vector tsvector "
                f"GENERATED ALWAYS AS ({SEARCH_VECTOR}) STORED",
                "CREATE INDEX product_search_gin ON inventory_product USING gin (search_vector)",
            ],
            reverse_sql=[
                "DROP INDEX product_search_gin",
                "ALTER TABLE inventory_product DROP COLUMN search_vector",
            ],
        ),
    ]

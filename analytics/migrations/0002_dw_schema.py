"""The ``dw`` schema: analytics tables apart from the app's own, and the record of refreshes.

The owner role owns the schema. The app and maintenance roles get ``USAGE``
on it and nothing else by default: the default privileges of migration
``warehouse/0001`` cover schema ``public`` only, so every object in ``dw`` is
granted one by one by the migration that makes it (the materialized view is
never granted to the app role).

``dw.refresh_log`` holds one row per refreshed view: when its last refresh
finished and how long it took. It holds no tenant data, so the app role
reads it as it is (the screens say how fresh the numbers are); only the
maintenance role writes it.

``btree_gist`` (a trusted extension, which the database's owner may create)
lets the SCD2 dimensions' ``EXCLUDE`` constraints combine ``=`` on keys with
``&&`` on periods.
"""

from django.db import migrations

from config.database import ROLE_NAMES

APP = ROLE_NAMES["app"]
MAINTENANCE = ROLE_NAMES["maintenance"]

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "CREATE SCHEMA dw",
    "REVOKE ALL ON SCHEMA dw FROM PUBLIC",
    f"GRANT USAGE ON SCHEMA dw TO {APP}, {MAINTENANCE}",
    """
    CREATE TABLE dw.refresh_log (
        view_name text PRIMARY KEY,
        refreshed_at timestamptz NOT NULL,
        duration_ms numeric(12, 1) NOT NULL CHECK (duration_ms >= 0)
    )
    """,
    f"GRANT SELECT ON dw.refresh_log TO {APP}",
    f"GRANT SELECT, INSERT, UPDATE ON dw.refresh_log TO {MAINTENANCE}",
]
DROP = [
    "DROP TABLE dw.refresh_log",
    "DROP SCHEMA dw",
    # btree_gist stays: other objects may have come to depend on it.
]


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_reorder_rules")]

    operations = [migrations.RunSQL(sql=CREATE, reverse_sql=DROP)]

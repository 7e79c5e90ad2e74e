"""Ledger entries are never updated or deleted, whoever asks.

A ``BEFORE UPDATE OR DELETE`` row trigger on the partitioned table (cloned onto
every partition, present and future) raises for every role, the owner
included; the app and maintenance roles also lose the privileges, so they are
refused before the trigger is reached. Corrections are new entries.
"""

from django.db import migrations

from config.database import ROLE_NAMES

USERS = f"{ROLE_NAMES['app']}, {ROLE_NAMES['maintenance']}"

FUNCTION = """
CREATE FUNCTION inventory_ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'Post a correcting entry instead.';
END
$$
"""


class Migration(migrations.Migration):
    dependencies = [("inventory", "0006_ledger_entries")]

    operations = [
        migrations.RunSQL(
            sql=[
                FUNCTION,
                "CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE "
                "ON inventory_ledgerentry FOR EACH ROW "
                "EXECUTE FUNCTION inventory_ledger_refuse_change()",
            ],
            reverse_sql=[
                "DROP TRIGGER ledger_append_only ON inventory_ledgerentry",
                "DROP FUNCTION inventory_ledger_refuse_change()",
            ],
        ),
        migrations.RunSQL(
            sql=f"REVOKE UPDATE, DELETE, TRUNCATE ON inventory_ledgerentry FROM {USERS}",
            reverse_sql=f"GRANT UPDATE, DELETE ON inventory_ledgerentry TO {USERS}",
        ),
    ]

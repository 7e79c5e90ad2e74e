"""Every tenant table is isolated by row-level security, read from the catalog.

These tests list tables by looking for a ``tenant_id`` column, so a table added
by any later migration is covered without being named here.
"""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

TENANT_TABLES = """
    SELECT c.oid::regclass::text, c.relrowsecurity, c.relforcerowsecurity,
           c.relkind
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND c.relkind IN ('r', 'p')
       AND NOT c.relispartition
     ORDER BY 1
"""


def tenant_tables():
    with connection.cursor() as cursor:
        cursor.execute(TENANT_TABLES)
        return cursor.fetchall()


def test_tenant_tables_are_found():
    names = {row[0] for row in tenant_tables()}
    assert {"warehouse_membership", "warehouse_warehouse", "warehouse_location"} <= names


def test_every_tenant_table_has_rls_enabled_and_forced():
    unprotected = [name for name, enabled, forced, _ in tenant_tables() if not (enabled and forced)]
    assert unprotected == []


def test_every_tenant_table_has_a_policy_on_the_tenant_setting():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT tablename FROM pg_policies
             WHERE policyname = 'tenant_isolation'
               AND qual LIKE '%app.tenant_id%' AND with_check LIKE '%app.tenant_id%'
            """
        )
        with_policy = {row[0] for row in cursor.fetchall()}
    missing = [name for name, *_ in tenant_tables() if name.split(".")[-1] not in with_policy]
    assert missing == []


def test_foreign_keys_between_tenant_tables_are_composite():
    """A single-column key into a tenant table could point into another tenant."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT con.conname, con.conrelid::regclass::text, con.confrelid::regclass::text,
                   array_length(con.conkey, 1)
              FROM pg_constraint con
             WHERE con.contype = 'f'
               AND EXISTS (SELECT 1 FROM pg_attribute a
                            WHERE a.attrelid = con.confrelid AND a.attname = 'tenant_id'
                              AND NOT a.attisdropped)
            """
        )
        single_column = [row for row in cursor.fetchall() if row[3] < 2]
    assert single_column == []


def test_a_tenant_reference_exists_for_locations():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM pg_constraint
             WHERE contype = 'f' AND conrelid = 'warehouse_location'::regclass
               AND confrelid = 'warehouse_warehouse'::regclass AND array_length(conkey, 1) = 2
            """
        )
        assert cursor.fetchone()[0] == 1

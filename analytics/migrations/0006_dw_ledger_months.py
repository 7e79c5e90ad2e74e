"""``dw.ledger_month``: the ledger summed per tenant, month, lot and warehouse.

One row per (tenant, month, lot, warehouse) of the entries of on-hand kinds
(not ``RESERVE``/``RELEASE``) that occurred in that month, a month being a
calendar month in the site's time zone (``dw.settings``):

* ``on_hand_change``: the sum of their quantities;
* ``weighted_change``: the sum of quantity x the entry's local day number
  (days since 2000-01-01), so a time-weighted sum over any later window end
  ``t`` is exact: sum(q x (t + 1 - day)) = (t + 1) x on_hand_change - weighted_change;
* ``shipped``: the sum of -quantity of its ``SHIP`` entries, NULL without any.

``dw.ledger_month_rolled`` says which months are rolled; a month rolled and
without a row in ``dw.ledger_month_dirty`` is exact, and the reports read it
instead of its ledger entries. Rows are written by
``analytics.dw.rollup`` (maintenance role); the app role reads them under
the tenant policy.

Dirty marks: an ``AFTER INSERT`` row trigger on the (partitioned) ledger,
whose ``WHEN`` clause lets it fire only for an entry dated before the start
of the current month in the site's time zone (a back-dated entry, possibly
into a rolled month). The condition reads the time zone from the one-row
table ``dw.settings`` rather than a literal in the trigger, so the roll job
can follow a changed ``TIME_ZONE`` setting (it rewrites the row and drops
the rolled months) without a migration. ``dw.mark_month_dirty()`` inserts
(tenant, month of the entry); it is ``SECURITY DEFINER`` of the BYPASSRLS
search role (the roles that post entries, including the maintenance role
without a tenant context, must all be able to mark), with a pinned
``search_path``, and marks each (tenant, month) once per transaction (a
transaction-local setting remembers it: a bulk back-dated load costs one
mark per month, not one per entry). The mark commits with the entry, so any
snapshot that sees the entry sees the mark too.
"""

from django.conf import settings
from django.db import migrations

from config.database import ROLE_NAMES, SEARCH_ROLE
from warehouse.rls import CURRENT_TENANT

OWNER = ROLE_NAMES["owner"]
APP = ROLE_NAMES["app"]
MAINTENANCE = ROLE_NAMES["maintenance"]

TENANT_TABLES = ("dw.ledger_month", "dw.ledger_month_rolled", "dw.ledger_month_dirty")

MONTH_START = """
CREATE FUNCTION dw.current_month_start() RETURNS timestamptz
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT date_trunc('month', now(), settings.time_zone) FROM dw.settings AS settings;
END
"""

MARK = """
CREATE FUNCTION dw.mark_month_dirty() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    entry_month date;
    memo text;
BEGIN
    SELECT date_trunc('month', NEW.occurred_at AT TIME ZONE settings.time_zone)::date
      INTO entry_month FROM dw.settings AS settings;
    memo := format('stockyard_dw.dirty_%s_%s', NEW.tenant_id, to_char(entry_month, 'YYYYMM'));
    IF coalesce(current_setting(memo, true), '') = '' THEN
        INSERT INTO dw.ledger_month_dirty (tenant_id, month) VALUES (NEW.tenant_id, entry_month);
        PERFORM set_config(memo, '1', true);
    END IF;
    RETURN NULL;
END
$$
"""

CREATE = [
    """
    CREATE TABLE dw.settings (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        time_zone text NOT NULL
    )
    """,
    ("INSERT INTO dw.settings (time_zone) VALUES (%s)", [settings.TIME_ZONE]),
    f"GRANT SELECT ON dw.settings TO {APP}, {MAINTENANCE}, {SEARCH_ROLE}",
    f"GRANT UPDATE ON dw.settings TO {MAINTENANCE}",
    """
    CREATE TABLE dw.ledger_month (
        tenant_id bigint NOT NULL,
        month date NOT NULL CHECK (extract(day FROM month) = 1),
        lot_id bigint NOT NULL,
        warehouse_id bigint NOT NULL,
        product_id bigint NOT NULL,
        on_hand_change numeric NOT NULL,
        weighted_change numeric NOT NULL,
        shipped numeric,
        PRIMARY KEY (tenant_id, month, lot_id, warehouse_id)
    )
    """,
    """
    CREATE TABLE dw.ledger_month_rolled (
        tenant_id bigint NOT NULL,
        month date NOT NULL CHECK (extract(day FROM month) = 1),
        rolled_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, month)
    )
    """,
    """
    CREATE TABLE dw.ledger_month_dirty (
        id bigserial PRIMARY KEY,
        tenant_id bigint NOT NULL,
        month date NOT NULL
    )
    """,
    "CREATE INDEX ledger_month_dirty_month ON dw.ledger_month_dirty (tenant_id, month)",
    *(
        statement
        for table in TENANT_TABLES
        for statement in (
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})",
            f"GRANT SELECT ON {table} TO {APP}",
        )
    ),
    f"GRANT SELECT, INSERT, DELETE ON dw.ledger_month TO {MAINTENANCE}",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON dw.ledger_month_rolled TO {MAINTENANCE}",
    f"GRANT SELECT, DELETE ON dw.ledger_month_dirty TO {MAINTENANCE}",
    f"GRANT INSERT ON dw.ledger_month_dirty TO {SEARCH_ROLE}",
    f"GRANT USAGE ON SEQUENCE dw.ledger_month_dirty_id_seq TO {SEARCH_ROLE}",
    MONTH_START,
    # The search role may create in dw only while it makes its trigger function.
    f"GRANT USAGE, CREATE ON SCHEMA dw TO {SEARCH_ROLE}",
    f"SET LOCAL ROLE {SEARCH_ROLE}",
    MARK,
    # Only the trigger runs it; the owner needs EXECUTE to create the trigger.
    "REVOKE ALL ON FUNCTION dw.mark_month_dirty() FROM PUBLIC",
    f"GRANT EXECUTE ON FUNCTION dw.mark_month_dirty() TO {OWNER}",
    "RESET ROLE",
    f"REVOKE CREATE ON SCHEMA dw FROM {SEARCH_ROLE}",
    # Defined on the partitioned parent: every partition, present or added later, has it.
    """
    CREATE TRIGGER ledger_month_dirty AFTER INSERT ON public.inventory_ledgerentry
    FOR EACH ROW WHEN (NEW.occurred_at < dw.current_month_start())
    EXECUTE FUNCTION dw.mark_month_dirty()
    """,
]
DROP = [
    "DROP TRIGGER ledger_month_dirty ON public.inventory_ledgerentry",
    f"SET LOCAL ROLE {SEARCH_ROLE}",
    "DROP FUNCTION dw.mark_month_dirty()",
    "RESET ROLE",
    "DROP FUNCTION dw.current_month_start()",
    "DROP TABLE dw.ledger_month_dirty",
    "DROP TABLE dw.ledger_month_rolled",
    "DROP TABLE dw.ledger_month",
    "DROP TABLE dw.settings",
]


class Migration(migrations.Migration):
    dependencies = [("analytics", "0005_dw_stock_snapshots")]

    operations = [migrations.RunSQL(sql=CREATE, reverse_sql=DROP)]

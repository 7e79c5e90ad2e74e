"""The roll-up of the ledger up to a watermark: the current month is rolled too.

``dw.ledger_month_rolled.rolled_until`` is a month's watermark: its rows in
``dw.ledger_month`` hold every entry of the month with
``occurred_at < rolled_until`` that was committed when the roll ran (a month
rolled to its end has its end here; months rolled before this migration were
closed for more than a day and get their end).

The dirty-mark trigger now passes an entry dated more than ``MARGIN`` before
the moment it is inserted: ``NEW.occurred_at < clock_timestamp() - MARGIN``
(before, only entries dated before the current month). Its month is marked
dirty and read from the ledger until it is rolled again.

Why no entry is lost. Nothing in the app bounds how long a transaction runs
(the app role has a 15 s ``statement_timeout``; no ``transaction_timeout``
or ``idle_in_transaction_session_timeout`` is set, and the owner and
maintenance roles run long imports and generators), so the argument does
not rest on a transaction's length. It rests on the insert's own clock
(``clock_timestamp()`` in an ``AFTER INSERT`` trigger, so the transaction
already has its xid) and on the roll (``analytics.dw.rollup.watermark``):

1. the roll reads ``T0 = clock_timestamp()``; its watermark is
   ``W = T0 - MARGIN``;
2. in a later statement it takes ``pg_current_snapshot()``: every xid
   assigned before ``T0`` is below its ``xmax``, so it has committed (or
   aborted) before that snapshot, or it is in its ``xip`` list;
3. it waits until no xid of that list is in progress (or gives up: then it
   rolls nothing this time);
4. it recomputes the months in later statements (later snapshots).

Take an entry of month m with ``occurred_at < W`` that the recompute does
not see (its transaction commits after the recompute's snapshot). If the
trigger did not mark it, ``occurred_at >= t - MARGIN`` where ``t`` is the
trigger's clock, so ``t <= occurred_at + MARGIN < W + MARGIN = T0``: its
transaction had its xid before ``T0``; by 2 and 3 it had then ended before
the recompute's snapshot, which sees it if it committed: a contradiction.
So such an entry is marked, and the mark commits with it: a report whose
snapshot sees the entry sees the mark and reads month m from the ledger.
Entries with ``occurred_at >= W`` are read from the ledger anyway (the
reports read a rolled month from the roll-up only before its watermark).

``MARGIN`` only keeps ordinary entries (dated "now" by the app a moment
before they are inserted) from marking their month: one hour is far above
the time between choosing a timestamp and inserting the row in any write of
the app (its statements end after 15 s). A larger margin only moves the
watermark back; a smaller one only marks more months.
"""

from django.db import migrations

MARGIN = "1 hour"

TABLES = ("dw.ledger_month", "dw.ledger_month_rolled")

TRIGGER = """
    CREATE TRIGGER ledger_month_dirty AFTER INSERT ON public.inventory_ledgerentry
    FOR EACH ROW WHEN (NEW.occurred_at < {condition})
    EXECUTE FUNCTION dw.mark_month_dirty()
"""

# The owner writes across tenants here: the tables' policy is lifted for the
# migration's transaction only.
UNFORCE = [f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY" for table in TABLES]
FORCE = [f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY" for table in TABLES]

FORWARD = [
    "ALTER TABLE dw.ledger_month_rolled ADD COLUMN rolled_until timestamptz",
    *UNFORCE,
    """
    UPDATE dw.ledger_month_rolled AS rolled
       SET rolled_until = (rolled.month + interval '1 month')::timestamp
                          AT TIME ZONE settings.time_zone
      FROM dw.settings AS settings
    """,
    *FORCE,
    "ALTER TABLE dw.ledger_month_rolled ALTER COLUMN rolled_until SET NOT NULL",
    "DROP TRIGGER ledger_month_dirty ON public.inventory_ledgerentry",
    TRIGGER.format(condition=f"clock_timestamp() - interval '{MARGIN}'"),
]
BACKWARD = [
    "DROP TRIGGER ledger_month_dirty ON public.inventory_ledgerentry",
    TRIGGER.format(condition="dw.current_month_start()"),
    # Partly rolled months do not exist before this migration.
    *UNFORCE,
    """
    DELETE FROM dw.ledger_month AS month USING dw.ledger_month_rolled AS rolled, dw.settings
     WHERE rolled.tenant_id = month.tenant_id AND rolled.month = month.month
       AND rolled.rolled_until < (rolled.month + interval '1 month')::timestamp
                                 AT TIME ZONE settings.time_zone
    """,
    """
    DELETE FROM dw.ledger_month_rolled AS rolled USING dw.settings
     WHERE rolled.rolled_until < (rolled.month + interval '1 month')::timestamp
                                 AT TIME ZONE settings.time_zone
    """,
    *FORCE,
    "ALTER TABLE dw.ledger_month_rolled DROP COLUMN rolled_until",
]


class Migration(migrations.Migration):
    dependencies = [("analytics", "0006_dw_ledger_months")]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD)]

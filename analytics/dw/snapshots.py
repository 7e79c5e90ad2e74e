"""Daily stock snapshots from the ledger: ``dw.stock_snapshot``.

A day is a calendar day in the site's ``TIME_ZONE`` (the day the stock
screens call today); the snapshot of a day is the stock at its end, from
every ledger entry that occurred before the next day's midnight there.
Per tenant, product and warehouse, over every lot that ever had an entry
there (so a product that ran out has a row with zeros):

* ``on_hand``: the sum of the entries of every kind but ``RESERVE`` and
  ``RELEASE``;
* ``available``: on hand less reserved (those two kinds) over the lots that
  were approved at the end of the day and not expired on it. A lot's QC
  status then is read from its append-only QC decisions (the last one before
  the end of the day; before its first decision, that decision's previous
  status; without decisions, its status now). Holds of reservations past
  their expiry count as reserved until their release was posted, unlike the
  live stock read, which counts them as available at once;
* ``value``: on hand at each lot's unit cost.

With them, in the same transaction, the day's stock-outs and the record
that the day was taken:

* ``dw.stock_out_day``: a row per product and warehouse whose ``available``
  is zero or less, and a row with ``warehouse_id`` NULL per product whose
  ``available`` summed over its warehouses is zero or less;
* ``dw.stock_snapshot_day``: the day, for every tenant snapshotted (all of
  them, or the one asked for), even one without any row that day.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

# Two snapshots of one day (the job and the command) take turns: the second
# would otherwise insert keys the first has inserted and not yet committed.
_LOCK_DAY = (
    "SELECT pg_advisory_xact_lock(hashtext('dw.stock_snapshot'), %(day)s - DATE '2000-01-01')"
)

_DELETES = [
    f"""
    DELETE FROM {table}
     WHERE day = %(day)s AND (%(tenant)s::bigint IS NULL OR tenant_id = %(tenant)s::bigint)
    """
    for table in ("dw.stock_snapshot", "dw.stock_out_day", "dw.stock_snapshot_day")
]

_INSERT = """
    WITH bounds AS (
        SELECT ((%(day)s::date + 1)::timestamp AT TIME ZONE %(time_zone)s) AS day_end
    ), lots AS (
        SELECT entry.tenant_id, entry.product_id, entry.warehouse_id, entry.lot_id,
               coalesce(sum(entry.quantity) FILTER (
                   WHERE entry.kind NOT IN ('RESERVE', 'RELEASE')), 0) AS on_hand,
               coalesce(sum(entry.quantity) FILTER (
                   WHERE entry.kind IN ('RESERVE', 'RELEASE')), 0) AS reserved
          FROM public.inventory_ledgerentry AS entry, bounds
         WHERE entry.occurred_at < bounds.day_end
           AND (%(tenant)s::bigint IS NULL OR entry.tenant_id = %(tenant)s::bigint)
         GROUP BY entry.tenant_id, entry.product_id, entry.warehouse_id, entry.lot_id
    ), judged AS (
        SELECT lots.*, lot.unit_cost, lot.expires_on,
               coalesce(
                   (SELECT decision.status FROM public.inventory_qcdecision AS decision
                     WHERE decision.tenant_id = lot.tenant_id AND decision.lot_id = lot.id
                       AND decision.decided_at < bounds.day_end
                     ORDER BY decision.decided_at DESC, decision.id DESC LIMIT 1),
                   (SELECT decision.previous_status FROM public.inventory_qcdecision AS decision
                     WHERE decision.tenant_id = lot.tenant_id AND decision.lot_id = lot.id
                       AND decision.decided_at >= bounds.day_end
                     ORDER BY decision.decided_at, decision.id LIMIT 1),
                   lot.qc_status) AS qc_status
          FROM lots
          JOIN public.inventory_lot AS lot
            ON lot.tenant_id = lots.tenant_id AND lot.id = lots.lot_id
         CROSS JOIN bounds
    )
    INSERT INTO dw.stock_snapshot
           (tenant_id, day, product_id, warehouse_id, on_hand, available, value)
    SELECT tenant_id, %(day)s, product_id, warehouse_id, sum(on_hand),
           coalesce(sum(on_hand - reserved) FILTER (
               WHERE public.inventory_lot_available(qc_status, expires_on, %(day)s)), 0),
           sum(on_hand * unit_cost)
      FROM judged
     GROUP BY tenant_id, product_id, warehouse_id
"""


# From the day's rows just written, so a day at zero is the snapshot's own figure.
_INSERT_STOCK_OUTS = """
    INSERT INTO dw.stock_out_day (tenant_id, day, product_id, warehouse_id)
    SELECT tenant_id, day, product_id, warehouse_id
      FROM dw.stock_snapshot
     WHERE day = %(day)s AND (%(tenant)s::bigint IS NULL OR tenant_id = %(tenant)s::bigint)
       AND available <= 0
    UNION ALL
    SELECT tenant_id, day, product_id, NULL
      FROM dw.stock_snapshot
     WHERE day = %(day)s AND (%(tenant)s::bigint IS NULL OR tenant_id = %(tenant)s::bigint)
     GROUP BY tenant_id, day, product_id
    HAVING sum(available) <= 0
"""

_INSERT_TAKEN = """
    INSERT INTO dw.stock_snapshot_day (tenant_id, day, taken_at)
    SELECT tenant.id, %(day)s, now()
      FROM public.warehouse_tenant AS tenant
     WHERE %(tenant)s::bigint IS NULL OR tenant.id = %(tenant)s::bigint
"""


def take_snapshot(
    day: datetime.date, *, tenant_id: int | None = None, using: str = "maintenance"
) -> int:
    """Write the snapshot of ``day`` for every tenant (or ``tenant_id``); how many snapshot rows.

    The cross-tenant path of the jobs: runs on the ``maintenance`` connection
    (BYPASSRLS). Replaces the day's rows in one transaction, so taking a day
    again gives the same rows (or the corrected ones, if entries were since
    back-dated into it), and its ``dw.stock_out_day`` and
    ``dw.stock_snapshot_day`` rows with them. Two snapshots of the same day
    take turns (a transaction-level advisory lock on the day).
    """
    params = {"day": day, "tenant": tenant_id, "time_zone": settings.TIME_ZONE}
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(_LOCK_DAY, params)
        for statement in _DELETES:
            cursor.execute(statement, params)
        cursor.execute(_INSERT, params)
        rows = cursor.rowcount
        cursor.execute(_INSERT_STOCK_OUTS, params)
        cursor.execute(_INSERT_TAKEN, params)
        return rows


@dataclass(frozen=True)
class SnapshotRow:
    day: datetime.date
    product_id: int
    warehouse_id: int
    on_hand: Decimal
    available: Decimal
    value: Decimal


def snapshot_rows(
    *,
    since: datetime.date,
    until: datetime.date,
    product_id: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> list[SnapshotRow]:
    """The current tenant's snapshots from ``since`` to ``until`` (both included).

    Read inside a tenant context: the table is under the tenant policy, so
    another tenant's rows, or any rows without a context, are never seen.
    """
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT day, product_id, warehouse_id, on_hand, available, value
              FROM dw.stock_snapshot
             WHERE day BETWEEN %s AND %s AND (%s::bigint IS NULL OR product_id = %s::bigint)
             ORDER BY day, product_id, warehouse_id
            """,
            [since, until, product_id, product_id],
        )
        return [SnapshotRow(*row) for row in cursor.fetchall()]

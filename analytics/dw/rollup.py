"""Roll-up of the ledger: ``dw.ledger_month``, ``dw.ledger_month_product``, ``dw.ledger_day``.

See migrations ``analytics/0006``, ``0007`` and ``0008``.

``roll_ledger_months`` is the job's body and the command's: on the
``maintenance`` connection (BYPASSRLS) it first sets a watermark
(``watermark``: an hour before now, once every transaction that was in
flight then has ended; see migration ``0007`` for why no entry before it can
be missed), then for each tenant rolls every month from the tenant's first
entry to the month of the watermark up to the watermark (a month that ended
before it: up to its end) unless it was rolled that far already, and
re-rolls every month with dirty marks. So the current month is rolled again
at each run, up to the new watermark.

Rolling one (tenant, month) is one transaction: it reads the month's dirty
marks, recomputes the month's rows (per lot and warehouse, per product and
warehouse, and its on-hand change, value and shipped quantity per day and
warehouse) from its ledger partitions, records the
month as rolled (with its watermark, ``rolled_until``) and deletes only the
marks it read. Statements run at READ COMMITTED in that order, so every
entry whose mark was read is seen by the recompute; a mark committed after
the read stays, and the reports keep reading that month from the ledger
until the next roll.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from inventory.ledger.partitions import add_months

# A month is "closed" once it ended longer ago than this (``--month`` of the
# command re-rolls only closed months).
CLOSED_AFTER = datetime.timedelta(days=1)

# The trigger's margin (migration 0007): the watermark lies this far before
# the moment the roll starts.
MARGIN = datetime.timedelta(hours=1)

# How long the roll waits for the transactions in flight when it starts.
WAIT_FOR_TRANSACTIONS = datetime.timedelta(seconds=30)

# Two rolls of one (tenant, month) (the job and the command) take turns.
_LOCK_MONTH = (
    "SELECT pg_advisory_xact_lock(hashtext('dw.ledger_month'), "
    "hashtext(%(tenant)s::text || '/' || %(month)s::text))"
)
_MARKS = "SELECT id FROM dw.ledger_month_dirty WHERE tenant_id = %(tenant)s AND month = %(month)s"
_DELETE_ROWS = "DELETE FROM dw.ledger_month WHERE tenant_id = %(tenant)s AND month = %(month)s"
_INSERT_ROWS = """
    INSERT INTO dw.ledger_month (tenant_id, month, lot_id, warehouse_id, product_id,
                                 on_hand_change, weighted_change, shipped, shipped_value)
    SELECT rows.tenant_id, %(month)s, rows.lot_id, rows.warehouse_id, rows.product_id,
           rows.on_hand_change, rows.weighted_change, rows.shipped, rows.shipped * lot.unit_cost
      FROM (SELECT entry.tenant_id, entry.lot_id, entry.warehouse_id, entry.product_id,
                   sum(entry.quantity) AS on_hand_change,
                   sum(entry.quantity
                       * ((entry.occurred_at AT TIME ZONE %(time_zone)s)::date
                          - DATE '2000-01-01')) AS weighted_change,
                   sum(-entry.quantity) FILTER (WHERE entry.kind = 'SHIP') AS shipped
              FROM public.inventory_ledgerentry AS entry
             WHERE entry.tenant_id = %(tenant)s
               AND entry.occurred_at >= %(start)s AND entry.occurred_at < %(end)s
               AND entry.occurred_at < %(until)s
               AND entry.kind NOT IN ('RESERVE', 'RELEASE')
             GROUP BY entry.tenant_id, entry.lot_id, entry.warehouse_id, entry.product_id
           ) AS rows
      JOIN public.inventory_lot AS lot ON lot.tenant_id = rows.tenant_id AND lot.id = rows.lot_id
"""
_DELETE_PRODUCTS = (
    "DELETE FROM dw.ledger_month_product WHERE tenant_id = %(tenant)s AND month = %(month)s"
)
# From the month's rows just written (same transaction).
_INSERT_PRODUCTS = """
    INSERT INTO dw.ledger_month_product (tenant_id, month, product_id, warehouse_id,
                                         on_hand_change, weighted_change, shipped, shipped_value)
    SELECT tenant_id, month, product_id, warehouse_id, sum(on_hand_change),
           sum(weighted_change), sum(shipped), sum(shipped_value)
      FROM dw.ledger_month
     WHERE tenant_id = %(tenant)s AND month = %(month)s
     GROUP BY tenant_id, month, product_id, warehouse_id
"""
_DELETE_DAYS = "DELETE FROM dw.ledger_day WHERE tenant_id = %(tenant)s AND month = %(month)s"
_INSERT_DAYS = """
    INSERT INTO dw.ledger_day (tenant_id, month, day, warehouse_id,
                               on_hand_change, value_change, shipped)
    SELECT entry.tenant_id, %(month)s, (entry.occurred_at AT TIME ZONE %(time_zone)s)::date,
           entry.warehouse_id, sum(entry.quantity), sum(entry.quantity * lot.unit_cost),
           sum(-entry.quantity) FILTER (WHERE entry.kind = 'SHIP')
      FROM public.inventory_ledgerentry AS entry
      JOIN public.inventory_lot AS lot ON lot.tenant_id = entry.tenant_id AND lot.id = entry.lot_id
     WHERE entry.tenant_id = %(tenant)s
       AND entry.occurred_at >= %(start)s AND entry.occurred_at < %(end)s
       AND entry.occurred_at < %(until)s
       AND entry.kind NOT IN ('RESERVE', 'RELEASE')
     GROUP BY 1, 3, 4
"""
_RECORD = """
    INSERT INTO dw.ledger_month_rolled (tenant_id, month, rolled_at, rolled_until)
    VALUES (%(tenant)s, %(month)s, clock_timestamp(), %(until)s)
    ON CONFLICT (tenant_id, month)
    DO UPDATE SET rolled_at = EXCLUDED.rolled_at, rolled_until = EXCLUDED.rolled_until
"""
_CLEAR_MARKS = "DELETE FROM dw.ledger_month_dirty WHERE id = ANY(%(marks)s)"

_FIRST_MONTH = """
    SELECT date_trunc('month', min(occurred_at) AT TIME ZONE %(time_zone)s)::date
      FROM public.inventory_ledgerentry WHERE tenant_id = %(tenant)s
"""
_ROLLED = "SELECT month, rolled_until FROM dw.ledger_month_rolled WHERE tenant_id = %(tenant)s"
_DIRTY = "SELECT DISTINCT month FROM dw.ledger_month_dirty WHERE tenant_id = %(tenant)s"
_IN_FLIGHT = """
    SELECT count(*) FROM pg_snapshot_xip(%(snapshot)s::pg_snapshot) AS xid
     WHERE pg_xact_status(xid) = 'in progress'
"""


class InFlightTransactions(Exception):
    """Transactions in flight when the roll started did not end in time."""


@dataclass
class RollSummary:
    months: int = 0
    watermark: datetime.datetime | None = None
    skipped: bool = False
    rows: int = 0
    marks_cleared: int = 0
    time_zone_reset: bool = False
    rolled: list[tuple[int, datetime.date]] = field(default_factory=list)


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Local midnight at the start of ``month`` and of the next month (aware)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(month, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(add_months(month, 1), datetime.time.min, tzinfo=zone)
    return start, end


def last_closed_month(now: datetime.datetime | None = None) -> datetime.date:
    """The latest month whose end is more than ``CLOSED_AFTER`` ago."""
    now = now or timezone.now()
    month = timezone.localtime(now).date().replace(day=1)
    while month_bounds(month)[1] > now - CLOSED_AFTER:
        month = add_months(month, -1)
    return month


def is_closed(month: datetime.date, now: datetime.datetime | None = None) -> bool:
    return month <= last_closed_month(now)


def roll_month(
    tenant_id: int,
    month: datetime.date,
    *,
    until: datetime.datetime | None = None,
    using: str = "maintenance",
) -> tuple:
    """Recompute one month of one tenant up to ``until``; (rows written, marks cleared).

    ``until`` must be a watermark (``watermark()``); None: the month's end,
    for a closed month only.
    """
    start, end = month_bounds(month)
    until = end if until is None else min(until, end)
    params = {
        "tenant": tenant_id,
        "month": month,
        "start": start,
        "end": end,
        "until": until,
        "time_zone": settings.TIME_ZONE,
    }
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(_LOCK_MONTH, params)
        # The marks first: every entry they stand for has committed, so the
        # recompute below (a later statement, a later snapshot) sees it.
        cursor.execute(_MARKS, params)
        marks = [row[0] for row in cursor.fetchall()]
        cursor.execute(_DELETE_ROWS, params)
        cursor.execute(_INSERT_ROWS, params)
        rows = cursor.rowcount
        cursor.execute(_DELETE_PRODUCTS, params)
        cursor.execute(_INSERT_PRODUCTS, params)
        cursor.execute(_DELETE_DAYS, params)
        cursor.execute(_INSERT_DAYS, params)
        cursor.execute(_RECORD, params)
        cursor.execute(_CLEAR_MARKS, {"marks": marks})
    return rows, len(marks)


def follow_time_zone(*, using: str = "maintenance") -> bool:
    """Make ``dw.settings`` say the site's ``TIME_ZONE``; True when it changed.

    Months of another time zone have other bounds: when the setting changed,
    every rolled month is dropped (the reports read the ledger until the
    months are rolled again; they also ignore the roll-up while the two
    differ).
    """
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SELECT time_zone FROM dw.settings FOR UPDATE")
        row = cursor.fetchone()
        if row is not None and row[0] == settings.TIME_ZONE:
            return False
        # PostgreSQL must know the zone before the ledger's trigger reads it.
        cursor.execute("SELECT now() AT TIME ZONE %s", [settings.TIME_ZONE])
        cursor.execute("UPDATE dw.settings SET time_zone = %s", [settings.TIME_ZONE])
        cursor.execute("DELETE FROM dw.ledger_month_rolled")
        cursor.execute("DELETE FROM dw.ledger_month")
        cursor.execute("DELETE FROM dw.ledger_day")
        cursor.execute("DELETE FROM dw.ledger_month_product")
        return True


def watermark(*, using: str = "maintenance") -> datetime.datetime:
    """``MARGIN`` before now, once every transaction in flight now has ended.

    Raises ``InFlightTransactions`` when one is still in progress after
    ``WAIT_FOR_TRANSACTIONS``. Not in a transaction: each statement must
    take a new snapshot.
    """
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        started = cursor.fetchone()[0]
        # A later statement: its snapshot has every xid assigned before ``started``.
        cursor.execute("SELECT pg_current_snapshot()::text")
        snapshot = cursor.fetchone()[0]
        deadline = time.monotonic() + WAIT_FOR_TRANSACTIONS.total_seconds()
        while True:
            cursor.execute(_IN_FLIGHT, {"snapshot": snapshot})
            if cursor.fetchone()[0] == 0:
                return started - MARGIN
            if time.monotonic() > deadline:
                raise InFlightTransactions(f"transactions of snapshot {snapshot} still running")
            time.sleep(0.05)


def month_of(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date().replace(day=1)


def due_months(
    tenant_id: int, until: datetime.datetime, *, using: str = "maintenance"
) -> list[datetime.date]:
    """The months of ``tenant_id`` to roll up to the watermark ``until``.

    From its first entry (or its first rolled month) to the month of
    ``until``: those not rolled as far as ``until`` (or their end), and
    those with dirty marks.
    """
    params = {"tenant": tenant_id, "time_zone": settings.TIME_ZONE}
    last = month_of(until)
    with connections[using].cursor() as cursor:
        cursor.execute(_FIRST_MONTH, params)
        first = cursor.fetchone()[0]
        cursor.execute(_ROLLED, params)
        rolled = dict(cursor.fetchall())
        cursor.execute(_DIRTY, params)
        dirty = {row[0] for row in cursor.fetchall()}
    if rolled:
        first = min(rolled)
    due = sorted(month for month in dirty if month <= last)
    if first is None:
        return due
    month = first
    while month <= last:
        if month not in rolled or rolled[month] < min(until, month_bounds(month)[1]):
            due.append(month)
        month = add_months(month, 1)
    return sorted(set(due))


def tenant_ids(*, using: str = "maintenance") -> list[int]:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT id FROM warehouse_tenant ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def roll_ledger_months(
    *,
    tenant_id: int | None = None,
    month: datetime.date | None = None,
    using: str = "maintenance",
) -> RollSummary:
    """Roll what is due for every tenant (or ``tenant_id``); ``month``: re-roll just that one.

    ``month`` (its first day) must be closed; ``ValueError`` otherwise. When
    transactions in flight at the start do not end in time, nothing is
    rolled and the summary says ``skipped``.
    """
    if month is not None and not is_closed(month):
        raise ValueError(f"{month:%Y-%m} is not closed yet (rolled a day after it ends).")
    summary = RollSummary(time_zone_reset=follow_time_zone(using=using))
    try:
        until = watermark(using=using)
    except InFlightTransactions:
        # Nothing is rolled; the reports read the ledger where the roll-up is short.
        summary.skipped = True
        return summary
    summary.watermark = until
    tenants = [tenant_id] if tenant_id is not None else tenant_ids(using=using)
    for tenant in tenants:
        months = [month] if month is not None else due_months(tenant, until, using=using)
        for due in months:
            rows, marks = roll_month(tenant, due, until=until, using=using)
            summary.months += 1
            summary.rows += rows
            summary.marks_cleared += marks
            summary.rolled.append((tenant, due))
    return summary

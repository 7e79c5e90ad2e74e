"""Monthly roll-up of the ledger: ``dw.ledger_month`` (see migration ``analytics/0006``).

``roll_ledger_months`` is the job's body and the command's: on the
``maintenance`` connection (BYPASSRLS), for each tenant, it rolls every
closed month not rolled yet (from the tenant's first entry on) and re-rolls
every closed month with dirty marks. A month is closed once its end (local
midnight of the next month's first day) is more than a day ago: no
transaction still in flight can then add an entry to it that is not
back-dated, and every back-dated entry leaves a mark.

Rolling one (tenant, month) is one transaction: it reads the month's dirty
marks, recomputes the month's rows from its ledger partitions, records the
month as rolled and deletes only the marks it read. Statements run at READ
COMMITTED in that order, so every entry whose mark was read is seen by the
recompute; a mark committed after the read stays, and the reports keep
reading that month from the ledger until the next roll.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from inventory.ledger.partitions import add_months

# A month is rolled only once it ended longer ago than this.
CLOSED_AFTER = datetime.timedelta(days=1)

# Two rolls of one (tenant, month) (the job and the command) take turns.
_LOCK_MONTH = (
    "SELECT pg_advisory_xact_lock(hashtext('dw.ledger_month'), "
    "hashtext(%(tenant)s::text || '/' || %(month)s::text))"
)
_MARKS = "SELECT id FROM dw.ledger_month_dirty WHERE tenant_id = %(tenant)s AND month = %(month)s"
_DELETE_ROWS = "DELETE FROM dw.ledger_month WHERE tenant_id = %(tenant)s AND month = %(month)s"
_INSERT_ROWS = """
    INSERT INTO dw.ledger_month (tenant_id, month, lot_id, warehouse_id, product_id,
                                 on_hand_change, weighted_change, shipped)
    SELECT entry.tenant_id, %(month)s, entry.lot_id, entry.warehouse_id, entry.product_id,
           sum(entry.quantity),
           sum(entry.quantity
               * ((entry.occurred_at AT TIME ZONE %(time_zone)s)::date - DATE '2000-01-01')),
           sum(-entry.quantity) FILTER (WHERE entry.kind = 'SHIP')
      FROM public.inventory_ledgerentry AS entry
     WHERE entry.tenant_id = %(tenant)s
       AND entry.occurred_at >= %(start)s AND entry.occurred_at < %(end)s
       AND entry.kind NOT IN ('RESERVE', 'RELEASE')
     GROUP BY entry.tenant_id, entry.lot_id, entry.warehouse_id, entry.product_id
"""
_RECORD = """
    INSERT INTO dw.ledger_month_rolled (tenant_id, month, rolled_at)
    VALUES (%(tenant)s, %(month)s, clock_timestamp())
    ON CONFLICT (tenant_id, month) DO UPDATE SET rolled_at = EXCLUDED.rolled_at
"""
_CLEAR_MARKS = "DELETE FROM dw.ledger_month_dirty WHERE id = ANY(%(marks)s)"

# Per tenant: the closed months to roll. Never rolled: from the month of its
# first entry. Rolled before: every month not rolled from its first rolled
# month on (a back-dated entry may have made an earlier one), plus the
# months with dirty marks.
_FIRST_MONTH = """
    SELECT date_trunc('month', min(occurred_at) AT TIME ZONE %(time_zone)s)::date
      FROM public.inventory_ledgerentry WHERE tenant_id = %(tenant)s
"""
_DUE = """
    WITH rolled AS (
        SELECT month FROM dw.ledger_month_rolled WHERE tenant_id = %(tenant)s
    ), span AS (
        SELECT coalesce((SELECT min(month) FROM rolled), %(first)s::date) AS first
    )
    SELECT month::date FROM span, generate_series(span.first, %(last)s::date, '1 month') AS month
     WHERE month::date NOT IN (SELECT month FROM rolled)
    UNION
    SELECT DISTINCT month FROM dw.ledger_month_dirty
     WHERE tenant_id = %(tenant)s AND month <= %(last)s::date
    ORDER BY 1
"""


@dataclass
class RollSummary:
    months: int = 0
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


def roll_month(tenant_id: int, month: datetime.date, *, using: str = "maintenance") -> tuple:
    """Recompute one closed month of one tenant; (rows written, marks cleared)."""
    start, end = month_bounds(month)
    params = {
        "tenant": tenant_id,
        "month": month,
        "start": start,
        "end": end,
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
        return True


def due_months(tenant_id: int, *, using: str = "maintenance") -> list[datetime.date]:
    """The closed months of ``tenant_id`` to roll now: never rolled, or with dirty marks."""
    params = {"tenant": tenant_id, "time_zone": settings.TIME_ZONE, "last": last_closed_month()}
    with connections[using].cursor() as cursor:
        cursor.execute(_FIRST_MONTH, params)
        first = cursor.fetchone()[0]
        if first is None:
            first = add_months(params["last"], 1)  # no entries: nothing before now
        cursor.execute(_DUE, {**params, "first": first})
        return [row[0] for row in cursor.fetchall()]


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

    ``month`` (its first day) must be closed; ``ValueError`` otherwise.
    """
    if month is not None and not is_closed(month):
        raise ValueError(f"{month:%Y-%m} is not closed yet (rolled a day after it ends).")
    summary = RollSummary(time_zone_reset=follow_time_zone(using=using))
    tenants = [tenant_id] if tenant_id is not None else tenant_ids(using=using)
    for tenant in tenants:
        months = [month] if month is not None else due_months(tenant, using=using)
        for due in months:
            rows, marks = roll_month(tenant, due, using=using)
            summary.months += 1
            summary.rows += rows
            summary.marks_cleared += marks
            summary.rolled.append((tenant, due))
    return summary

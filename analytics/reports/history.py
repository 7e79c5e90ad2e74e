"""A product's on hand at the end of every day of a range, from the ledger.

The opening balance is today's balance less every on-hand change since the
range began, so only the partitions from the first day on are read (the
ledger is partitioned by month on ``occurred_at``), through the
``(tenant, product, occurred_at)`` index; each day then adds its changes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from analytics.reports.connection import (
    MAX_WINDOW_DAYS,
    ON_HAND_CONDITION,
    day_start,
    fetch_all,
    product_id,
    report_cursor,
    time_zone_name,
    warehouse_id,
)
from warehouse.models import Tenant

DEFAULT_HISTORY_DAYS = 90
MAX_HISTORY_DAYS = 731

_HISTORY = f"""
WITH now AS (
    SELECT coalesce(sum(balance.on_hand), 0) AS on_hand
      FROM inventory_balance AS balance
     WHERE balance.tenant_id = %(tenant)s AND balance.product_id = %(product)s
       AND (%(warehouse)s::bigint IS NULL OR balance.warehouse_id = %(warehouse)s::bigint)
), changes AS (
    SELECT (entry.occurred_at AT TIME ZONE %(time_zone)s)::date AS day,
           sum(entry.quantity) AS change
      FROM inventory_ledgerentry AS entry
     WHERE entry.tenant_id = %(tenant)s AND entry.product_id = %(product)s
       AND entry.occurred_at >= %(start)s
       AND {ON_HAND_CONDITION}
       AND (%(warehouse)s::bigint IS NULL OR entry.warehouse_id = %(warehouse)s::bigint)
     GROUP BY 1
), days AS (
    SELECT generate_series(%(since)s::date, %(until)s::date, interval '1 day')::date AS day
)
SELECT days.day,
       (SELECT on_hand FROM now) - (SELECT coalesce(sum(change), 0) FROM changes)
       + sum(coalesce(changes.change, 0)) OVER (ORDER BY days.day) AS on_hand
  FROM days LEFT JOIN changes ON changes.day = days.day
 ORDER BY days.day
"""


@dataclass(frozen=True)
class HistoryDay:
    day: datetime.date
    on_hand: Decimal


def history_range(
    since: datetime.date | None, until: datetime.date | None, *, today: datetime.date
) -> tuple[datetime.date, datetime.date] | None:
    """The days to report: the range asked for, defaulted and held within bounds; None for none.

    ``until`` defaults to today and is never later; ``since`` defaults to 89
    days before ``until`` and is never more than 730 days before it nor more
    than ten years before today. A range that ends before it begins (or
    before those ten years) has no days.
    """
    until = min(until or today, today)
    earliest = today - datetime.timedelta(days=MAX_WINDOW_DAYS)
    if until < earliest:
        return None
    since = max(
        since or until - datetime.timedelta(days=DEFAULT_HISTORY_DAYS - 1),
        until - datetime.timedelta(days=MAX_HISTORY_DAYS - 1),
        earliest,
    )
    if since > until:
        return None
    return since, until


def stock_history(
    *,
    tenant: Tenant,
    sku: str,
    warehouse: str | None = None,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    today: datetime.date | None = None,
) -> list[HistoryDay]:
    """On hand of product ``sku`` at the end of each day from ``since`` to ``until``.

    In one warehouse (its code) or all; every lot whatever its QC status.
    At most 731 days, the last of them ``until``; the days are those of
    ``history_range`` (a future ``until`` is today, a range that ends before
    it begins is empty). Reads only. Raises ``ProductNotFound``,
    ``WarehouseNotFound``.
    """
    days = history_range(since, until, today=today or timezone.localdate())
    with report_cursor(tenant) as cursor:
        product = product_id(cursor, sku)
        site = warehouse_id(cursor, warehouse)
        if days is None:
            return []
        since, until = days
        rows = fetch_all(
            cursor,
            _HISTORY,
            {
                "tenant": tenant.pk,
                "product": product,
                "warehouse": site,
                "start": day_start(since),
                "since": since,
                "until": until,
                "time_zone": time_zone_name(),
            },
        )
    return [HistoryDay(day=row["day"], on_hand=row["on_hand"]) for row in rows]

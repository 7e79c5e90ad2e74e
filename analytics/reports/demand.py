"""Daily demand (units shipped) with 7- and 28-day rolling averages.

Every day of the range is a row, days without shipments as zero. The rolling
averages look back past the start of the range (27 days more are read), so
the first day's averages are over full weeks, not over the days shown.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from analytics.reports.connection import (
    check_days,
    day_start,
    fetch_all,
    last_days,
    product_id,
    report_cursor,
    rounded,
    time_zone_name,
    warehouse_id,
)
from warehouse.models import Tenant

MAX_DEMAND_DAYS = 731
LOOK_BACK_DAYS = 27

_DEMAND = """
WITH days AS (
    SELECT generate_series(%(from)s::date, %(last)s::date, interval '1 day')::date AS day
), shipped AS (
    SELECT (entry.occurred_at AT TIME ZONE %(time_zone)s)::date AS day,
           sum(-entry.quantity) AS quantity
      FROM inventory_ledgerentry AS entry
     WHERE entry.tenant_id = %(tenant)s
       AND entry.kind = 'SHIP'
       AND entry.occurred_at >= %(start)s AND entry.occurred_at < %(end)s
       AND (%(product)s::bigint IS NULL OR entry.product_id = %(product)s::bigint)
       AND (%(warehouse)s::bigint IS NULL OR entry.warehouse_id = %(warehouse)s::bigint)
     GROUP BY 1
), daily AS (
    SELECT days.day, coalesce(shipped.quantity, 0.000) AS quantity,
           avg(coalesce(shipped.quantity, 0.000)) OVER (
               ORDER BY days.day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS average_7,
           avg(coalesce(shipped.quantity, 0.000)) OVER (
               ORDER BY days.day ROWS BETWEEN 27 PRECEDING AND CURRENT ROW) AS average_28
      FROM days LEFT JOIN shipped ON shipped.day = days.day
)
SELECT day, quantity, average_7, average_28 FROM daily WHERE day >= %(first)s ORDER BY day
"""


@dataclass(frozen=True)
class DemandDay:
    day: datetime.date
    shipped: Decimal
    average_7: Decimal
    average_28: Decimal


def demand(
    *,
    tenant: Tenant,
    days: int = 90,
    sku: str | None = None,
    warehouse: str | None = None,
    today: datetime.date | None = None,
) -> list[DemandDay]:
    """Units shipped per day over the ``days`` days ending with ``today`` (1 to 731).

    Of one product (its SKU) or all, in one warehouse (its code) or all; the
    averages are rounded to 3 decimals. Reads only. Raises
    ``ValidationFailed``, ``ProductNotFound``, ``WarehouseNotFound``.
    """
    check_days(days, maximum=MAX_DEMAND_DAYS)
    first, last = last_days(days, today=today)
    with report_cursor(tenant) as cursor:
        rows = fetch_all(
            cursor,
            _DEMAND,
            {
                "tenant": tenant.pk,
                "from": first - datetime.timedelta(days=LOOK_BACK_DAYS),
                "first": first,
                "last": last,
                "start": day_start(first - datetime.timedelta(days=LOOK_BACK_DAYS)),
                "end": day_start(last + datetime.timedelta(days=1)),
                "time_zone": time_zone_name(),
                "product": None if sku is None else product_id(cursor, sku),
                "warehouse": warehouse_id(cursor, warehouse),
            },
        )
    return [
        DemandDay(
            day=row["day"],
            shipped=row["quantity"],
            average_7=rounded(row["average_7"], 3),
            average_28=rounded(row["average_28"], 3),
        )
        for row in rows
    ]

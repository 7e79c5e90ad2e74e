"""Daily demand (units shipped) with 7- and 28-day rolling averages.

Every day of the range is a row, days without shipments as zero. The rolling
averages look back past the start of the range (27 days more are read), so
the first day's averages are over full weeks, not over the days shown.

Of one product, the shipments are read from the ledger by index. Of every
product, the days of rolled months come from the roll-up's shipped quantity
per day (``dw.ledger_day``) and only the rest from the ledger
(``analytics.reports.rolled``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from analytics.reports.connection import (
    check_days,
    day_start,
    last_days,
    product_id,
    report_cursor,
    time_zone_name,
    warehouse_id,
)
from analytics.reports.rolled import ROLLED_CLEAN, ROLLED_MONTHS, WindowParts, window_parts
from warehouse.models import Tenant

MAX_DEMAND_DAYS = 731
LOOK_BACK_DAYS = 27

# Each day of the range with its quantity and averages, from ``shipped`` (day, quantity).
_DAILY = """
, days AS (
    SELECT generate_series(%(from)s::date, %(last)s::date, interval '1 day')::date AS day
), daily AS (
    SELECT days.day, coalesce(shipped.quantity, 0.000) AS quantity,
           avg(coalesce(shipped.quantity, 0.000)) OVER (
               ORDER BY days.day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS average_7,
           avg(coalesce(shipped.quantity, 0.000)) OVER (
               ORDER BY days.day ROWS BETWEEN 27 PRECEDING AND CURRENT ROW) AS average_28
      FROM days LEFT JOIN shipped ON shipped.day = days.day
)
SELECT day, quantity, round(average_7, 3), round(average_28, 3)
  FROM daily WHERE day >= %(first)s ORDER BY day
"""

# One product: its shipments, read from the ledger by index.
_PRODUCT_DEMAND = (
    """
WITH shipped AS (
    SELECT (entry.occurred_at AT TIME ZONE %(time_zone)s)::date AS day,
           sum(-entry.quantity) AS quantity
      FROM inventory_ledgerentry AS entry
     WHERE entry.tenant_id = %(tenant)s
       AND entry.kind = 'SHIP'
       AND entry.occurred_at >= %(start)s AND entry.occurred_at < %(end)s
       AND entry.product_id = %(product)s::bigint
       AND (%(warehouse)s::bigint IS NULL OR entry.warehouse_id = %(warehouse)s::bigint)
     GROUP BY 1
)"""
    + _DAILY
)

_RAW_SHIPPED = (
    "(entry.occurred_at AT TIME ZONE %(time_zone)s)::date AS day, -entry.quantity AS quantity"
)
_SHIPPED = """entry.kind = 'SHIP'
       AND entry.occurred_at >= %(window_start)s AND entry.occurred_at < %(end)s
       AND (%(warehouse)s::bigint IS NULL OR entry.warehouse_id = %(warehouse)s::bigint)"""


def demand_sql(parts: WindowParts) -> str:
    """Every product: each day's shipments from the roll-up's days, the rest from the ledger."""
    return (
        f"""
WITH {ROLLED_CLEAN}, shipped AS (
    SELECT parts.day, sum(parts.quantity) AS quantity
      FROM ({parts.raw_entries(_RAW_SHIPPED, _SHIPPED)}
    UNION ALL
    SELECT month.day, month.shipped
      FROM dw.ledger_day AS month
     WHERE {ROLLED_MONTHS}
       AND month.shipped IS NOT NULL
       AND month.day >= %(from)s AND month.day <= %(last)s
       AND (%(warehouse)s::bigint IS NULL OR month.warehouse_id = %(warehouse)s::bigint)
           ) AS parts
     GROUP BY parts.day
)"""
        + _DAILY
    )


@dataclass(slots=True)
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
    start = day_start(first - datetime.timedelta(days=LOOK_BACK_DAYS))
    params = {
        "tenant": tenant.pk,
        "from": first - datetime.timedelta(days=LOOK_BACK_DAYS),
        "first": first,
        "last": last,
        "start": start,
        "end": day_start(last + datetime.timedelta(days=1)),
        "time_zone": time_zone_name(),
    }
    with report_cursor(tenant) as cursor:
        params["warehouse"] = warehouse_id(cursor, warehouse)
        if sku is not None:
            params["product"] = product_id(cursor, sku)
            cursor.execute(_PRODUCT_DEMAND, params)
        else:
            # Whole months from the first day's month on: the roll-up keeps days.
            parts = window_parts(day_start(params["from"].replace(day=1)), None)
            cursor.execute(demand_sql(parts), {**params, **parts.params, "window_start": start})
        return [DemandDay(*row) for row in cursor.fetchall()]

"""Stock-outs: products whose approved stock was at zero on some days of the window.

A simplification, because the ledger does not say which lots were approved
on a past day: the daily series counts the on hand of the lots that are
approved now (ignoring reservations and expiry), at the end of each day.
A day counts as out of stock when that on hand is zero or less at its end.
Days before a product's first receipt are not counted; products never
received are not listed.

No row per day is built: the on hand changes only on days with entries, so
each such day's level holds until the next one (``lead``), and the days at
zero are the lengths of the stretches whose level is zero.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from analytics.reports.connection import (
    ON_HAND_CONDITION,
    check_days,
    day_start,
    fetch_all,
    last_days,
    report_cursor,
    time_zone_name,
    warehouse_id,
)
from warehouse.models import Tenant

MAX_STOCKOUT_DAYS = 731

_STOCKOUTS = f"""
WITH now AS (
    SELECT balance.product_id, sum(balance.on_hand) AS on_hand
      FROM inventory_balance AS balance
      JOIN inventory_lot AS lot ON lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
     WHERE balance.tenant_id = %(tenant)s AND lot.qc_status = 'APPROVED'
       AND (%(warehouse)s::bigint IS NULL OR balance.warehouse_id = %(warehouse)s::bigint)
     GROUP BY balance.product_id
), changes AS (
    SELECT entry.product_id, (entry.occurred_at AT TIME ZONE %(time_zone)s)::date AS day,
           sum(entry.quantity) AS change
      FROM inventory_ledgerentry AS entry
      JOIN inventory_lot AS lot ON lot.tenant_id = entry.tenant_id AND lot.id = entry.lot_id
     WHERE entry.tenant_id = %(tenant)s AND lot.qc_status = 'APPROVED'
       AND entry.occurred_at >= %(start)s
       AND {ON_HAND_CONDITION}
       AND (%(warehouse)s::bigint IS NULL OR entry.warehouse_id = %(warehouse)s::bigint)
     GROUP BY 1, 2
), products AS (
    SELECT lot.product_id,
           greatest(%(first)s::date, min((lot.received_at AT TIME ZONE %(time_zone)s)::date))
               AS counted_from
      FROM inventory_lot AS lot
     WHERE lot.tenant_id = %(tenant)s AND lot.received_at < %(end)s
       AND (%(warehouse)s::bigint IS NULL OR EXISTS (
           SELECT FROM inventory_balance AS balance
            WHERE balance.tenant_id = lot.tenant_id AND balance.lot_id = lot.id
              AND balance.warehouse_id = %(warehouse)s::bigint))
     GROUP BY lot.product_id
), since_start AS (
    -- No lot of a product exists before its first receipt, so every change
    -- since the window began is one since the product is counted from.
    SELECT product_id, sum(change) AS change FROM changes GROUP BY product_id
), openings AS (
    SELECT products.product_id, products.counted_from,
           coalesce(now.on_hand, 0) - coalesce(since_start.change, 0) AS opening
      FROM products
      LEFT JOIN now ON now.product_id = products.product_id
      LEFT JOIN since_start ON since_start.product_id = products.product_id
), points AS (
    SELECT product_id, counted_from AS day, 0 AS change, 0 AS step FROM openings
    UNION ALL
    SELECT changes.product_id, changes.day, changes.change, 1
      FROM changes JOIN openings ON openings.product_id = changes.product_id
     WHERE changes.day >= openings.counted_from AND changes.day <= %(last)s::date
), levels AS (
    SELECT points.product_id, points.day,
           openings.opening + sum(points.change) OVER (
               PARTITION BY points.product_id ORDER BY points.day, points.step
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS level,
           coalesce(lead(points.day) OVER (
               PARTITION BY points.product_id ORDER BY points.day, points.step),
               %(last)s::date + 1) - points.day AS span,
           -- The last point of a product (no point after it), read in the same
           -- order as the other two windows: one sort of the points, not two.
           lead(points.day) OVER (
               PARTITION BY points.product_id ORDER BY points.day, points.step) IS NULL
               AS last_point
      FROM points JOIN openings ON openings.product_id = points.product_id
)
SELECT product.sku, product.name,
       sum(levels.span) FILTER (WHERE levels.level <= 0) AS days_at_zero,
       %(last)s::date + 1 - min(openings.counted_from) AS days_counted,
       bool_or(levels.level <= 0) FILTER (WHERE levels.last_point) AS out_of_stock
  FROM levels
  JOIN openings ON openings.product_id = levels.product_id
  JOIN inventory_product AS product ON product.tenant_id = %(tenant)s
                                   AND product.id = levels.product_id
 GROUP BY product.id, product.sku, product.name, product.sku_key
HAVING sum(levels.span) FILTER (WHERE levels.level <= 0) > 0
 ORDER BY days_at_zero DESC, product.sku_key
"""


@dataclass(frozen=True)
class StockOut:
    sku: str
    name: str
    days_at_zero: int
    days_counted: int
    out_of_stock: bool


def stock_outs(
    *,
    tenant: Tenant,
    days: int = 30,
    warehouse: str | None = None,
    today: datetime.date | None = None,
) -> list[StockOut]:
    """Products at zero approved stock on at least one day of the ``days`` days ending ``today``.

    With the days at zero, the days counted (the window, or from the first
    receipt when later) and whether the last day ended at zero; most days at
    zero first. In one warehouse (its code) or all; 1 to 731 days. Reads only.
    Raises ``ValidationFailed``, ``WarehouseNotFound``.
    """
    check_days(days, maximum=MAX_STOCKOUT_DAYS)
    first, last = last_days(days, today=today)
    with report_cursor(tenant) as cursor:
        rows = fetch_all(
            cursor,
            _STOCKOUTS,
            {
                "tenant": tenant.pk,
                "start": day_start(first),
                "end": day_start(last + datetime.timedelta(days=1)),
                "first": first,
                "last": last,
                "time_zone": time_zone_name(),
                "warehouse": warehouse_id(cursor, warehouse),
            },
        )
    return [
        StockOut(
            sku=row["sku"],
            name=row["name"],
            days_at_zero=row["days_at_zero"],
            days_counted=row["days_counted"],
            out_of_stock=bool(row["out_of_stock"]),
        )
        for row in rows
    ]

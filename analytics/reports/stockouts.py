"""Stock-outs: products whose available stock was at zero on some days of the window.

A day at zero is a day at whose end the product's available stock was zero
or less, as the daily snapshot of that day recorded it (``dw.stock_snapshot``,
kept as ``dw.stock_out_day``): on hand less reserved over the lots approved
at the end of that day and not expired on it, so a day with only quarantined,
rejected, expired or fully reserved stock is a day at zero. Over all
warehouses the product's available is summed over them; with a warehouse,
it is that warehouse's.

The window is the ``days`` days ending today. Its completed days (the first
to yesterday) are read from the snapshots, and only the days that have one
(``dw.stock_snapshot_day``) are counted: a day without a snapshot is neither
at zero nor in stock. The snapshot job takes yesterday every night;
``manage.py dw_snapshot --day YYYY-MM-DD`` takes a past day. Today is read
live from the current-stock view (``dw.current_stock``, refreshed every few
minutes): a product whose available there is zero or less counts today as a
day at zero, and is out of stock now.

Per product: ``days_at_zero``; ``days_counted``, the snapshotted days of the
window on or after the day of its first receipt (its first lot's
``received_at``; with a warehouse, of the lots stocked there), plus today;
``out_of_stock``, its state now. A product is listed when it had at least
one day at zero; most days at zero first, then by SKU.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from analytics.reports.connection import (
    check_days,
    fetch_all,
    last_days,
    report_cursor,
    time_zone_name,
    warehouse_id,
)
from warehouse.models import Tenant

MAX_STOCKOUT_DAYS = 731

_LISTED = """
WITH taken AS (
    SELECT taken.day
      FROM dw.stock_snapshot_day AS taken
     WHERE taken.tenant_id = %(tenant)s AND taken.day BETWEEN %(first)s AND %(yesterday)s
), past AS (
    SELECT zero.product_id, count(*) AS days_at_zero
      FROM dw.stock_out_day AS zero
     WHERE zero.tenant_id = %(tenant)s AND zero.day BETWEEN %(first)s AND %(yesterday)s
       AND zero.day IN (SELECT taken.day FROM taken)
       AND {zero_rows}
     GROUP BY zero.product_id
), current AS (
    SELECT stock.product_id
      FROM dw.current_stock(%(warehouse)s::bigint) AS stock
     GROUP BY stock.product_id
    HAVING sum(stock.available) <= 0
), listed AS (
    SELECT coalesce(past.product_id, current.product_id) AS product_id,
           coalesce(past.days_at_zero, 0) + (current.product_id IS NOT NULL)::int AS days_at_zero,
           current.product_id IS NOT NULL AS out_of_stock
      FROM past FULL JOIN current ON current.product_id = past.product_id
)
"""

_STOCKOUTS = (
    _LISTED
    + """SELECT product.sku, product.name, listed.days_at_zero, listed.out_of_stock,
       1 + (SELECT count(*) FROM taken WHERE taken.day >= received.first_day) AS days_counted
  FROM listed
  JOIN inventory_product AS product
    ON product.tenant_id = %(tenant)s AND product.id = listed.product_id
 -- By the product's own id: by the full join's coalesce the planner read every lot of
 -- the tenant for each listed product.
 CROSS JOIN LATERAL (
    SELECT min((lot.received_at AT TIME ZONE %(time_zone)s)::date) AS first_day
      FROM inventory_lot AS lot
     WHERE lot.tenant_id = %(tenant)s AND lot.product_id = product.id
       AND (%(warehouse)s::bigint IS NULL OR EXISTS (
           SELECT FROM inventory_balance AS balance
            WHERE balance.tenant_id = lot.tenant_id AND balance.lot_id = lot.id
              AND balance.warehouse_id = %(warehouse)s::bigint))
 ) AS received
 ORDER BY listed.days_at_zero DESC, product.sku_key
"""
)

# How many products are listed (the dashboard's card): the days counted are not needed.
_STOCKOUT_COUNT = _LISTED + "SELECT count(*) FROM listed"

# Which rows of ``dw.stock_out_day``: a condition the key (tenant, warehouse,
# day, ...) reads by, so only the window's days of that warehouse (or of all
# together) are read; a parameter that may be NULL would hide it from the plan.
_ALL_WAREHOUSES = "zero.warehouse_id IS NULL"
_ONE_WAREHOUSE = "zero.warehouse_id = %(warehouse)s::bigint"


def _zero_rows(sql: str, warehouse: int | None) -> str:
    return sql.replace("{zero_rows}", _ALL_WAREHOUSES if warehouse is None else _ONE_WAREHOUSE)


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
    """Products at zero available stock on at least one day of the ``days`` days ending ``today``.

    The days before ``today`` from the snapshots (only the days snapshotted),
    ``today`` from the current-stock view, which is the stock now whatever
    day ``today`` is (see the module's docstring). In one warehouse
    (its code) or all; 1 to 731 days. Reads only. Raises
    ``ValidationFailed``, ``WarehouseNotFound``.
    """
    check_days(days, maximum=MAX_STOCKOUT_DAYS)
    first, last = last_days(days, today=today)
    with report_cursor(tenant) as cursor:
        warehouse = warehouse_id(cursor, warehouse)
        rows = fetch_all(
            cursor,
            _zero_rows(_STOCKOUTS, warehouse),
            {
                "tenant": tenant.pk,
                "first": first,
                "yesterday": last - datetime.timedelta(days=1),
                "time_zone": time_zone_name(),
                "warehouse": warehouse,
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


def stock_out_count(*, tenant: Tenant, days: int = 30, today: datetime.date | None = None) -> int:
    """How many products ``stock_outs`` lists over every warehouse (without reading their rows)."""
    check_days(days, maximum=MAX_STOCKOUT_DAYS)
    first, last = last_days(days, today=today)
    with report_cursor(tenant) as cursor:
        cursor.execute(
            _zero_rows(_STOCKOUT_COUNT, None),
            {
                "tenant": tenant.pk,
                "first": first,
                "yesterday": last - datetime.timedelta(days=1),
                "warehouse": None,
            },
        )
        return cursor.fetchone()[0]

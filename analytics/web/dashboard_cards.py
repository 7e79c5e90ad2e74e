"""The figures of the manager dashboard, each card in as few queries as its source allows.

Stock value comes from ``dw.current_stock_mv`` (through ``dw.current_stock``),
summed per warehouse by the database: one query whatever the number of
products. The view has no value per QC status, so the quarantined value and
the lots expiring soon are summed from the balances of those lots in one
query of their own. Stock-outs and the A-items below their reorder point
count the products the stock-outs report lists (the week's days at zero from
the daily snapshots, ``dw.stock_out_day``, and today from the view). The
A-items are the products classed A over 90 days (ranked from the ledger's
roll-up as the ABC report ranks them) with an enabled rule whose available
stock in the view is below its reorder point: the low-stock report's rows
for those products, as of the view's last refresh.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from analytics.dw import freshness
from analytics.dw.current_stock import Freshness
from analytics.reports.abc import class_a_sql
from analytics.reports.connection import fetch_all, report_cursor, rounded
from analytics.reports.rolled import window_parameters
from analytics.reports.stockouts import stock_out_count
from warehouse.models import Tenant

EXPIRY_DAYS = 30
STOCK_OUT_DAYS = 7
ABC_DAYS = 90
A_ITEMS_SHOWN = 5
ZERO = Decimal("0.00")

_STOCK_VALUE = """
SELECT warehouse.code AS warehouse, sum(stock.value) AS value
  FROM dw.current_stock(NULL) AS stock
  JOIN warehouse_warehouse AS warehouse
    ON warehouse.tenant_id = %(tenant)s AND warehouse.id = stock.warehouse_id
 GROUP BY warehouse.code, warehouse.code_key
HAVING sum(stock.value) <> 0
 ORDER BY warehouse.code_key
"""

# Lots with stock on hand expiring from today to today + 30 (a lot is good until
# the end of its expiry date, as in the aging report's "within 30" bucket), and
# what is on hand in lots waiting for QC, both at each lot's unit cost.
_LOT_FIGURES = """
SELECT count(DISTINCT lot.id) FILTER (WHERE lot.expires_on BETWEEN %(today)s AND %(until)s)
           AS expiring_lots,
       coalesce(sum(balance.on_hand * lot.unit_cost)
           FILTER (WHERE lot.expires_on BETWEEN %(today)s AND %(until)s), 0) AS expiring_value,
       count(DISTINCT lot.id) FILTER (WHERE lot.qc_status = 'QUARANTINE') AS quarantined_lots,
       coalesce(sum(balance.on_hand * lot.unit_cost)
           FILTER (WHERE lot.qc_status = 'QUARANTINE'), 0) AS quarantined_value
  FROM inventory_balance AS balance
  JOIN inventory_lot AS lot ON lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
 WHERE balance.tenant_id = %(tenant)s AND balance.on_hand > 0
   AND (lot.qc_status = 'QUARANTINE' OR lot.expires_on BETWEEN %(today)s AND %(until)s)
"""


# The products classed A over the ABC window (``class_a``) with an enabled
# rule whose available stock in the view is below its reorder point, by SKU.
_A_ITEMS = """
WITH {class_a}, stock AS (
    SELECT stock.product_id, stock.warehouse_id, stock.available
      FROM dw.current_stock(NULL) AS stock
), low AS MATERIALIZED (
    -- The few products first, then their SKUs by key: estimated as a handful
    -- of rows, a join with every product was read as a nested loop over all.
    SELECT DISTINCT rule.product_id
      FROM analytics_reorderrule AS rule
      JOIN class_a ON class_a.product_id = rule.product_id
      LEFT JOIN stock ON stock.product_id = rule.product_id
                     AND stock.warehouse_id = rule.warehouse_id
     WHERE rule.tenant_id = %(tenant)s AND rule.enabled
       AND coalesce(stock.available, 0) < rule.reorder_point
)
SELECT product.sku
  FROM low
  JOIN inventory_product AS product
    ON product.tenant_id = %(tenant)s AND product.id = low.product_id
 ORDER BY product.sku_key
"""


@dataclass(frozen=True)
class WarehouseValue:
    warehouse: str
    value: Decimal


@dataclass(frozen=True)
class StockValue:
    total: Decimal
    warehouses: list[WarehouseValue]
    freshness: Freshness | None


@dataclass(frozen=True)
class LotFigures:
    expiring_lots: int
    expiring_value: Decimal
    quarantined_lots: int
    quarantined_value: Decimal


@dataclass(frozen=True)
class AItems:
    count: int
    skus: list[str] = field(default_factory=list)


def stock_value(*, tenant: Tenant) -> StockValue:
    """The tenant's stock at lot cost per warehouse and in total, as of the view's last refresh."""
    with report_cursor(tenant) as cursor:
        rows = fetch_all(cursor, _STOCK_VALUE, {"tenant": tenant.pk})
    warehouses = [
        WarehouseValue(warehouse=row["warehouse"], value=rounded(row["value"], 2)) for row in rows
    ]
    total = rounded(sum((row["value"] for row in rows), Decimal(0)), 2)
    return StockValue(total=total, warehouses=warehouses, freshness=freshness())


def lot_figures(*, tenant: Tenant, today: datetime.date | None = None) -> LotFigures:
    """Lots expiring within 30 days and lots waiting for QC: how many, and their value now."""
    today = today or timezone.localdate()
    with report_cursor(tenant) as cursor:
        (row,) = fetch_all(
            cursor,
            _LOT_FIGURES,
            {
                "tenant": tenant.pk,
                "today": today,
                "until": today + datetime.timedelta(days=EXPIRY_DAYS),
            },
        )
    return LotFigures(
        expiring_lots=row["expiring_lots"],
        expiring_value=rounded(row["expiring_value"], 2),
        quarantined_lots=row["quarantined_lots"],
        quarantined_value=rounded(row["quarantined_value"], 2),
    )


def stock_outs_this_week(*, tenant: Tenant, today: datetime.date | None = None) -> int:
    """How many products were at zero available stock at the end of some day of the last seven.

    The six days before today as their snapshots recorded them (days not
    snapshotted are not counted), today as of the view's last refresh.
    """
    return stock_out_count(tenant=tenant, days=STOCK_OUT_DAYS, today=today)


def a_items_below_reorder_point(*, tenant: Tenant, today: datetime.date | None = None) -> AItems:
    """Products classed A over 90 days that the low-stock report lists, by SKU (the first five)."""
    with report_cursor(tenant) as cursor:
        parts, parameters = window_parameters(cursor, tenant, ABC_DAYS, None, today)
        cursor.execute(_A_ITEMS.format(class_a=class_a_sql(parts)), parameters)
        skus = [row[0] for row in cursor.fetchall()]
    return AItems(count=len(skus), skus=skus[:A_ITEMS_SHOWN])

"""Low stock: enabled reorder rules whose product's available stock is below the reorder point.

Available is the stock numbers' own (``inventory_stock_rows``): approved,
unexpired lots less what is reserved of them, plus what overdue reservations
still hold. A product with no stock at all in the rule's warehouse has 0
available.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from analytics.reports.abc import class_a_sql, window_parameters
from analytics.reports.connection import check_days, fetch_all, report_cursor, warehouse_id
from warehouse.models import Tenant

# Available is computed here for the rules' own (product, warehouse) pairs with
# the definition of ``inventory_stock_rows`` (migration inventory 0018): approved
# lots not expired on ``today`` (``inventory_lot_available``), on hand less
# reserved, plus what open reservations past their expiry at ``now`` still hold
# of such lots. Calling that function with every ruled product instead (a few
# thousand on a large tenant) tested each balance against the whole array of
# products, a linear search in its generic plan; a hash join with the pairs
# reads each balance once.
_LOW_STOCK = """
WITH {first}rules AS (
    SELECT rule.product_id, rule.warehouse_id, rule.reorder_point, rule.reorder_quantity
      FROM analytics_reorderrule AS rule
     WHERE rule.tenant_id = %(tenant)s AND rule.enabled
       AND (%(warehouse)s::bigint IS NULL OR rule.warehouse_id = %(warehouse)s::bigint){only}
), pairs AS (
    SELECT DISTINCT rules.product_id, rules.warehouse_id FROM rules
), totals AS (
    SELECT balance.product_id, balance.warehouse_id,
           coalesce(sum(balance.on_hand - balance.reserved) FILTER (
               WHERE inventory_lot_available(lot.qc_status, lot.expires_on, %(today)s::date)),
               0.000) AS available
      FROM inventory_balance AS balance
      JOIN inventory_lot AS lot ON lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
     WHERE balance.tenant_id = %(tenant)s
       -- A balance at zero has nothing reserved either (reserved within on hand):
       -- it adds nothing, and an overdue hold always has a balance above zero.
       AND balance.on_hand > 0
       AND (balance.product_id, balance.warehouse_id) IN (
               SELECT pairs.product_id, pairs.warehouse_id FROM pairs)
     GROUP BY balance.product_id, balance.warehouse_id
), overdue AS (
    SELECT line.product_id, reservation.warehouse_id, sum(allocation.quantity) AS held
      FROM inventory_reservation AS reservation
      JOIN inventory_reservationline AS line
        ON line.tenant_id = reservation.tenant_id AND line.reservation_id = reservation.id
      JOIN inventory_allocation AS allocation
        ON allocation.tenant_id = reservation.tenant_id
       AND allocation.reservation_id = reservation.id
       AND allocation.line_id = line.id
      JOIN inventory_lot AS lot
        ON lot.tenant_id = allocation.tenant_id AND lot.id = allocation.lot_id
      JOIN pairs ON pairs.product_id = line.product_id
                AND pairs.warehouse_id = reservation.warehouse_id
     WHERE reservation.tenant_id = %(tenant)s
       AND reservation.status = 'OPEN'
       AND reservation.expires_at IS NOT NULL
       AND reservation.expires_at <= %(now)s::timestamptz
       AND inventory_lot_available(lot.qc_status, lot.expires_on, %(today)s::date)
     GROUP BY line.product_id, reservation.warehouse_id
), stock AS (
    SELECT totals.product_id, totals.warehouse_id,
           totals.available + coalesce(overdue.held, 0) AS available
      FROM totals
      LEFT JOIN overdue ON overdue.product_id = totals.product_id
                       AND overdue.warehouse_id = totals.warehouse_id
)
SELECT product.sku, product.name, warehouse.code AS warehouse,
       coalesce(stock.available, 0.000) AS available, rules.reorder_point, rules.reorder_quantity,
       rules.reorder_point - coalesce(stock.available, 0) AS shortfall
  FROM rules
  LEFT JOIN stock ON stock.product_id = rules.product_id
                 AND stock.warehouse_id = rules.warehouse_id
  JOIN inventory_product AS product ON product.tenant_id = %(tenant)s
                                   AND product.id = rules.product_id
  JOIN warehouse_warehouse AS warehouse ON warehouse.tenant_id = %(tenant)s
                                       AND warehouse.id = rules.warehouse_id
 WHERE coalesce(stock.available, 0) < rules.reorder_point
 ORDER BY product.sku_key, warehouse.code_key
"""


# Every enabled rule (of a warehouse, if one is given).
LOW_STOCK_SQL = _LOW_STOCK.format(first="", only="")


@dataclass(frozen=True)
class LowStock:
    sku: str
    name: str
    warehouse: str
    available: Decimal
    reorder_point: Decimal
    reorder_quantity: Decimal
    shortfall: Decimal


def low_stock(
    *,
    tenant: Tenant,
    warehouse: str | None = None,
    today: datetime.date | None = None,
    class_a_days: int | None = None,
) -> list[LowStock]:
    """Every enabled rule whose available stock is below its reorder point, by SKU and warehouse.

    ``shortfall`` is the reorder point less what is available. In one
    warehouse (its code) or all; with ``class_a_days``, only the rules of
    products classed A by the ABC report over that many days ending
    ``today`` (in every warehouse), decided in the same statement. Reads
    only. Raises ``WarehouseNotFound`` and, for ``class_a_days`` out of
    1..3660, ``ValidationFailed``.
    """
    today = today or timezone.localdate()
    with report_cursor(tenant) as cursor:
        parameters = {
            "tenant": tenant.pk,
            "warehouse": warehouse_id(cursor, warehouse),
            "today": today,
            "now": timezone.now(),
        }
        if class_a_days is None:
            sql = LOW_STOCK_SQL
        else:
            check_days(class_a_days)
            parts, window = window_parameters(cursor, tenant, class_a_days, None, today)
            # The ABC window's own parameters; its warehouse is every warehouse.
            window = {f"abc_{name}": value for name, value in window.items()}
            sql = _LOW_STOCK.format(
                first=_abc_parameters(class_a_sql(parts)) + ", ",
                only="\n       AND rule.product_id IN (SELECT class_a.product_id FROM class_a)",
            )
            parameters.update(window)
        rows = fetch_all(cursor, sql, parameters)
    return [LowStock(**row) for row in rows]


def _abc_parameters(sql: str) -> str:
    """``sql`` reading its parameters under an ``abc_`` prefix (``%(x)s`` as ``%(abc_x)s``)."""
    return re.sub(r"%\((\w+)\)s", r"%(abc_\1)s", sql)

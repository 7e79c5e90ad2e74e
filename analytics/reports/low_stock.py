"""Low stock: enabled reorder rules whose product's available stock is below the reorder point.

Available is the stock numbers' own (``inventory_stock_rows``): approved,
unexpired lots less what is reserved of them, plus what overdue reservations
still hold. A product with no stock at all in the rule's warehouse has 0
available.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from analytics.reports.connection import fetch_all, report_cursor, warehouse_id
from warehouse.models import Tenant

# Available is computed here for the rules' own (product, warehouse) pairs with
# the definition of ``inventory_stock_rows`` (migration inventory 0018): approved
# lots not expired on ``today`` (``inventory_lot_available``), on hand less
# reserved, plus what open reservations past their expiry at ``now`` still hold
# of such lots. Calling that function with every ruled product instead (a few
# thousand on a large tenant) tested each balance against the whole array of
# products, a linear search in its generic plan; a hash join with the pairs
# reads each balance once.
LOW_STOCK_SQL = """
WITH rules AS (
    SELECT rule.product_id, rule.warehouse_id, rule.reorder_point, rule.reorder_quantity
      FROM analytics_reorderrule AS rule
     WHERE rule.tenant_id = %(tenant)s AND rule.enabled
       AND (%(warehouse)s::bigint IS NULL OR rule.warehouse_id = %(warehouse)s::bigint)
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
    *, tenant: Tenant, warehouse: str | None = None, today: datetime.date | None = None
) -> list[LowStock]:
    """Every enabled rule whose available stock is below its reorder point, by SKU and warehouse.

    ``shortfall`` is the reorder point less what is available. In one
    warehouse (its code) or all. Reads only. Raises ``WarehouseNotFound``.
    """
    with report_cursor(tenant) as cursor:
        rows = fetch_all(
            cursor,
            LOW_STOCK_SQL,
            {
                "tenant": tenant.pk,
                "warehouse": warehouse_id(cursor, warehouse),
                "today": today or timezone.localdate(),
                "now": timezone.now(),
            },
        )
    return [LowStock(**row) for row in rows]

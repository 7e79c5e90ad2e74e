"""Low stock: enabled reorder rules whose product's available stock is below the reorder point.

Available is the stock numbers' own (``inventory_stock_rows``): approved,
unexpired lots less what is reserved of them. A product with no stock at
all in the rule's warehouse has 0 available.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from analytics.reports.connection import fetch_all, report_cursor, warehouse_id
from warehouse.models import Tenant

_LOW_STOCK = """
WITH rules AS (
    SELECT rule.product_id, rule.warehouse_id, rule.reorder_point, rule.reorder_quantity
      FROM analytics_reorderrule AS rule
     WHERE rule.tenant_id = %(tenant)s AND rule.enabled
       AND (%(warehouse)s::bigint IS NULL OR rule.warehouse_id = %(warehouse)s::bigint)
), stock AS (
    SELECT stock.product_id, stock.warehouse_id, stock.available
      FROM inventory_stock_rows(
               ARRAY(SELECT DISTINCT product_id FROM rules), %(warehouse)s::bigint,
               %(today)s::date, %(now)s::timestamptz) AS stock
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
            _LOW_STOCK,
            {
                "tenant": tenant.pk,
                "warehouse": warehouse_id(cursor, warehouse),
                "today": today or timezone.localdate(),
                "now": timezone.now(),
            },
        )
    return [LowStock(**row) for row in rows]

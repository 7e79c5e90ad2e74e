"""ABC classification by consumption value.

A product's consumption value over the window is what it shipped, each
``SHIP`` entry's quantity (negative in the ledger, so its absolute value)
times the unit cost of the lot it left. Products are ranked by value, highest
first, ties by SKU; a product is A while the share of everything ranked
before it is below 80 %, B while below 95 %, C after that. Active products
that shipped nothing are C with a value of zero and come last, by SKU.

Values are rounded to 2 decimals and shares to 4 only in the rows returned;
the classes are decided on the exact figures.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from analytics.reports.connection import (
    check_days,
    report_cursor,
)
from analytics.reports.rolled import ROLLED_CLEAN, ROLLED_MONTHS, WindowParts, window_parameters
from warehouse.models import Tenant

A_LIMIT = Decimal("0.80")
B_LIMIT = Decimal("0.95")
VALUE_PLACES = 2
SHARE_PLACES = 4

# Shipments of the window read from the ledger (outside the rolled months).
_SHIPPED = """entry.kind = 'SHIP'
       AND entry.occurred_at < %(end)s
       AND (%(warehouse)s::bigint IS NULL OR entry.warehouse_id = %(warehouse)s::bigint)"""

_RAW_COLUMNS = "entry.product_id, entry.lot_id, -entry.quantity AS quantity"


def _consumption_sql(parts: WindowParts) -> str:
    """CTEs up to ``consumption``: each product's consumption value over the window ``parts``.

    Rolled months carry their value (``shipped_value``: a lot's unit cost is
    fixed); entries read from the ledger are valued at their lot's cost.
    """
    return f"""
{ROLLED_CLEAN}, raw AS (
    SELECT raw.product_id, raw.lot_id, sum(raw.quantity) AS quantity
      FROM ({parts.raw_entries(_RAW_COLUMNS, _SHIPPED)}
           ) AS raw
     GROUP BY raw.product_id, raw.lot_id
), consumption AS (
    SELECT parts.product_id, sum(parts.value) AS value
      FROM (-- The lot's cost looked up per row by its key: the part read from
            -- the ledger is short when the roll-up is current (a hash of every
            -- lot would cost more than the rows it serves).
            SELECT raw.product_id,
                   raw.quantity * (SELECT lot.unit_cost FROM inventory_lot AS lot
                                    WHERE lot.tenant_id = %(tenant)s AND lot.id = raw.lot_id)
                   AS value
              FROM raw
            UNION ALL
            SELECT month.product_id, month.shipped_value
              FROM dw.ledger_month_product AS month
             WHERE {ROLLED_MONTHS}
               AND month.shipped_value IS NOT NULL
               AND (%(warehouse)s::bigint IS NULL OR month.warehouse_id = %(warehouse)s::bigint)
           ) AS parts
     GROUP BY parts.product_id
)"""


def class_a_sql(parts: WindowParts) -> str:
    """CTEs up to ``class_a``: the ids of the products classed A over the window ``parts``.

    As ``abc`` decides it, ranking only the products that shipped: every
    other product has no value, ranks after them and is C, so leaving it out
    changes neither the running sums nor the total.
    """
    return (
        _consumption_sql(parts)
        + f""", shipped_ranked AS (
    SELECT consumption.product_id, consumption.value,
           sum(consumption.value) OVER (
               ORDER BY consumption.value DESC, product.sku_key, product.id
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running,
           sum(consumption.value) OVER () AS total
      FROM consumption
      JOIN inventory_product AS product ON product.tenant_id = %(tenant)s
                                       AND product.id = consumption.product_id
), class_a AS (
    SELECT product_id FROM shipped_ranked
     WHERE value > 0 AND running - value < {A_LIMIT} * total
)"""
    )


def _ranked_sql(parts: WindowParts) -> str:
    """Every product ranked by consumption value over the window ``parts``.

    With the running sum and the total the classes are decided on.
    """
    return f"""
WITH {_consumption_sql(parts)}, ranked AS (
    SELECT product.sku, product.name, coalesce(consumption.value, 0) AS value,
           sum(coalesce(consumption.value, 0)) OVER (
               ORDER BY coalesce(consumption.value, 0) DESC, product.sku_key, product.id
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running,
           sum(coalesce(consumption.value, 0)) OVER () AS total,
           row_number() OVER (
               ORDER BY coalesce(consumption.value, 0) DESC, product.sku_key, product.id
           ) AS position
      FROM inventory_product AS product
      LEFT JOIN consumption ON consumption.product_id = product.id
     WHERE product.tenant_id = %(tenant)s
       AND (product.is_active OR consumption.value IS NOT NULL)
), classed AS (
    -- A product's class from the exact share of everything ranked before it
    -- (``running - value``), compared without division: a share of exactly
    -- 80 per cent is not A.
    SELECT ranked.*,
           CASE WHEN ranked.value <= 0 THEN 'C'
                WHEN ranked.running - ranked.value < {A_LIMIT} * ranked.total THEN 'A'
                WHEN ranked.running - ranked.value < {B_LIMIT} * ranked.total THEN 'B'
                ELSE 'C' END AS abc_class
      FROM ranked
)
"""


def abc_sql(parts: WindowParts) -> str:
    """The report's query over the window ``parts`` split into rolled months and ledger ranges.

    Values rounded to 2 decimals and shares to 4, halves away from zero (as
    ``rounded``); the classes are decided on the exact figures.
    """
    return (
        _ranked_sql(parts)
        + f"""
SELECT sku, name, round(value, {VALUE_PLACES}) AS consumption_value,
       CASE WHEN total = 0 THEN round(0, {SHARE_PLACES})
            ELSE round(value / total, {SHARE_PLACES}) END AS share,
       CASE WHEN total = 0 THEN round(0, {SHARE_PLACES})
            ELSE round(running / total, {SHARE_PLACES}) END AS cumulative_share,
       abc_class
  FROM classed
 ORDER BY position
"""
    )


@dataclass(slots=True)
class AbcRow:
    sku: str
    name: str
    consumption_value: Decimal
    share: Decimal
    cumulative_share: Decimal
    abc_class: str


def abc(
    *,
    tenant: Tenant,
    days: int = 90,
    warehouse: str | None = None,
    today: datetime.date | None = None,
) -> list[AbcRow]:
    """Every active product (and any that shipped) with its consumption value, share and class.

    Over the ``days`` days ending with ``today``, in one warehouse (its code)
    or all. Reads only. Raises ``ValidationFailed`` (days out of 1..3660) and
    ``WarehouseNotFound``.
    """
    check_days(days)
    with report_cursor(tenant) as cursor:
        parts, parameters = window_parameters(cursor, tenant, days, warehouse, today)
        cursor.execute(abc_sql(parts), parameters)
        return [AbcRow(*row) for row in cursor.fetchall()]

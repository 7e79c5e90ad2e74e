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
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from analytics.reports.connection import (
    check_days,
    day_start,
    fetch_all,
    last_days,
    report_cursor,
    rounded,
    warehouse_id,
)
from warehouse.models import Tenant

A_LIMIT = Decimal("0.80")
B_LIMIT = Decimal("0.95")
VALUE_PLACES = 2
SHARE_PLACES = 4

# Every product ranked by consumption value, with the running sum and the total
# the classes are decided on; the report and ``abc_classes`` read it alike.
_RANKED = """
WITH consumption AS (
    SELECT entry.product_id, sum(-entry.quantity * lot.unit_cost) AS value
      FROM inventory_ledgerentry AS entry
      JOIN inventory_lot AS lot ON lot.tenant_id = entry.tenant_id AND lot.id = entry.lot_id
     WHERE entry.tenant_id = %(tenant)s
       AND entry.kind = 'SHIP'
       AND entry.occurred_at >= %(start)s AND entry.occurred_at < %(end)s
       AND (%(warehouse)s::bigint IS NULL OR entry.warehouse_id = %(warehouse)s::bigint)
     GROUP BY entry.product_id
), ranked AS (
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
)
"""
_ABC = _RANKED + "SELECT sku, name, value, running, total FROM ranked ORDER BY position"
# Only the rows asked for, once every product is ranked: a filter outside the
# window functions does not change what they add up.
_ABC_OF = _RANKED + "SELECT sku, value, running, total FROM ranked WHERE sku = ANY(%(skus)s)"


@dataclass(frozen=True)
class AbcRow:
    sku: str
    name: str
    consumption_value: Decimal
    share: Decimal
    cumulative_share: Decimal
    abc_class: str


def classify(value: Decimal, before: Decimal) -> str:
    """The class of a product whose ranked predecessors hold the share ``before``."""
    if value <= 0:
        return "C"
    if before < A_LIMIT:
        return "A"
    if before < B_LIMIT:
        return "B"
    return "C"


def _shares(row: dict) -> tuple[Decimal, Decimal, Decimal]:
    """The exact share, cumulative share and share before ``row`` of the ranked rows."""
    total = row["total"]
    if not total:
        return Decimal(0), Decimal(0), Decimal(0)
    # From the exact sum before this row, so a share of exactly 80 % is not A.
    return (
        row["value"] / total,
        row["running"] / total,
        (row["running"] - row["value"]) / total,
    )


def _parameters(cursor, tenant: Tenant, days: int, warehouse, today) -> dict:
    first, last = last_days(days, today=today)
    return {
        "tenant": tenant.pk,
        "start": day_start(first),
        "end": day_start(last + datetime.timedelta(days=1)),
        "warehouse": warehouse_id(cursor, warehouse),
    }


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
        rows = fetch_all(cursor, _ABC, _parameters(cursor, tenant, days, warehouse, today))
    result = []
    for row in rows:
        share, cumulative, before = _shares(row)
        result.append(
            AbcRow(
                sku=row["sku"],
                name=row["name"],
                consumption_value=rounded(row["value"], VALUE_PLACES),
                share=rounded(share, SHARE_PLACES),
                cumulative_share=rounded(cumulative, SHARE_PLACES),
                abc_class=classify(row["value"], before),
            )
        )
    return result


def abc_classes(
    *,
    tenant: Tenant,
    skus: Sequence[str],
    days: int = 90,
    warehouse: str | None = None,
    today: datetime.date | None = None,
) -> dict[str, str]:
    """The ABC class of each of ``skus``, decided over every product exactly as ``abc`` does.

    For a caller that needs the class of a few products only: the ranking is
    the database's either way, but only the rows asked for come back. A SKU
    that ``abc`` would not list (unknown, or inactive and never shipped) is
    left out. Reads only. Raises as ``abc``.
    """
    check_days(days)
    if not skus:
        return {}
    with report_cursor(tenant) as cursor:
        parameters = _parameters(cursor, tenant, days, warehouse, today)
        rows = fetch_all(cursor, _ABC_OF, {**parameters, "skus": list(skus)})
    return {row["sku"]: classify(row["value"], _shares(row)[2]) for row in rows}

"""Stock valued at lot cost (FIFO layers: each lot is a layer at its own unit cost).

Today's valuation reads the balances. As of a past day it takes the balances
and subtracts every on-hand change that happened after the end of that day
(local midnight of the next day), which reads only the ledger partitions
from that day on; quarantined, rejected and expired stock is valued too.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from analytics.reports.connection import (
    ON_HAND_CONDITION,
    day_start,
    fetch_all,
    report_cursor,
    rounded,
    time_zone_name,
)
from analytics.reports.rolled import ROLLED_CLEAN, ROLLED_MONTHS, WindowParts, window_parts
from warehouse.models import Tenant

VALUE_PLACES = 2

# Today: the balances alone, summed per warehouse in one pass. A balance is
# never negative (a check constraint), so a lot holds stock in a warehouse
# exactly when one of its balances there is above zero: the layers are the
# distinct lots of those balances, and the value the sum of each balance at
# its lot's cost. Grouping by the warehouse id (not its code) keeps the sort
# on integers; the code is joined to the two or three rows that result.
_VALUATION_TODAY = """
WITH per_warehouse AS (
    SELECT balance.warehouse_id, count(DISTINCT balance.lot_id) AS lots,
           sum(balance.on_hand) AS quantity, sum(balance.on_hand * lot.unit_cost) AS value
      FROM inventory_balance AS balance
      JOIN inventory_lot AS lot ON lot.tenant_id = %(tenant)s AND lot.id = balance.lot_id
     WHERE balance.tenant_id = %(tenant)s AND balance.on_hand > 0
     GROUP BY balance.warehouse_id
)
SELECT warehouse.code AS warehouse, per_warehouse.lots, per_warehouse.quantity,
       per_warehouse.value
  FROM per_warehouse
  JOIN warehouse_warehouse AS warehouse
    ON warehouse.tenant_id = %(tenant)s AND warehouse.id = per_warehouse.warehouse_id
 ORDER BY warehouse.code_key
"""

# As of a past day: the balances less every on-hand change from ``start`` (the
# next day's local midnight) on, the rolled months of that span read from
# ``dw.ledger_month`` and the rest from the ledger (``analytics.reports.rolled``).
_LATER_COLUMNS = "entry.lot_id, entry.warehouse_id, entry.quantity AS change"


def valuation_as_of_sql(parts: WindowParts) -> str:
    """The as-of query over [``after``, ...) split into rolled months and ledger ranges."""
    return f"""
WITH {ROLLED_CLEAN}, later_parts AS ({parts.raw_entries(_LATER_COLUMNS, ON_HAND_CONDITION)}
    UNION ALL
    SELECT month.lot_id, month.warehouse_id, month.on_hand_change
      FROM dw.ledger_month AS month
     WHERE {ROLLED_MONTHS}
), later_rolled AS (
    SELECT lot_id, warehouse_id, sum(change) AS change
      FROM later_parts
     GROUP BY lot_id, warehouse_id
), now AS (
    SELECT balance.lot_id, balance.warehouse_id, sum(balance.on_hand) AS on_hand
      FROM inventory_balance AS balance
     WHERE balance.tenant_id = %(tenant)s
     GROUP BY balance.lot_id, balance.warehouse_id
), layers AS (
    SELECT coalesce(now.lot_id, later.lot_id) AS lot_id,
           coalesce(now.warehouse_id, later.warehouse_id) AS warehouse_id,
           coalesce(now.on_hand, 0) - coalesce(later.change, 0) AS on_hand
      FROM now FULL JOIN later_rolled AS later ON later.lot_id = now.lot_id
                                              AND later.warehouse_id = now.warehouse_id
)
SELECT warehouse.code AS warehouse, count(*) AS lots, sum(layers.on_hand) AS quantity,
       sum(layers.on_hand * lot.unit_cost) AS value
  FROM layers
  JOIN inventory_lot AS lot ON lot.tenant_id = %(tenant)s AND lot.id = layers.lot_id
  JOIN warehouse_warehouse AS warehouse
    ON warehouse.tenant_id = %(tenant)s AND warehouse.id = layers.warehouse_id
 WHERE layers.on_hand <> 0
 GROUP BY warehouse.code, warehouse.code_key
 ORDER BY warehouse.code_key
"""


@dataclass(frozen=True)
class WarehouseValue:
    warehouse: str
    lots: int
    quantity: Decimal
    value: Decimal


@dataclass(frozen=True)
class Valuation:
    as_of: datetime.date
    warehouses: list[WarehouseValue]
    total_quantity: Decimal
    total_value: Decimal


def valuation(
    *, tenant: Tenant, as_of: datetime.date | None = None, today: datetime.date | None = None
) -> Valuation:
    """On hand per warehouse and in total, valued at each lot's unit cost, at the end of ``as_of``.

    ``as_of`` defaults to today, and a later day is read as today. Reads only.
    """
    today = today or timezone.localdate()
    # Nothing has happened after today: a later day is valued as today.
    as_of = min(as_of or today, today)
    after = None if as_of == today else day_start(as_of + datetime.timedelta(days=1))
    with report_cursor(tenant) as cursor:
        if after is None:
            rows = fetch_all(cursor, _VALUATION_TODAY, {"tenant": tenant.pk})
        else:
            parts = window_parts(after, None)
            rows = fetch_all(
                cursor,
                valuation_as_of_sql(parts),
                {**parts.params, "tenant": tenant.pk, "time_zone": time_zone_name()},
            )
    warehouses = [
        WarehouseValue(
            warehouse=row["warehouse"],
            lots=row["lots"],
            quantity=row["quantity"],
            value=rounded(row["value"], VALUE_PLACES),
        )
        for row in rows
    ]
    return Valuation(
        as_of=as_of,
        warehouses=warehouses,
        total_quantity=sum((row["quantity"] for row in rows), Decimal("0.000")),
        total_value=rounded(sum((row["value"] for row in rows), Decimal(0)), VALUE_PLACES),
    )

"""Stock valued at lot cost (FIFO layers: each lot is a layer at its own unit cost).

Today's valuation reads the balances. As of a past day it takes the balances
and subtracts every on-hand change that happened after the end of that day
(local midnight of the next day), which reads only the ledger partitions
from that day on; quarantined, rejected and expired stock is valued too.
Whole months of that span are read from the roll-up (``dw.ledger_month``).
When the day lies in the first half of its month, the span starts at the
month's first day instead (so that month too comes from the roll-up) and
the changes from then to the end of the day are taken off again: the
ledger is read for at most half a month either way.
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
from inventory.ledger.partitions import add_months
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


def valuation_as_of_sql(parts: WindowParts, *, less_before: bool = False) -> str:
    """The as-of query: every change from ``start`` on, split into rolled months and ledger ranges.

    ``less_before``: ``start`` is the first day of the month of ``after`` and
    the changes from ``start`` to ``after`` are taken off again (read from
    the ledger), which reads fewer entries when ``after`` lies early in its
    month (that month can then be read from the roll-up).
    """
    before = (
        f"""
    UNION ALL
    SELECT entry.lot_id, entry.warehouse_id, -entry.quantity
      FROM inventory_ledgerentry AS entry
     WHERE entry.tenant_id = %(tenant)s
       AND entry.occurred_at >= %(start)s AND entry.occurred_at < %(after)s
       AND {ON_HAND_CONDITION}"""
        if less_before
        else ""
    )
    return f"""
WITH {ROLLED_CLEAN}, later_parts AS ({parts.raw_entries(_LATER_COLUMNS, ON_HAND_CONDITION)}{before}
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
            # From the start of the month when that is nearer: the ledger is
            # read from there to ``after`` instead of from ``after`` to the
            # month's end (or now).
            month_start = day_start(as_of.replace(day=1))
            month_end = day_start(add_months(as_of.replace(day=1), 1))
            less_before = after - month_start < min(month_end, timezone.now()) - after
            parts = window_parts(month_start if less_before else after, None)
            rows = fetch_all(
                cursor,
                valuation_as_of_sql(parts, less_before=less_before),
                {
                    **parts.params,
                    "tenant": tenant.pk,
                    "after": after,
                    "time_zone": time_zone_name(),
                },
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

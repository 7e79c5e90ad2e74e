"""Stock valued at lot cost (FIFO layers: each lot is a layer at its own unit cost).

Today's valuation reads the balances: per warehouse, the lots in stock, the
quantity and its value. As of a past day it takes today's quantity and
value per warehouse and subtracts every on-hand change that happened after
the end of that day (local midnight of the next day), valued at its lot's
cost (a lot's cost never changes); quarantined, rejected and expired stock
is valued too. The changes of rolled months come per day and warehouse from
the roll-up (``dw.ledger_day``), the rest from the ledger, so the read does
not grow with the number of lots or with how far back the day lies. The
number of lots in stock is given for today only (None as of a past day).
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
# Changes after the day (read from the ledger outside the rolled months).
_LATER_COLUMNS = "entry.lot_id, entry.warehouse_id, entry.quantity"
_LATER = f"""{ON_HAND_CONDITION}
       AND entry.occurred_at >= %(after)s"""


def valuation_as_of_sql(parts: WindowParts) -> str:
    """The as-of query: today's stock per warehouse less every change after the day.

    The changes of the rolled months' days after it come from
    ``dw.ledger_day`` (value at lot cost included); the rest, from the
    ledger (``parts``, from the first day of the month of ``after``).
    """
    return f"""
WITH {ROLLED_CLEAN}, now AS (
    SELECT balance.warehouse_id, sum(balance.on_hand) AS quantity,
           sum(balance.on_hand * lot.unit_cost) AS value
      FROM inventory_balance AS balance
      JOIN inventory_lot AS lot ON lot.tenant_id = %(tenant)s AND lot.id = balance.lot_id
     WHERE balance.tenant_id = %(tenant)s AND balance.on_hand > 0
     GROUP BY balance.warehouse_id
), raw AS ({parts.raw_entries(_LATER_COLUMNS, _LATER)}
), later AS (
    SELECT parts.warehouse_id, sum(parts.quantity) AS quantity, sum(parts.value) AS value
      FROM (-- The lot's cost by its key, per row: the ledger part is short.
            SELECT raw.warehouse_id, raw.quantity,
                   raw.quantity * (SELECT lot.unit_cost FROM inventory_lot AS lot
                                    WHERE lot.tenant_id = %(tenant)s AND lot.id = raw.lot_id)
                   AS value
              FROM raw
            UNION ALL
            SELECT month.warehouse_id, month.on_hand_change, month.value_change
              FROM dw.ledger_day AS month
             WHERE {ROLLED_MONTHS}
               AND month.day > %(as_of)s
           ) AS parts
     GROUP BY parts.warehouse_id
), per_warehouse AS (
    SELECT coalesce(now.warehouse_id, later.warehouse_id) AS warehouse_id,
           coalesce(now.quantity, 0) - coalesce(later.quantity, 0) AS quantity,
           coalesce(now.value, 0) - coalesce(later.value, 0) AS value
      FROM now FULL JOIN later ON later.warehouse_id = now.warehouse_id
)
SELECT warehouse.code AS warehouse, NULL::bigint AS lots, per_warehouse.quantity,
       per_warehouse.value
  FROM per_warehouse
  JOIN warehouse_warehouse AS warehouse
    ON warehouse.tenant_id = %(tenant)s AND warehouse.id = per_warehouse.warehouse_id
 -- On hand is never negative (a check on the balances), so a warehouse held stock
 -- at the end of the day exactly when its quantity then was not zero.
 WHERE per_warehouse.quantity <> 0
 ORDER BY warehouse.code_key
"""


@dataclass(frozen=True)
class WarehouseValue:
    warehouse: str
    lots: int | None  # lots in stock there: today only
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
            # Whole months from the month of ``after``: the roll-up keeps days.
            next_day = as_of + datetime.timedelta(days=1)
            parts = window_parts(day_start(next_day.replace(day=1)), None)
            rows = fetch_all(
                cursor,
                valuation_as_of_sql(parts),
                {
                    **parts.params,
                    "tenant": tenant.pk,
                    "after": after,
                    "as_of": as_of,
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

"""Turnover per product over a window, and days of supply.

Turnover is the units shipped in the window divided by the average on hand,
the mean of the on hand at the end of each day of the window. That mean is
computed from the ledger without a row per day: the on hand at the end of
day d is the opening balance plus every change up to d, so the mean is the
opening balance plus each change in the window weighted by the number of
days it counted for, divided by the window's length. The opening balance is
today's balance less every change since the window began, which reads only
the window's partitions. Days of supply: on hand now divided by the average
daily units shipped; None when nothing shipped.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from analytics.reports.connection import (
    ON_HAND_CONDITION,
    report_cursor,
)
from analytics.reports.rolled import ROLLED_CLEAN, ROLLED_MONTHS, WindowParts, window_parameters
from warehouse.models import Tenant

_COLUMNS = "entry.product_id, entry.kind, entry.quantity, entry.occurred_at"
# The window's entries read from the ledger (outside the rolled months).
_ENTRIES = f"""{ON_HAND_CONDITION}
       AND (%(warehouse)s::bigint IS NULL OR entry.warehouse_id = %(warehouse)s::bigint)"""


def turnover_sql(parts: WindowParts, tail: str = "") -> str:
    """The report's query over the window ``parts`` split into rolled months and ledger ranges.

    Its CTEs end with ``report`` (every row); ``tail`` reads it (every row, by SKU).
    """
    return f"""
WITH {ROLLED_CLEAN}, now AS (
    -- Balances at zero add nothing (most of them, on a ledger with history).
    SELECT balance.product_id, sum(balance.on_hand) AS on_hand
      FROM inventory_balance AS balance
     WHERE balance.tenant_id = %(tenant)s AND balance.on_hand > 0
       AND (%(warehouse)s::bigint IS NULL OR balance.warehouse_id = %(warehouse)s::bigint)
     GROUP BY balance.product_id
), raw AS (
    SELECT entry.product_id,
           sum(entry.quantity) AS since_start,
           sum(entry.quantity * (%(last)s::date
                                 - (entry.occurred_at AT TIME ZONE %(time_zone)s)::date + 1))
               FILTER (WHERE entry.occurred_at < %(end)s) AS weighted,
           sum(-entry.quantity) FILTER (WHERE entry.kind = 'SHIP' AND entry.occurred_at < %(end)s)
               AS shipped
      FROM ({parts.raw_entries(_COLUMNS, _ENTRIES)}
           ) AS entry
     GROUP BY entry.product_id
), rolled AS (
    -- Each month's weighted change counted from the window's last day:
    -- sum(q x (last + 1 - day)) = (last + 1) x sum(q) - sum(q x day).
    -- Summed first, multiplied once per product.
    SELECT month.product_id,
           sum(month.on_hand_change) AS since_start,
           (%(last)s::date - DATE '2000-01-01' + 1) * sum(month.on_hand_change)
               - sum(month.weighted_change) AS weighted,
           sum(month.shipped) AS shipped
      FROM dw.ledger_month_product AS month
     WHERE {ROLLED_MONTHS}
       AND (%(warehouse)s::bigint IS NULL OR month.warehouse_id = %(warehouse)s::bigint)
     GROUP BY month.product_id
), changes AS (
    SELECT product_id, sum(since_start) AS since_start, sum(weighted) AS weighted,
           sum(shipped) AS shipped
      FROM (SELECT * FROM raw UNION ALL SELECT * FROM rolled) AS parts
     GROUP BY product_id
), figures AS (
    SELECT product.sku, product.name, product.sku_key, product.id,
           coalesce(changes.shipped, 0.000) AS shipped,
           coalesce(now.on_hand, 0.000) AS on_hand,
           -- The mean of the window's daily closing on hand (see the module's docstring).
           coalesce(now.on_hand, 0) - coalesce(changes.since_start, 0)
               + coalesce(changes.weighted, 0) / %(days)s AS average
      FROM inventory_product AS product
      LEFT JOIN now ON now.product_id = product.id
      LEFT JOIN changes ON changes.product_id = product.id
     WHERE product.tenant_id = %(tenant)s
       AND (now.product_id IS NOT NULL OR changes.product_id IS NOT NULL)
), report AS (
    SELECT sku, name, shipped, round(average, 3) AS average_on_hand, on_hand,
           CASE WHEN average > 0 THEN round(shipped / average, 2) END AS turnover,
           CASE WHEN shipped > 0 THEN round(on_hand * %(days)s / shipped, 1) END
               AS days_of_supply,
           sku_key, id
      FROM figures
)
""" + (tail or _EVERY_ROW)


_COLUMNS_OUT = "sku, name, shipped, average_on_hand, on_hand, turnover, days_of_supply"
_EVERY_ROW = f"SELECT {_COLUMNS_OUT} FROM report ORDER BY sku_key, id"
_COUNT = "SELECT count(*) FROM report"

# What each sortable column of the report sorts by: text in code point order
# (as Python compares it), every direction with the rows without a value last.
ORDER_KEYS = {
    "sku": 'sku COLLATE "C"',
    "name": 'name COLLATE "C"',
    "shipped": "shipped",
    "average_on_hand": "average_on_hand",
    "on_hand": "on_hand",
    "turnover": "turnover",
    "days_of_supply": "days_of_supply",
}


def _page_sql(order: Sequence[str]) -> str:
    """One page in ``order`` (column names, ``-`` first for descending; unknown ones skipped).

    Ties keep the report's order (SKU). With the figures the cards read over
    every row, counted before the page is cut.
    """
    keys = [
        f"{ORDER_KEYS[alias.lstrip('-')]} {'DESC' if alias.startswith('-') else 'ASC'} NULLS LAST"
        for alias in order
        if alias.lstrip("-") in ORDER_KEYS
    ]
    return f"""
SELECT {_COLUMNS_OUT},
       count(*) OVER () AS rows_counted,
       count(*) FILTER (WHERE shipped = 0) OVER () AS idle,
       count(*) FILTER (WHERE turnover < 1) OVER () AS slow
  FROM report
 ORDER BY {", ".join([*keys, "sku_key", "id"])}
 LIMIT %(limit)s OFFSET %(offset)s
"""


@dataclass(slots=True)
class TurnoverRow:
    sku: str
    name: str
    shipped: Decimal
    average_on_hand: Decimal
    on_hand: Decimal
    turnover: Decimal | None
    days_of_supply: Decimal | None


def turnover(
    *,
    tenant: Tenant,
    days: int = 90,
    warehouse: str | None = None,
    today: datetime.date | None = None,
) -> list[TurnoverRow]:
    """Each product with stock or movements: shipped, average on hand, turnover, days of supply.

    Over the ``days`` days ending with ``today`` (1 to 3660), in one warehouse
    (its code) or all. Turnover is rounded to 2 decimals, the average on hand
    to 3 and days of supply to 1; turnover is None when the average on hand is
    not positive. Reads only. Raises ``ValidationFailed``, ``WarehouseNotFound``.
    """
    with report_cursor(tenant) as cursor:
        parts, parameters = window_parameters(cursor, tenant, days, warehouse, today)
        cursor.execute(turnover_sql(parts), parameters)
        return [TurnoverRow(*row) for row in cursor.fetchall()]


@dataclass(frozen=True)
class TurnoverPage:
    """One page of the report, with what the screen's cards count over every row."""

    rows: list[TurnoverRow]
    count: int  # rows of the whole report
    idle: int  # products that shipped nothing
    slow: int  # products that turned less than once


def turnover_page(
    *,
    tenant: Tenant,
    days: int = 90,
    warehouse: str | None = None,
    today: datetime.date | None = None,
    order: Sequence[str] = (),
    limit: int,
    offset: int = 0,
) -> TurnoverPage:
    """``limit`` rows of ``turnover`` from ``offset``, sorted by ``order`` in the database.

    ``order`` names columns of ``TurnoverRow`` (``-`` first: descending;
    others are ignored); ties, and no order, keep the report's (by SKU).
    Every row is still figured, but only the page is read back. Raises as
    ``turnover``.
    """
    with report_cursor(tenant) as cursor:
        parts, parameters = window_parameters(cursor, tenant, days, warehouse, today)
        parameters = {**parameters, "limit": limit, "offset": offset}
        cursor.execute(turnover_sql(parts, _page_sql(order)), parameters)
        rows = cursor.fetchall()
        if not rows and offset > 0:
            # Past the last row: nothing to show, but the count still matters.
            cursor.execute(turnover_sql(parts, _COUNT), parameters)
            return TurnoverPage(rows=[], count=cursor.fetchone()[0], idle=0, slow=0)
    counted = rows[0][7:] if rows else (0, 0, 0)
    return TurnoverPage(
        rows=[TurnoverRow(*row[:7]) for row in rows],
        count=counted[0],
        idle=counted[1],
        slow=counted[2],
    )

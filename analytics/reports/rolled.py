"""Reading a window of the ledger partly from the roll-up (``dw.ledger_month`` and kin).

``window_parts(start, end)`` splits a report window into the months that
begin inside it (up to the month of now: the current month, rolled up to a
watermark, counts too, and so does a month the window ends in) and the rest.
The query built from it reads, in one statement (so one snapshot decides
everything):

* ``rolled_clean`` (a CTE): which of those months are rolled up to a
  watermark (``rolled_until``) no later than the window's end in that month
  (``month_limits``) and not older than ``WATERMARK_FRESHNESS`` (or the
  month's end; ``month_floors``), have no dirty mark and were rolled in the
  site's current time zone;
* those months from the roll-up (``ROLLED_MONTHS``): their entries
  before the watermark;
* every other part of the window from the ledger (``WindowParts.raw_entries``):
  the part before the first month; each month not rolled clean, behind a
  one-time filter (``NOT EXISTS`` it among ``rolled_clean``: the executor
  skips the scan of a rolled month); for a month whose end is within
  ``WATERMARK_FRESHNESS``, its tail from the watermark on, inside the
  constant range [floor, month end) (an ``InitPlan`` gives the watermark, a
  run-time bound of the index range); and everything from the end of the
  last month on. Each range has constant bounds, so the planner prunes
  partitions and estimates rows as for a plain window read.

A month with a dirty mark (a back-dated entry, committed with its mark) is
read from the ledger until it is rolled again, so every report stays exact.
The query's parameters: ``tenant`` and ``time_zone``, plus ``WindowParts.params``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

from analytics.reports.connection import day_start, last_days, time_zone_name, warehouse_id
from inventory.ledger.partitions import add_months
from warehouse.models import Tenant

# How old a month's watermark may be for the month to be read from the roll-up.
WATERMARK_FRESHNESS = datetime.timedelta(hours=6)

# The longest report window (``MAX_WINDOW_DAYS``) spans at most 121 months.
MAX_MONTHS = 121

ROLLED_CLEAN = """
rolled_clean AS (
    SELECT rolled.month, rolled.rolled_until
      FROM dw.ledger_month_rolled AS rolled
      JOIN unnest(%(whole_months)s::date[], %(month_floors)s::timestamptz[],
                  %(month_limits)s::timestamptz[])
           AS part(month, floor_at, limit_at) ON part.month = rolled.month
     WHERE rolled.tenant_id = %(tenant)s
       AND rolled.rolled_until >= part.floor_at
       AND rolled.rolled_until <= part.limit_at
       AND EXISTS (SELECT FROM dw.settings WHERE settings.time_zone = %(time_zone)s)
       AND NOT EXISTS (SELECT FROM dw.ledger_month_dirty AS dirty
                        WHERE dirty.tenant_id = rolled.tenant_id AND dirty.month = rolled.month)
)"""

# The rolled clean months, on ``dw.ledger_month AS month`` (or ``dw.ledger_day``).
# The constant range of the window's months lets the planner read them by the
# primary key (tenant, month, ...) and estimate their rows, rather than scan
# the whole roll-up for the months the subquery names.
ROLLED_MONTHS = """
    month.tenant_id = %(tenant)s
    AND month.month >= %(first_month)s::date AND month.month <= %(last_month)s::date
    AND month.month = ANY(ARRAY(SELECT rolled_clean.month FROM rolled_clean))"""


@dataclass(frozen=True)
class WindowParts:
    whole_months: list[datetime.date]
    params: dict

    def raw_entries(self, columns: str, condition: str) -> str:
        """``columns`` of the tenant's entries outside the rolled clean months, if ``condition``.

        On ``inventory_ledgerentry AS entry``. The ranges run from ``start``
        with no end (a report that needs one puts it in ``condition``).
        """
        if not self.whole_months:
            ranges = ["entry.occurred_at >= %(start)s"]
        else:
            ranges = ["entry.occurred_at >= %(start)s AND entry.occurred_at < %(whole_start)s"]
            for index in range(len(self.whole_months)):
                # Not rolled clean: the whole month.
                ranges.append(
                    f"entry.occurred_at >= %(month_{index}_start)s "
                    f"AND entry.occurred_at < %(month_{index}_end)s "
                    f"AND NOT EXISTS (SELECT FROM rolled_clean "
                    f"WHERE rolled_clean.month = %(month_{index})s::date)"
                )
                if f"month_{index}_tail" in self.params:
                    # Rolled clean up to a watermark: from it on, inside the
                    # constant range where it may lie (``month_floors``).
                    ranges.append(
                        f"entry.occurred_at >= %(month_{index}_tail)s "
                        f"AND entry.occurred_at < %(month_{index}_end)s "
                        f"AND entry.occurred_at >= (SELECT rolled_clean.rolled_until "
                        f"FROM rolled_clean WHERE rolled_clean.month = %(month_{index})s::date)"
                    )
            ranges.append("entry.occurred_at >= %(whole_end)s")
        return "\n    UNION ALL\n".join(
            f"""
    SELECT {columns}
      FROM inventory_ledgerentry AS entry
     WHERE entry.tenant_id = %(tenant)s
       AND {bounds}
       AND {condition}"""
            for bounds in ranges
        )


def window_parts(start: datetime.datetime, end: datetime.datetime | None) -> WindowParts:
    """The months beginning inside [``start``, ``end``) (``end`` None: open) and the bounds.

    ``start`` and ``end`` are local midnights (``day_start``).
    """
    zone = ZoneInfo(time_zone_name())

    def midnight(month: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(month, datetime.time.min, tzinfo=zone)

    first_day = start.astimezone(zone).date()
    first = first_day if first_day.day == 1 else add_months(first_day.replace(day=1), 1)
    # Months after the current one are never rolled: they are read from the ledger.
    stop = add_months(timezone.localtime(timezone.now(), zone).date().replace(day=1), 1)
    if end is not None:
        last_day = (end - datetime.timedelta(microseconds=1)).astimezone(zone).date()
        stop = min(stop, add_months(last_day.replace(day=1), 1))
    # Each month is a branch of the query: an open window (as of year 1) is read
    # from the ledger before the last MAX_MONTHS months.
    first = max(first, add_months(stop, -MAX_MONTHS))
    months = []
    month = first
    while month < stop:
        months.append(month)
        month = add_months(month, 1)
    # A month rolled up to a watermark older than this is read from the ledger
    # (the job moves it every few minutes): the tail after a watermark lies
    # in a short constant range, which the planner reads by index.
    floor = timezone.now() - WATERMARK_FRESHNESS
    floors = [min(floor, midnight(add_months(month, 1))) for month in months]
    limits = [
        midnight(add_months(month, 1)) if end is None else min(end, midnight(add_months(month, 1)))
        for month in months
    ]
    params = {
        "start": start,
        # None (no month of the window is whole): no row of the roll-up is read.
        "first_month": months[0] if months else None,
        "last_month": months[-1] if months else None,
        "whole_months": months,
        "month_floors": floors,
        "month_limits": limits,
    }
    if months:
        params["whole_start"] = midnight(months[0])
        params["whole_end"] = midnight(add_months(months[-1], 1))
        for index, month in enumerate(months):
            params[f"month_{index}"] = month
            params[f"month_{index}_start"] = midnight(month)
            params[f"month_{index}_end"] = midnight(add_months(month, 1))
            if floors[index] < params[f"month_{index}_end"]:
                params[f"month_{index}_tail"] = max(floors[index], midnight(month))
    return WindowParts(whole_months=months, params=params)


def window_parameters(
    cursor, tenant: Tenant, days: int, warehouse: str | None, today: datetime.date | None
) -> tuple[WindowParts, dict]:
    """The window of the ``days`` days ending ``today`` and the parameters its SQL reads.

    ``tenant``, ``warehouse`` (the id of that code, or None), the window's
    ``end`` (the local midnight after its last day), its ``last`` day, its
    length ``days`` and the ``time_zone``, with the parts' own. Raises
    ``ValidationFailed`` (days out of range) and ``WarehouseNotFound``.
    """
    first, last = last_days(days, today=today)
    end = day_start(last + datetime.timedelta(days=1))
    parts = window_parts(day_start(first), end)
    return parts, {
        **parts.params,
        "tenant": tenant.pk,
        "end": end,
        "last": last,
        "days": days,
        "warehouse": warehouse_id(cursor, warehouse),
        "time_zone": time_zone_name(),
    }

"""Reading a window of the ledger partly from the monthly roll-up (``dw.ledger_month``).

A report window [start, end) (``end`` may be open) is split in the same
query that reads it, so the split and the reads share one snapshot:

* ``ROLLED_RUN`` (two CTEs) finds the months of the tenant that are rolled,
  have no dirty mark, lie wholly inside the window, and are rolled for the
  site's current time zone; of those it keeps the run of consecutive months
  that starts with the first one, as ``rolled_run(first_month, after_month,
  first_start, after_start)`` (all NULL without one);
* those months are read from ``dw.ledger_month`` (``ROLLED_MONTHS``);
* the rest of the window is read from the ledger as two ranges,
  [start, first_start) and [after_start, ...) (``raw_entries``), each bound
  by a value the executor knows at start, so it prunes each range's
  partitions.

A month with a dirty mark (a back-dated entry, committed with its mark) is
read from the ledger until it is rolled again, so every report stays exact.
Parameters: ``tenant``, ``start``, ``end`` (None: open) and ``time_zone``.
"""

ROLLED_RUN = """
rolled_clean AS (
    SELECT rolled.month,
           (extract(year FROM rolled.month) * 12 + extract(month FROM rolled.month))::bigint
               - row_number() OVER (ORDER BY rolled.month) AS island
      FROM dw.ledger_month_rolled AS rolled
     WHERE rolled.tenant_id = %(tenant)s
       AND rolled.month >= (%(start)s::timestamptz AT TIME ZONE %(time_zone)s)::date
       AND (%(end)s::timestamptz IS NULL
            OR rolled.month + interval '1 month'
               <= (%(end)s::timestamptz AT TIME ZONE %(time_zone)s))
       AND EXISTS (SELECT FROM dw.settings WHERE settings.time_zone = %(time_zone)s)
       AND NOT EXISTS (SELECT FROM dw.ledger_month_dirty AS dirty
                        WHERE dirty.tenant_id = rolled.tenant_id AND dirty.month = rolled.month)
), rolled_run AS (
    SELECT min(month) AS first_month,
           (max(month) + interval '1 month')::date AS after_month,
           min(month)::timestamp AT TIME ZONE %(time_zone)s AS first_start,
           (max(month) + interval '1 month') AT TIME ZONE %(time_zone)s AS after_start
      FROM rolled_clean
     WHERE island = (SELECT min(island) FROM rolled_clean)
)"""

# The rolled months of the run, on ``dw.ledger_month AS month``.
ROLLED_MONTHS = """
    month.tenant_id = %(tenant)s
    AND month.month >= (SELECT first_month FROM rolled_run)
    AND month.month < (SELECT after_month FROM rolled_run)"""


def raw_entries(columns: str, condition: str) -> str:
    """``columns`` of the tenant's entries in the window outside the run, meeting ``condition``.

    On ``inventory_ledgerentry AS entry``; ``condition`` bounds the end when
    the report needs it (the ranges end at the run's start and go on after it).
    """
    ranges = (
        "entry.occurred_at >= %(start)s "
        "AND entry.occurred_at < coalesce((SELECT first_start FROM rolled_run), 'infinity')",
        "entry.occurred_at >= (SELECT after_start FROM rolled_run)",
    )
    return "\n    UNION ALL\n".join(
        f"""
    SELECT {columns}
      FROM inventory_ledgerentry AS entry
     WHERE entry.tenant_id = %(tenant)s
       AND {bounds}
       AND {condition}"""
        for bounds in ranges
    )

"""Background tasks of the analytics app, run by procrastinate's worker.

procrastinate finds this module as it finds ``inventory/tasks.py`` (the
``tasks`` module of every installed app); the same guarantees hold: one
deferral per tick, at most one job of a task waiting, one running at a time,
a few retries. The bodies live in ``analytics/jobs.py``.
"""

from django.conf import settings
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from analytics import dw, jobs

RETRY = RetryStrategy(max_attempts=3, exponential_wait=2)


def _serial(name: str) -> dict:
    return {"name": name, "queueing_lock": name, "lock": name, "retry": RETRY}


def refresh_cron(minutes: int) -> str:
    """Every ``minutes`` minutes (1 to 60) as a cron expression.

    A step that does not divide 60 restarts at each full hour (``*/7``: minute
    0, 7, ... 56, then 0 again), as cron steps do.
    """
    if minutes == 60:
        return "0 * * * *"
    return f"*/{minutes} * * * *"


@app.periodic(cron=refresh_cron(settings.DW_REFRESH_MINUTES))
@app.task(**_serial("analytics.refresh_current_stock"))
def refresh_current_stock(timestamp: int) -> str:
    return jobs.refresh_current_stock()


@app.periodic(cron="23 * * * *")
@app.task(**_serial("analytics.update_dimensions"))
def update_dimensions(timestamp: int) -> str:
    return jobs.update_dimensions()


# Cron times are UTC; "yesterday" is the site's (TIME_ZONE), a day that has
# ended whatever the offset.
@app.periodic(cron="30 0 * * *")
@app.task(**_serial("analytics.snapshot_yesterday"))
def snapshot_yesterday(timestamp: int) -> str:
    return jobs.snapshot_yesterday()


# Every 10 minutes: each run rolls the current month up to a new watermark
# (an hour back; about 0.6 s for a tenant with 200,000 entries a month), so
# the reports read at most the last 70 minutes from the ledger; a back-dated
# entry's month is read from the ledger only until the next run.
@app.periodic(cron="1-59/10 * * * *")
@app.task(**_serial("analytics.roll_ledger_months"))
def roll_ledger_months(timestamp: int) -> str:
    summary = dw.roll_ledger_months()
    return (
        f"rolled {summary.months} months of the ledger: {summary.rows} rows, "
        f"{summary.marks_cleared} dirty marks cleared"
    )

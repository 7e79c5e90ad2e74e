"""The bodies of the analytics jobs (scheduled in ``analytics/tasks.py``).

Each spans every tenant on the ``maintenance`` connection, the narrow
cross-tenant path, and returns a one-line summary for the worker's log.
"""

import datetime

from django.utils import timezone

from analytics import dw


def refresh_current_stock() -> str:
    refresh = dw.refresh_current_stock()
    return f"refreshed dw.current_stock_mv in {refresh.duration_ms} ms"


def update_dimensions() -> str:
    changes = dw.update_dimensions()
    return ", ".join(
        f"{name}: closed {change.closed}, opened {change.opened}"
        for name, change in changes.items()
    )


def snapshot_yesterday() -> str:
    day = timezone.localdate() - datetime.timedelta(days=1)
    return f"snapshot of {day}: {dw.take_snapshot(day)} rows"

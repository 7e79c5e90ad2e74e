"""The ``dw`` schema from Python: current stock, SCD2 dimensions and daily snapshots.

Reads (``current_stock``, ``freshness``, ``snapshot_rows``) run as the app
role inside the caller's tenant context. Writes (``refresh_current_stock``,
``update_dimensions``, ``take_snapshot``, ``roll_ledger_months``) are the jobs' narrow cross-tenant
path: they run on the ``maintenance`` connection.
"""

from analytics.dw.current_stock import (
    CurrentStock,
    Freshness,
    Refresh,
    current_stock,
    freshness,
    refresh_current_stock,
)
from analytics.dw.dimensions import (
    DIMENSIONS,
    DimensionChanges,
    update_dimension,
    update_dimensions,
)
from analytics.dw.rollup import RollSummary, roll_ledger_months
from analytics.dw.snapshots import SnapshotRow, snapshot_rows, take_snapshot

__all__ = [
    "DIMENSIONS",
    "CurrentStock",
    "DimensionChanges",
    "Freshness",
    "Refresh",
    "RollSummary",
    "SnapshotRow",
    "current_stock",
    "freshness",
    "refresh_current_stock",
    "roll_ledger_months",
    "snapshot_rows",
    "take_snapshot",
    "update_dimension",
    "update_dimensions",
]

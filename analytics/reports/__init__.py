"""The analytics reports: one module per report, each a selector returning plain rows.

Each selector takes the tenant and opens its own read transaction for it on
the report connection (``connection.report_connection``): raw SQL as the app
role, under row-level security. The rows are dataclasses that the JSON API,
the screens and a CSV export can all use.
"""

from analytics.reports.abc import AbcRow, abc
from analytics.reports.aging import Aging, AgingBucket, aging
from analytics.reports.connection import report_connection
from analytics.reports.demand import DemandDay, demand
from analytics.reports.history import HistoryDay, stock_history
from analytics.reports.low_stock import LowStock, low_stock
from analytics.reports.stockouts import StockOut, stock_outs
from analytics.reports.turnover import TurnoverPage, TurnoverRow, turnover, turnover_page
from analytics.reports.valuation import Valuation, WarehouseValue, valuation

__all__ = [
    "AbcRow",
    "Aging",
    "AgingBucket",
    "DemandDay",
    "HistoryDay",
    "LowStock",
    "StockOut",
    "TurnoverPage",
    "TurnoverRow",
    "Valuation",
    "WarehouseValue",
    "abc",
    "aging",
    "demand",
    "low_stock",
    "report_connection",
    "stock_history",
    "stock_outs",
    "turnover",
    "turnover_page",
    "valuation",
]

"""What each report screen shows: one small ``ReportSpec`` per report.

A spec names the report's selector call, its filter form and table, the
figures read first (cards), the charts, the sentence for an empty report and
the columns of its CSV export. ``analytics.web.reports`` draws every report
screen from its spec.

Charts are data only (``json_script``): ``static/js/charts.js`` turns each
``kind`` into a Chart.js chart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.dateformat import format as format_date

from analytics import reports
from analytics.web import report_forms as forms
from analytics.web import report_tables as tables
from inventory.templatetags.stock import day, money, quantity_in

# The Pareto chart draws the products with the highest consumption value, not thousands of bars.
PARETO_PRODUCTS = 50


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    name: str  # the card's test id
    note: str = ""


@dataclass(frozen=True)
class Chart:
    name: str  # the element ids: chart-<name> and chart-<name>-data
    title: str
    data: dict  # what charts.js draws: a "kind" and its series
    note: str = ""

    @property
    def data_id(self) -> str:
        return f"chart-{self.name}-data"


@dataclass(frozen=True)
class ReportSpec:
    name: str  # the URL name, and the CSV's: "<name>-csv"
    title: str
    subtitle: str
    form_class: type[forms.ReportForm]
    table_class: type[tables.ReportTable]
    read: Callable[..., object]  # the selector, called with tenant= and the filters
    csv_columns: tuple[tuple[str, str], ...]  # (header, attribute of a row)
    rows: Callable[[object], list] = list
    # The figures read first; ``uom`` is the unit of the one product filtered, if any.
    cards: Callable[..., list[Card]] = lambda result, filters, uom=None: []
    charts: Callable[[object, dict], list[Chart]] = lambda result, filters: []
    # The sentence shown instead of the charts when there is nothing to read.
    empty: Callable[[object, dict], str | None] = lambda result, filters: None
    # Whose unit the quantities are in: the products on the page ("sku"), the filtered one.
    units: str | None = None
    file_stem: str = ""  # the CSV file name begins so (else with the name)
    # A reader of one page sorted in the database (called with tenant=, the
    # filters, order=, limit= and offset=; its result has ``rows`` and
    # ``count``): the screen then reads that page rather than every row. The
    # CSV still reads every row with ``read``.
    page: Callable[..., object] | None = None

    @property
    def url_name(self) -> str:
        return f"analytics:{self.name}"

    @property
    def csv_url_name(self) -> str:
        return f"analytics:{self.name}-csv"


def _window(filters: dict) -> str:
    days = filters.get("days")
    where = f" in {filters['warehouse']}" if filters.get("warehouse") else ""
    return f"the last {days} days{where}" if days else f"all warehouses{where}"


def _float(value) -> float:
    return float(value or 0)


def _amount(value, uom: str | None, *, exact: bool = True) -> str:
    """A quantity in its unit (``1,550.000 kg``); an average keeps the ledger's three decimals."""
    text = quantity_in(value, uom if exact else None)
    return f"{text} {uom}" if uom else text


def _axis_day(value) -> str:
    """A day on a chart's axis, short enough for a phone: ``29 Nov``."""
    return format_date(value, "j M")


# -- ABC ---------------------------------------------------------------------------------


def _abc_cards(rows: list[reports.AbcRow], filters: dict, uom=None) -> list[Card]:
    total = sum((row.consumption_value for row in rows), Decimal(0))
    counts = {name: sum(1 for row in rows if row.abc_class == name) for name in "ABC"}
    return [
        Card(
            "Consumption value",
            money(total),
            "total-value",
            f"Shipped at lot cost, {_window(filters)}",
        ),
        Card("Class A", str(counts["A"]), "class-a", "Products making the first 80 %"),
        Card("Class B", str(counts["B"]), "class-b", "The next 15 %"),
        Card("Class C", str(counts["C"]), "class-c", "The rest, and products not shipped"),
    ]


def _abc_charts(rows: list[reports.AbcRow], filters: dict) -> list[Chart]:
    shipped = [row for row in rows if row.consumption_value > 0]
    top = shipped[:PARETO_PRODUCTS]
    if not top:
        return []
    note = (
        f"The top {len(top)} of {len(shipped)} products that shipped, by consumption value."
        if len(shipped) > len(top)
        else f"All {len(top)} products that shipped, by consumption value."
    )
    return [
        Chart(
            "pareto",
            "Pareto of consumption value",
            {
                "kind": "pareto",
                "labels": [row.sku for row in top],
                "values": [_float(row.consumption_value) for row in top],
                "cumulative": [round(_float(row.cumulative_share) * 100, 1) for row in top],
                "marks": [80, 95],
            },
            note,
        )
    ]


ABC = ReportSpec(
    name="abc",
    title="ABC analysis",
    subtitle="Products ranked by consumption value (shipped quantity at lot cost): "
    "A makes the first 80 %, B the next 15 %, C the rest.",
    form_class=forms.WindowForm,
    table_class=tables.AbcTable,
    read=reports.abc,
    csv_columns=(
        ("sku", "sku"),
        ("product", "name"),
        ("consumption_value", "consumption_value"),
        ("share", "share"),
        ("cumulative_share", "cumulative_share"),
        ("class", "abc_class"),
    ),
    cards=_abc_cards,
    charts=_abc_charts,
    empty=lambda rows, filters: (
        None
        if any(row.consumption_value for row in rows)
        else f"Nothing shipped in {_window(filters)}. Widen the window."
    ),
)


# -- aging -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgingRow:
    measure: str
    bucket: str
    quantity: Decimal
    value: Decimal


def _aging_rows(result: reports.Aging) -> list[AgingRow]:
    return [
        *(AgingRow("Age", b.bucket + " days", b.quantity, b.value) for b in result.by_age),
        *(
            AgingRow(
                "Expiry",
                b.bucket if b.bucket in ("expired", "no expiry", "later") else f"{b.bucket} days",
                b.quantity,
                b.value,
            )
            for b in result.by_expiry
        ),
    ]


def _bucket_value(buckets: list[reports.AgingBucket], name: str) -> Decimal:
    return next((bucket.value for bucket in buckets if bucket.bucket == name), Decimal(0))


def _aging_cards(result: reports.Aging, filters: dict, uom=None) -> list[Card]:
    total = sum((bucket.value for bucket in result.by_age), Decimal(0))
    return [
        Card("Stock value", money(total), "total-value", "On hand now, at lot cost"),
        Card(
            "Over 180 days old",
            money(_bucket_value(result.by_age, "over 180")),
            "value-old",
            "Received more than 180 days ago",
        ),
        Card(
            "Expired",
            money(_bucket_value(result.by_expiry, "expired")),
            "value-expired",
            "Still on hand past its expiry date",
        ),
        Card(
            "Expiring within 30 days",
            money(_bucket_value(result.by_expiry, "within 30")),
            "value-expiring",
        ),
    ]


def _buckets_chart(name, title, buckets) -> Chart:
    return Chart(
        name,
        title,
        {
            "kind": "bars",
            "labels": [bucket.bucket for bucket in buckets],
            "values": [_float(bucket.value) for bucket in buckets],
            "label": "Value",
        },
    )


AGING = ReportSpec(
    name="aging",
    title="Stock aging",
    subtitle="What is on hand now, by how long ago its lot was received and by how long "
    "until it expires, valued at lot cost.",
    form_class=forms.WarehouseForm,
    table_class=tables.AgingTable,
    read=reports.aging,
    rows=_aging_rows,
    csv_columns=(
        ("by", "measure"),
        ("bucket", "bucket"),
        ("quantity", "quantity"),
        ("value", "value"),
    ),
    cards=_aging_cards,
    charts=lambda result, filters: [
        _buckets_chart("age", "Value by age since receipt", result.by_age),
        _buckets_chart("expiry", "Value by time to expiry", result.by_expiry),
    ],
    empty=lambda result, filters: (
        None
        if any(bucket.quantity for bucket in result.by_age)
        else "Nothing is on hand here. Receive stock, or choose another warehouse."
    ),
)


# -- turnover ----------------------------------------------------------------------------


def _turnover_cards(page: reports.TurnoverPage, filters: dict, uom=None) -> list[Card]:
    # Counted by the database over every row (``turnover_page``), not over the page.
    idle, slow = page.idle, page.slow
    return [
        Card(
            "Products", str(page.count), "products", f"With stock or movements, {_window(filters)}"
        ),
        Card("Shipped nothing", str(idle), "idle", "Stock that did not move out"),
        Card("Turned less than once", str(slow), "slow", "Turnover below 1"),
    ]


TURNOVER = ReportSpec(
    name="turnover",
    title="Turnover",
    subtitle="Units shipped over the average on hand, and how many days the stock on hand "
    "lasts at the rate it shipped.",
    form_class=forms.WindowForm,
    table_class=tables.TurnoverTable,
    read=reports.turnover,
    csv_columns=(
        ("sku", "sku"),
        ("product", "name"),
        ("shipped", "shipped"),
        ("average_on_hand", "average_on_hand"),
        ("on_hand", "on_hand"),
        ("turnover", "turnover"),
        ("days_of_supply", "days_of_supply"),
    ),
    cards=_turnover_cards,
    empty=lambda page, filters: (
        None
        if page.count
        else f"No stock and no movements in {_window(filters)}. Widen the window."
    ),
    units="sku",
    page=reports.turnover_page,
)


# -- demand ------------------------------------------------------------------------------


def _demand_cards(days: list[reports.DemandDay], filters: dict, uom=None) -> list[Card]:
    total = sum((row.shipped for row in days), Decimal(0))
    peak = max(days, key=lambda row: row.shipped, default=None)
    average = total / len(days) if days else Decimal(0)
    return [
        Card("Shipped", _amount(total, uom), "total-shipped", _window(filters).capitalize()),
        Card("A day on average", _amount(average, uom, exact=False), "daily-average"),
        Card(
            "Busiest day",
            day(peak.day) if peak and peak.shipped else "—",
            "peak-day",
            _amount(peak.shipped, uom) + " shipped" if peak and peak.shipped else "",
        ),
    ]


def _demand_charts(days: list[reports.DemandDay], filters: dict) -> list[Chart]:
    return [
        Chart(
            "demand",
            "Shipped per day",
            {
                "kind": "demand",
                "labels": [_axis_day(row.day) for row in days],
                "values": [_float(row.shipped) for row in days],
                "average_7": [_float(row.average_7) for row in days],
                "average_28": [_float(row.average_28) for row in days],
            },
        )
    ]


DEMAND = ReportSpec(
    name="demand",
    title="Demand",
    subtitle="Units shipped each day, with the 7- and 28-day rolling averages.",
    form_class=forms.DemandForm,
    table_class=tables.DemandTable,
    read=reports.demand,
    csv_columns=(
        ("day", "day"),
        ("shipped", "shipped"),
        ("average_7", "average_7"),
        ("average_28", "average_28"),
    ),
    cards=_demand_cards,
    charts=_demand_charts,
    empty=lambda days, filters: (
        None
        if any(row.shipped for row in days)
        else f"Nothing shipped in {_window(filters)}. Widen the window."
    ),
    units="product",
)


# -- stock history -----------------------------------------------------------------------


def _history_cards(days: list[reports.HistoryDay], filters: dict, uom=None) -> list[Card]:
    if not days:
        return []
    lowest = min(days, key=lambda row: row.on_hand)
    return [
        Card(f"On hand {day(days[0].day)}", _amount(days[0].on_hand, uom), "first-on-hand"),
        Card(f"On hand {day(days[-1].day)}", _amount(days[-1].on_hand, uom), "last-on-hand"),
        Card("Lowest", _amount(lowest.on_hand, uom), "lowest", f"On {day(lowest.day)}"),
    ]


HISTORY = ReportSpec(
    name="history",
    title="Stock history",
    subtitle="A product's on hand at the end of each day, from the ledger "
    "(every lot, whatever its QC status).",
    form_class=forms.HistoryForm,
    table_class=tables.HistoryTable,
    read=reports.stock_history,
    csv_columns=(("day", "day"), ("on_hand", "on_hand")),
    cards=_history_cards,
    charts=lambda days, filters: (
        [
            Chart(
                "history",
                f"On hand of {filters['sku']}",
                {
                    "kind": "line",
                    "labels": [_axis_day(row.day) for row in days],
                    "values": [_float(row.on_hand) for row in days],
                    "label": "On hand",
                },
            )
        ]
        if days
        else []
    ),
    empty=lambda days, filters: (
        None
        if days
        else "No days in this range. Choose a first day on or before the last, within ten years."
    ),
    units="product",
    file_stem="stock-history",
)


# -- valuation ---------------------------------------------------------------------------

# Cards for at most this many warehouses; the table lists every one.
VALUATION_CARDS = 4


def _valuation_cards(result: reports.Valuation, filters: dict, uom=None) -> list[Card]:
    return [
        Card(
            "Stock value",
            money(result.total_value),
            "total-value",
            f"At the end of {day(result.as_of)}",
        ),
        *(
            Card(
                warehouse.warehouse,
                money(warehouse.value),
                f"value-{warehouse.warehouse}",
                ""
                if warehouse.lots is None
                else f"{warehouse.lots} lot{'s' if warehouse.lots != 1 else ''}",
            )
            for warehouse in result.warehouses[:VALUATION_CARDS]
        ),
    ]


VALUATION = ReportSpec(
    name="valuation",
    title="Valuation",
    subtitle="Stock on hand valued at each lot's unit cost (FIFO layers), today or at the "
    "end of a past day; quarantined and expired stock included.",
    form_class=forms.ValuationForm,
    table_class=tables.ValuationTable,
    read=reports.valuation,
    rows=lambda result: list(result.warehouses),
    csv_columns=(
        ("warehouse", "warehouse"),
        ("lots", "lots"),
        ("quantity", "quantity"),
        ("value", "value"),
    ),
    cards=_valuation_cards,
    empty=lambda result, filters: (
        None
        if result.warehouses
        else f"Nothing was on hand at the end of {day(result.as_of)}. Choose a later day."
    ),
)


# -- stock-outs --------------------------------------------------------------------------


def _stock_out_cards(rows: list[reports.StockOut], filters: dict, uom=None) -> list[Card]:
    return [
        Card("Products that ran out", str(len(rows)), "ran-out", _window(filters).capitalize()),
        Card("Out of stock now", str(sum(1 for row in rows if row.out_of_stock)), "out-now"),
        Card(
            "Days at zero",
            str(sum(row.days_at_zero for row in rows)),
            "days-at-zero",
            "All products together",
        ),
    ]


STOCK_OUTS = ReportSpec(
    name="stock-outs",
    title="Stock-outs",
    subtitle=(
        "Products whose available stock was at zero at the end of some days of the window, "
        "as each night's snapshot recorded it (days without a snapshot are not counted), "
        "and today as of the last stock refresh."
    ),
    form_class=forms.StockOutsForm,
    table_class=tables.StockOutsTable,
    read=reports.stock_outs,
    csv_columns=(
        ("sku", "sku"),
        ("product", "name"),
        ("days_at_zero", "days_at_zero"),
        ("days_counted", "days_counted"),
        ("out_of_stock", "out_of_stock"),
    ),
    cards=_stock_out_cards,
    empty=lambda rows, filters: (
        None if rows else f"No product ran out in {_window(filters)}. Nothing to chase."
    ),
)


# -- low stock ---------------------------------------------------------------------------


def _low_stock_cards(rows: list[reports.LowStock], filters: dict, uom=None) -> list[Card]:
    return [
        Card("Below the reorder point", str(len(rows)), "below", "Enabled reorder rules"),
        Card(
            "Nothing available", str(sum(1 for row in rows if row.available <= 0)), "none-available"
        ),
        Card("Warehouses", str(len({row.warehouse for row in rows})), "warehouses"),
    ]


LOW_STOCK = ReportSpec(
    name="low-stock",
    title="Low stock",
    subtitle="Products whose available stock is below their reorder point, with what to reorder.",
    form_class=forms.WarehouseForm,
    table_class=tables.LowStockTable,
    read=reports.low_stock,
    csv_columns=(
        ("sku", "sku"),
        ("product", "name"),
        ("warehouse", "warehouse"),
        ("available", "available"),
        ("reorder_point", "reorder_point"),
        ("reorder_quantity", "reorder_quantity"),
        ("shortfall", "shortfall"),
    ),
    cards=_low_stock_cards,
    empty=lambda rows, filters: (
        None
        if rows
        else "Nothing is below its reorder point. Add reorder rules to watch more products."
    ),
    units="sku",
)


REPORTS = (ABC, AGING, TURNOVER, DEMAND, HISTORY, VALUATION, STOCK_OUTS, LOW_STOCK)

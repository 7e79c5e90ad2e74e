"""The tables of the report screens: a report's rows, a Python list, sorted and paged.

A report's rows come from its selector as a list (one query whatever its
length), so the table sorts that list itself: ``ReportRows`` sorts by one
key per column in a pass each (a plain ``sort`` with a key), rather than
django-tables2's comparison of every pair of rows, which on ten thousand
products would cost more than the report's query.
"""

from __future__ import annotations

from decimal import Decimal

import django_tables2 as tables
from django.template import Context
from django.template.base import render_value_in_context
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django_tables2.data import TableListData
from django_tables2.utils import Accessor, OrderBy, signature

from inventory.templatetags.stock import quantity_in
from inventory.web.tables import (
    WIDE_ONLY,
    WIDE_ONLY_CODE,
    WIDE_ONLY_NUMBER,
    CodeColumn,
    DayColumn,
    ListTable,
    MoneyColumn,
)

NUMBER = {"th": {"class": "text-end"}, "td": {"class": "sy-num"}}
CLASS_BADGES = {"A": "text-bg-success", "B": "text-bg-warning", "C": "text-bg-secondary"}


class ReportRows(TableListData):
    """A report's rows, sorted by key (rows without a value last, whichever the direction)."""

    def order_by(self, aliases):
        keys = []
        for alias in aliases:
            bound_column = self.table.columns[OrderBy(alias).bare]
            accessors = (
                bound_column.order_by.opposite
                if alias[0] != bound_column.order_by_alias[0]
                else bound_column.order_by
            )
            keys.extend(accessors)
        # The least significant key first: each stable sort keeps the order of the last.
        for order_by in reversed(keys):
            accessor = Accessor(order_by.bare)

            def key(record, accessor=accessor, descending=order_by.is_descending):
                value = accessor.resolve(record, quiet=True)
                return (value is None) != descending, value if value is not None else 0

            self.data.sort(key=key, reverse=order_by.is_descending)


class ReportPage(TableListData):
    """One page of a report that the database sorted and cut (``ReportSpec.page``).

    Its length is the whole report's, so the paginator numbers the pages;
    only the page's rows, from ``offset``, are here. Sorting is a no-op: the
    database sorted by the request's columns before cutting the page.
    """

    def __init__(self, rows: list, *, count: int, offset: int):
        super().__init__(rows)
        self.count = count
        self.offset = offset

    def __len__(self):
        return self.count

    def __getitem__(self, key):
        if isinstance(key, slice):
            start = max((key.start or 0) - self.offset, 0)
            stop = max((self.count if key.stop is None else key.stop) - self.offset, 0)
            return self.data[start:stop]
        return self.data[key - self.offset]

    def order_by(self, aliases):
        pass


def percent(share: Decimal | None) -> str:
    """A share (0.8123) as a percent with one decimal (81.2 %)."""
    if share is None:
        return ""
    return f"{share * 100:.1f}\N{NARROW NO-BREAK SPACE}%"


class PercentColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", NUMBER)
        super().__init__(*args, **kwargs)

    def render(self, value):
        return percent(value)

    def value(self, value):
        return value


class ReportQuantityColumn(tables.Column):
    """A quantity with its unit when the table knows it.

    A report's rows carry no unit: the table is told the unit of its one
    product (``table.uom``) or of the products on the page (``table.units``,
    by SKU). Quantities of several products together have no one unit and
    show with the ledger's three decimals.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", NUMBER)
        super().__init__(*args, **kwargs)

    def render(self, value, record, table):
        uom = getattr(table, "uom", None)
        if uom is None:
            sku = Accessor("sku").resolve(record, quiet=True)
            uom = getattr(table, "units", {}).get(sku)
        if not uom:
            return quantity_in(value)
        return format_html('{} <span class="sy-unit">{}</span>', quantity_in(value, uom), uom)


class DecimalColumn(tables.Column):
    """A plain figure (turnover, days of supply) with fixed decimals; a dash for none."""

    def __init__(self, *args, places: int = 2, **kwargs):
        self.places = places
        kwargs.setdefault("attrs", NUMBER)
        super().__init__(*args, **kwargs)

    def render(self, value):
        return f"{value:,.{self.places}f}"


def _fixed(attrs) -> bool:
    """Whether cell attributes are plain values (no callable of the row to ask per cell)."""
    return not any(callable(value) for value in (attrs or {}).values())


# What django-tables2 offers a column's ``render`` (``BoundRow._optional_cell_arguments``).
CELL_ARGUMENTS = {"value", "record", "column", "bound_column", "bound_row", "table"}


class ReportTable(ListTable):
    """Base of the report tables; a subclass's ``Meta`` subclasses this one (see ``ListTable``).

    The rows of a page are written by ``body_html`` rather than by the
    template, cell by cell: the same markup, without the template engine's
    per-cell lookups and django-tables2 working out each column's cell
    attributes again for every row (most of a report screen's own time).
    """

    class Meta(ListTable.Meta):
        attrs = {"data-testid": "report-table"}
        template_name = "analytics/reports/table.html"

    def _cell_attributes(self):
        """Each column's ``<td>`` attributes, worked out once when they do not vary by row."""
        table_attrs = self.attrs or {}
        fixed = {}
        for column in self.columns:
            sources = (table_attrs, column.column.attrs or {})
            if all(_fixed(attrs.get(key)) for attrs in sources for key in ("td", "cell")):
                fixed[column.name] = column.attrs["td"].as_html()
        return fixed

    def _cell_readers(self) -> dict:
        """Per column, what its cells need, worked out once (None: the table's own path).

        A report's rows are plain objects and its columns read one attribute
        each: the value is that attribute, an empty one shows the column's
        default, and the column's ``render`` gets the arguments it names,
        as django-tables2 gives them (``call_with_appropriate``), without
        inspecting the method again for every cell.
        """
        readers = {}
        for column in self.columns:
            attribute = str(column.accessor)
            if column.link or not attribute.isidentifier():
                readers[column.name] = None
                continue
            names, catch_all = signature(column.render)
            if not catch_all and not set(names) <= CELL_ARGUMENTS:
                readers[column.name] = None
                continue
            readers[column.name] = (
                attribute,
                column.render,
                None if catch_all else tuple(names),
                column.column.empty_values,
                column.default,
            )
        return readers

    def _cells(self, row, readers):
        """``(bound column, cell)`` of ``row``, as ``BoundRow.items`` gives them."""
        record = row.record
        if isinstance(record, dict):
            yield from row.items()
            return
        for column in self.columns:
            reader = readers[column.name]
            if reader is None:
                cell = row.get_cell(column.name)
            else:
                attribute, render, names, empty_values, default = reader
                value = getattr(record, attribute, None)
                if value in empty_values:
                    cell = default
                else:
                    arguments = {
                        "value": value,
                        "record": record,
                        "column": column.column,
                        "bound_column": column,
                        "bound_row": row,
                        "table": self,
                    }
                    if names is None:
                        cell = render(**arguments)
                    else:
                        cell = render(**{name: arguments[name] for name in names})
            # Read by cell attributes that depend on the row (as ``items`` sets them).
            column.current_value = cell
            column.current_record = record
            yield column, cell

    def body_html(self) -> SafeString:
        """The ``<tr>`` of the page's rows (all rows when not paged), escaped as in a template."""
        rows = self.paginated_rows
        fixed = self._cell_attributes()
        readers = self._cell_readers()
        # A template's defaults: autoescape on, local time and formats as configured.
        context = Context()
        lines = []
        for row in rows:
            cells = []
            for column, cell in self._cells(row, readers):
                attributes = fixed.get(column.name)
                if attributes is None:
                    attributes = column.attrs["td"].as_html()
                if column.localize is not None:
                    cell = formats.localize(cell, use_l10n=bool(column.localize))
                cells.append(f"<td {attributes}>{render_value_in_context(cell, context)}</td>")
            lines.append(f"<tr {row.attrs.as_html()}>{''.join(cells)}</tr>")
        return mark_safe("\n".join(lines))  # every cell escaped above


class AbcTable(ReportTable):
    sku = CodeColumn(verbose_name="SKU")
    name = tables.Column(verbose_name="Product", attrs=WIDE_ONLY)
    consumption_value = MoneyColumn(verbose_name="Consumption value")
    share = PercentColumn(verbose_name="Share", attrs=WIDE_ONLY_NUMBER)
    cumulative_share = PercentColumn(verbose_name="Cumulative", attrs=WIDE_ONLY_NUMBER)
    abc_class = tables.Column(verbose_name="Class", attrs={"td": {"data-testid": "abc-class"}})

    class Meta(ReportTable.Meta):
        empty_text = "No products yet. Add products to the catalog, then ship some."

    def render_abc_class(self, value):
        return format_html('<span class="badge {}">{}</span>', CLASS_BADGES[value], value)


class AgingTable(ReportTable):
    measure = tables.Column(verbose_name="By")
    bucket = tables.Column(verbose_name="Bucket", attrs={"td": {"class": "text-nowrap"}})
    quantity = ReportQuantityColumn(verbose_name="On hand", attrs=WIDE_ONLY_NUMBER)
    value = MoneyColumn(verbose_name="Value")

    class Meta(ReportTable.Meta):
        pass


class TurnoverTable(ReportTable):
    sku = CodeColumn(verbose_name="SKU")
    name = tables.Column(verbose_name="Product", attrs=WIDE_ONLY)
    shipped = ReportQuantityColumn(verbose_name="Shipped", attrs=WIDE_ONLY_NUMBER)
    average_on_hand = ReportQuantityColumn(verbose_name="Average on hand", attrs=WIDE_ONLY_NUMBER)
    on_hand = ReportQuantityColumn(verbose_name="On hand", attrs=WIDE_ONLY_NUMBER)
    turnover = DecimalColumn(verbose_name="Turnover", places=2)
    days_of_supply = DecimalColumn(verbose_name="Days of supply", places=1)

    class Meta(ReportTable.Meta):
        empty_text = "No product has stock or movements in this window. Widen the window."


class DemandTable(ReportTable):
    day = DayColumn(verbose_name="Day", attrs={"td": {"class": "text-nowrap"}})
    shipped = ReportQuantityColumn(verbose_name="Shipped")
    average_7 = ReportQuantityColumn(verbose_name="7-day average", attrs=WIDE_ONLY_NUMBER)
    average_28 = ReportQuantityColumn(verbose_name="28-day average", attrs=WIDE_ONLY_NUMBER)

    class Meta(ReportTable.Meta):
        order_by = ("-day",)


class HistoryTable(ReportTable):
    day = DayColumn(verbose_name="Day", attrs={"td": {"class": "text-nowrap"}})
    on_hand = ReportQuantityColumn(verbose_name="On hand (end of day)")

    class Meta(ReportTable.Meta):
        order_by = ("-day",)
        empty_text = "No days in this range. Choose a first day on or before the last."


class ValuationTable(ReportTable):
    warehouse = CodeColumn(verbose_name="Warehouse")
    lots = tables.Column(verbose_name="Lots", attrs=WIDE_ONLY_NUMBER)
    quantity = ReportQuantityColumn(verbose_name="On hand", attrs=WIDE_ONLY_NUMBER)
    value = MoneyColumn(verbose_name="Value")

    class Meta(ReportTable.Meta):
        empty_text = "Nothing was on hand at the end of that day. Choose a later day."


class StockOutsTable(ReportTable):
    sku = CodeColumn(verbose_name="SKU")
    name = tables.Column(verbose_name="Product", attrs=WIDE_ONLY)
    days_at_zero = tables.Column(verbose_name="Days at zero", attrs=NUMBER)
    days_counted = tables.Column(verbose_name="Days counted", attrs=WIDE_ONLY_NUMBER)
    out_of_stock = tables.Column(verbose_name="Now")

    class Meta(ReportTable.Meta):
        empty_text = "No product ran out of approved stock in this window. Nothing to chase."

    def render_out_of_stock(self, value):
        if value:
            return format_html('<span class="badge text-bg-danger">{}</span>', "Out")
        return format_html('<span class="badge text-bg-success">{}</span>', "In stock")


class LowStockTable(ReportTable):
    sku = CodeColumn(verbose_name="SKU")
    name = tables.Column(verbose_name="Product", attrs=WIDE_ONLY)
    warehouse = CodeColumn(verbose_name="Warehouse", attrs=WIDE_ONLY_CODE)
    available = ReportQuantityColumn(verbose_name="Available", attrs=WIDE_ONLY_NUMBER)
    reorder_point = ReportQuantityColumn(verbose_name="Reorder point", attrs=WIDE_ONLY_NUMBER)
    shortfall = ReportQuantityColumn(verbose_name="Short by")
    reorder_quantity = ReportQuantityColumn(verbose_name="Reorder")

    class Meta(ReportTable.Meta):
        empty_text = (
            "Every product with a reorder rule has enough available. "
            "Add reorder rules to watch more products."
        )

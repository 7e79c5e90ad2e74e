"""The stock screen's table: per product and warehouse, sorted and paged in SQL.

Its rows are ``inventory.stock.selectors.StockRows``: django-tables2 sorts
them with ``order_by`` (the column names below are the selector's sort keys)
and pages them by slicing, so PostgreSQL does both.
"""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from inventory.templatetags.stock import quantity_in
from inventory.web.tables import WIDE_ONLY, WIDE_ONLY_CODE, CodeColumn, ListTable, QuantityColumn


def _stock_column(name: str, *, phone: bool = False, badge: str = "", **kwargs):
    """A quantity column with ``data-column`` (tests and scripts find it by name).

    ``phone``: the column stays on a phone; the others step aside below 576 px.
    ``badge``: a non-zero value is shown as a badge of that colour (what is
    not available stands out).
    """
    wide_only = "" if phone else " sy-wide-only"
    attrs = {
        "th": {"class": f"text-end{wide_only}"},
        "td": {"class": f"sy-num{wide_only}", "data-column": name},
    }
    column = BadgeQuantityColumn if badge else QuantityColumn
    extra = {"badge": badge} if badge else {}
    return column(unit="uom", attrs=attrs, **extra, **kwargs)


class BadgeQuantityColumn(QuantityColumn):
    """A quantity that is shown as a coloured badge when it is not zero."""

    def __init__(self, *args, badge: str, **kwargs):
        self.badge = badge
        super().__init__(*args, **kwargs)

    def render(self, value, record):
        if not value:
            return super().render(value, record)
        uom = self.unit.resolve(record, quiet=True)
        return format_html(
            '<span class="badge text-bg-{}">{}</span> <span class="sy-unit">{}</span>',
            self.badge,
            quantity_in(value, uom),
            uom or "",
        )


class SkuColumn(CodeColumn):
    """The SKU, linking to the product's page; on a phone the warehouse under it.

    The warehouse column steps aside on a phone, so the SKU and the available
    quantity (what people look stock up for) share the screen's width.
    """

    def render(self, value, record):
        url = reverse("inventory:product", kwargs={"product_id": record["product_id"]})
        return format_html(
            '<a href="{}">{}</a><div class="d-sm-none small text-body-secondary">{}</div>',
            url,
            value,
            record["warehouse"],
        )


class StockTable(ListTable):
    sku = SkuColumn(verbose_name="SKU")
    name = tables.Column(verbose_name="Product", attrs=WIDE_ONLY)
    warehouse = CodeColumn(verbose_name="Warehouse", attrs=WIDE_ONLY_CODE)
    on_hand = _stock_column("on_hand", verbose_name="On hand")
    reserved = _stock_column("reserved", verbose_name="Reserved")
    available = _stock_column("available", phone=True, verbose_name="Available")
    quarantined = _stock_column("quarantined", badge="warning", verbose_name="Quarantined")
    rejected = _stock_column("rejected", badge="danger", verbose_name="Rejected")
    expired = _stock_column("expired", badge="secondary", verbose_name="Expired")

    class Meta(ListTable.Meta):
        order_by = ("sku",)
        empty_text = "No stock yet. Goods show here as soon as they are received."
        attrs = {"data-testid": "stock-table", "class": "table table-hover align-middle mb-0"}
        row_attrs = {"data-testid": lambda record: f"stock-{record['sku']}-{record['warehouse']}"}

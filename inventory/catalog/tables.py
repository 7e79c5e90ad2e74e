"""Tables of the product screens: the product list and a product's movement history."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from inventory.ledger.history import actor_name
from inventory.templatetags.stock import day, quantity_in
from inventory.web.tables import CodeColumn, ListTable, MomentColumn, QuantityColumn


class ProductTable(ListTable):
    sku = CodeColumn(
        verbose_name="SKU",
        linkify=lambda record: reverse("inventory:product", args=[record.pk]),
        order_by=("sku_key", "id"),
    )
    name = tables.Column(order_by=("name", "id"))
    uom = tables.Column(verbose_name="Unit", orderable=False)
    qc_required = tables.Column(verbose_name="QC", orderable=False)
    gtin = CodeColumn(
        verbose_name="GTIN",
        orderable=False,
        attrs={"th": {"class": "sy-wide-only"}, "td": {"class": "sy-code sy-wide-only"}},
    )

    class Meta(ListTable.Meta):
        empty_text = "No product matches. Try part of the name, or the start of the SKU."
        attrs = {"data-testid": "product-table"}

    def render_qc_required(self, value):
        return "QC required" if value else "—"

    def render_gtin(self, value):
        return value or "—"


class SignedQuantityColumn(QuantityColumn):
    """A ledger quantity with its sign: ``+240`` in, ``-12.500`` out.

    The unit is the table's ``uom`` when all its rows are of one product.
    """

    def render(self, value, record, table):
        uom = getattr(table, "uom", None) or self.unit.resolve(record, quiet=True)
        sign = "+" if value > 0 else ""
        css = "text-success" if value > 0 else "text-danger"
        return format_html(
            '<span class="{}">{}{}</span> <span class="sy-unit">{}</span>',
            css,
            sign,
            quantity_in(value, uom),
            uom or "",
        )


class WhenColumn(MomentColumn):
    """A moment on two short lines (day, then time), so a phone keeps room for the numbers."""

    def render(self, value):
        local = timezone.localtime(value)
        return format_html(
            '<span class="text-nowrap">{}</span> <span class="text-nowrap small '
            'text-body-secondary">{}</span>',
            day(local),
            f"{local:%H:%M}",
        )


class HistoryTable(ListTable):
    """A product's ledger entries, newest first; paged without counting."""

    occurred_at = WhenColumn(verbose_name="When", order_by=("occurred_at", "id"))
    kind = tables.Column(verbose_name="What", orderable=False)
    quantity = SignedQuantityColumn(unit="product__uom", orderable=False)
    lot = CodeColumn(accessor="lot__code", verbose_name="Lot", orderable=False)
    location = CodeColumn(accessor="location__code", verbose_name="Bin", orderable=False)
    actor = tables.Column(verbose_name="Who", accessor="pk", orderable=False)
    reason = tables.Column(
        verbose_name="Why",
        orderable=False,
        attrs={"th": {"class": "sy-wide-only"}, "td": {"class": "sy-wide-only small"}},
    )

    class Meta(ListTable.Meta):
        empty_text = "No movements match. Clear the filter or widen the dates."
        attrs = {"data-testid": "history-table"}
        order_by = ("-occurred_at",)

    def __init__(self, *args, uom: str, can_trace: bool = False, **kwargs):
        self.uom = uom
        self.can_trace = can_trace
        super().__init__(*args, **kwargs)

    def render_kind(self, record):
        return record.get_kind_display()

    def render_lot(self, value, record):
        if self.can_trace:
            return format_html(
                '<a href="{}">{}</a>', reverse("inventory:lot", args=[record.lot_id]), value
            )
        return value

    def render_location(self, value, record):
        return format_html(
            '{} <span class="text-body-secondary small">{}</span>', value, record.warehouse.code
        )

    def render_actor(self, record):
        return actor_name(record)

    def render_reason(self, value):
        return value or "—"

"""Tables of the product screens: the product list and a product's movement history."""

from __future__ import annotations

import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from inventory.ledger.history import actor_name
from inventory.templatetags.stock import day, moment, quantity_in
from inventory.web.tables import (
    WIDE_ONLY_CODE,
    WIDE_ONLY_NUMBER,
    CodeColumn,
    ListTable,
    MomentColumn,
    SignedQuantityColumn,
)


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
        attrs=WIDE_ONLY_CODE,
    )

    class Meta(ListTable.Meta):
        empty_text = "No product matches. Try part of the name, or the start of the SKU."
        attrs = {"data-testid": "product-table"}

    def render_qc_required(self, value):
        return "QC required" if value else "—"

    def render_gtin(self, value):
        return value or "—"


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


def _numbers(name: str, *, strong: bool = False) -> dict:
    """A number cell that says which column it is (``data-column``), for people and tests."""
    css = "sy-num fw-semibold" if strong else "sy-num"
    return {"th": {"class": "text-end"}, "td": {"class": css, "data-column": name}}


class HoldingsTable(ListTable):
    """A product's stock per bin and lot (rows with stock), sorted and paged by the database."""

    location = tables.Column(
        accessor="location__code", verbose_name="Bin", order_by=("location__code", "id")
    )
    lot = tables.Column(accessor="lot__code", verbose_name="Lot", order_by=("lot__code", "id"))
    promisable = tables.Column(verbose_name="Available", attrs=_numbers("available", strong=True))
    on_hand = tables.Column(verbose_name="On hand", attrs=_numbers("on_hand"))
    reserved = tables.Column(attrs=_numbers("reserved"))
    quarantined = tables.Column(attrs=_numbers("quarantined"))
    expires_on = tables.Column(
        accessor="lot__expires_on", verbose_name="Expires", order_by=("lot__expires_on", "id")
    )
    qc = tables.Column(accessor="lot__qc_status", verbose_name="QC", orderable=False)

    class Meta(ListTable.Meta):
        prefix = "holdings-"
        attrs = {"data-testid": "holdings", "class": "table table-sm align-middle mb-0"}
        row_attrs = {
            "data-testid": lambda record: f"holding-{record.location.code}-{record.lot.code}"
        }

    def __init__(self, *args, uom: str, can_trace: bool, **kwargs):
        self.uom = uom
        self.can_trace = can_trace
        super().__init__(*args, **kwargs)

    def render_location(self, value, record):
        return format_html(
            '<span class="sy-code">{}</span> <span class="text-body-secondary small">{}</span>',
            value,
            record.warehouse.code,
        )

    def render_lot(self, value, record):
        if not self.can_trace:
            return format_html('<span class="sy-code">{}</span>', value)
        url = reverse("inventory:lot", args=[record.lot_id])
        return format_html('<a class="sy-code" href="{}">{}</a>', url, value)

    def _quantity(self, value):
        return quantity_in(value, self.uom)

    def render_promisable(self, value):
        return self._quantity(value)

    def render_on_hand(self, value):
        return self._quantity(value)

    def render_reserved(self, value):
        return self._quantity(value)

    def render_quarantined(self, value):
        return self._quantity(value)

    def render_expires_on(self, value):
        return day(value)

    def render_qc(self, record):
        return render_to_string("inventory/lots/qc_badge.html", {"lot": record.lot})


class OpenReservationsTable(ListTable):
    """Open reservations holding a product, soonest to expire first."""

    holder = tables.Column(
        accessor="reservation_id",
        verbose_name="Reservation / order",
        order_by=("order_reference", "reservation_id"),
    )
    warehouse = tables.Column(
        accessor="reservation__warehouse__code",
        verbose_name="Warehouse",
        order_by=("reservation__warehouse__code", "id"),
    )
    allocated = tables.Column(verbose_name="Held", attrs=_numbers("held", strong=True))
    quantity = tables.Column(
        verbose_name="Asked",
        attrs=WIDE_ONLY_NUMBER,
    )
    expires_at = tables.Column(
        accessor="reservation__expires_at",
        verbose_name="Expires",
        order_by=("reservation__expires_at", "id"),
        default="No expiry",
    )

    class Meta(ListTable.Meta):
        prefix = "reservations-"
        attrs = {"data-testid": "reservations", "class": "table table-sm align-middle mb-0"}
        row_attrs = {"data-testid": lambda record: f"reservation-{record.reservation_id}"}

    def __init__(self, *args, uom: str, **kwargs):
        self.uom = uom
        super().__init__(*args, **kwargs)

    def render_holder(self, record):
        if record.order_reference:
            return format_html(
                '<span class="sy-code">{}</span> <span class="small text-body-secondary">{}</span>',
                record.order_reference,
                record.customer,
            )
        label = record.reservation.reference or f"#{record.reservation_id}"
        return format_html('<span class="sy-code">{}</span>', label)

    def render_allocated(self, value):
        return format_html(
            '{} <span class="sy-unit">{}</span>', quantity_in(value, self.uom), self.uom
        )

    def render_quantity(self, value):
        return quantity_in(value, self.uom)

    def render_expires_at(self, value):
        return format_html('<span class="text-nowrap">{}</span>', moment(value))

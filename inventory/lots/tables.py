"""Tables of the lot trace: a lot's movements, and what a customer received."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from inventory.catalog.tables import WhenColumn
from inventory.ledger.history import actor_name
from inventory.web.tables import (
    WIDE_ONLY,
    WIDE_ONLY_CODE,
    CodeColumn,
    ListTable,
    QuantityColumn,
    SignedQuantityColumn,
)


def _order(record) -> str:
    if not record.order_reference:
        return "—"
    return format_html(
        '<span class="sy-code">{}</span><div class="small text-body-secondary">{}</div>',
        record.order_reference,
        record.customer,
    )


class MovementTable(ListTable):
    """Every ledger entry of one lot, oldest first: receipt, moves, reservations, shipments."""

    occurred_at = WhenColumn(verbose_name="When", order_by=("occurred_at", "id"))
    kind = tables.Column(verbose_name="What", orderable=False)
    quantity = SignedQuantityColumn(unit="product__uom", orderable=False)
    # On a phone the bin and the order go under what happened (render_kind).
    location = CodeColumn(
        accessor="location__code",
        verbose_name="Bin",
        orderable=False,
        attrs=WIDE_ONLY_CODE,
    )
    order_reference = tables.Column(
        verbose_name="Order / customer", orderable=False, attrs=WIDE_ONLY
    )
    actor = tables.Column(
        verbose_name="Who",
        accessor="pk",
        orderable=False,
        attrs=WIDE_ONLY,
    )
    reason = tables.Column(
        verbose_name="Why",
        orderable=False,
        attrs={"th": {"class": "sy-wide-only"}, "td": {"class": "sy-wide-only small"}},
    )

    class Meta(ListTable.Meta):
        per_page = 50
        empty_text = "This lot has no movements."
        attrs = {"data-testid": "movement-table"}
        order_by = ("occurred_at",)

    def __init__(self, *args, uom: str, **kwargs):
        self.uom = uom
        super().__init__(*args, **kwargs)

    def render_kind(self, record):
        order = (
            format_html('<div class="d-sm-none">{}</div>', _order(record))
            if record.order_reference
            else ""
        )
        return format_html(
            '{}<div class="d-sm-none small sy-code">{}</div>{}',
            record.get_kind_display(),
            record.location.code,
            order,
        )

    def render_location(self, value, record):
        return format_html(
            '{} <span class="text-body-secondary small">{}</span>', value, record.warehouse.code
        )

    def render_order_reference(self, record):
        return _order(record)

    def render_actor(self, record):
        return actor_name(record)

    def render_reason(self, value):
        return value or "—"


class CustomerReceiptTable(ListTable):
    """What customers received: one row per shipment entry, newest first."""

    occurred_at = WhenColumn(
        verbose_name="Shipped", order_by=("occurred_at", "id"), attrs=WIDE_ONLY
    )
    lot = CodeColumn(
        accessor="lot__code",
        verbose_name="Lot",
        orderable=False,
        linkify=lambda record: reverse("inventory:lot", args=[record.lot_id]),
    )
    product = CodeColumn(
        accessor="product__sku",
        verbose_name="Product",
        orderable=False,
        attrs=WIDE_ONLY_CODE,
    )
    quantity = QuantityColumn(unit="product__uom", orderable=False)
    order_reference = tables.Column(verbose_name="Order / customer", orderable=False)

    class Meta(ListTable.Meta):
        empty_text = (
            "No shipment to a customer by that name. Check the spelling, or type less of it."
        )
        attrs = {"data-testid": "customer-table"}
        # Lot, quantity and order first: what a recall needs, in view on a phone.
        sequence = ("lot", "quantity", "order_reference", "product", "occurred_at")
        order_by = ("-occurred_at",)

    def render_quantity(self, value, record):
        return self.columns["quantity"].column.render(-value, record)

    def render_order_reference(self, record):
        return _order(record)

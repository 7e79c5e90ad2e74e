"""Tables of the put-away list, the bin page and the adjustments screen.

They follow the list pattern of ``inventory.web.tables``.
"""

from __future__ import annotations

from urllib.parse import urlencode

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from inventory.ledger.history import actor_name
from inventory.templatetags.stock import day, quantity, quantity_in
from inventory.web.access import can_trace
from inventory.web.tables import (
    WIDE_ONLY,
    WIDE_ONLY_CODE,
    WIDE_ONLY_NUMBER,
    CodeColumn,
    DayColumn,
    ListTable,
    MomentColumn,
    QuantityColumn,
    SignedQuantityColumn,
)

NOTE = '<span class="small text-body-secondary">{}</span>'


def _code_link(code: str, url: str | None):
    return format_html('<a href="{}">{}</a>', url, code) if url else code


def move_url(**prefill) -> str:
    """The move screen with its fields filled in (from a put-away row or a bin)."""
    filled = {name: value for name, value in prefill.items() if value not in (None, "")}
    return f"{reverse('inventory:move')}?{urlencode(filled)}"


def age(moment) -> str:
    days = (timezone.now() - moment).days
    return "today" if days < 1 else ("1 day" if days == 1 else f"{days:,} days")


class ProductColumn(tables.Column):
    """The SKU (linked to the product page when there is one); the name too on wide screens.

    ``lot_on_phones`` puts the lot code under the SKU where the lot column steps aside.
    """

    def __init__(self, *args, lot_on_phones: bool = False, **kwargs):
        kwargs.setdefault("order_by", ("product__sku",))
        kwargs.setdefault("verbose_name", "Product")
        self.lot_on_phones = lot_on_phones
        super().__init__(*args, accessor="product__sku", **kwargs)

    def render(self, value, record):
        product = record.product
        sku = format_html(
            '<span class="sy-code">{}</span> <span class="sy-wide-only small text-body-secondary">'
            "{}</span>",
            _code_link(value, reverse("inventory:product", args=[product.pk])),
            product.name,
        )
        if self.lot_on_phones:
            return format_html(
                '{}<div class="d-sm-none small sy-code">{}</div>', sku, record.lot.code
            )
        return sku


class LotColumn(CodeColumn):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("order_by", ("lot__code",))
        kwargs.setdefault("verbose_name", "Lot")
        super().__init__(*args, accessor="lot__code", **kwargs)

    def render(self, value, record, table):
        # The lot page is for those who trace lots; others see the code.
        membership = getattr(getattr(table, "request", None), "membership", None)
        url = reverse("inventory:lot", args=[record.lot_id]) if can_trace(membership) else None
        return _code_link(value, url)


class BinColumn(CodeColumn):
    def render(self, value, record):
        return format_html(
            '<a href="{}">{}</a>', reverse("inventory:bin", args=[record.location_id]), value
        )


class QcColumn(tables.Column):
    BADGES = {"APPROVED": "text-bg-success", "QUARANTINE": "text-bg-warning"}

    def render(self, value, record):
        lot = record.lot
        if lot.qc_status == "APPROVED" and lot.expires_on and lot.expires_on < timezone.localdate():
            return format_html('<span class="badge text-bg-danger">{}</span>', "Expired")
        badge = self.BADGES.get(lot.qc_status, "text-bg-danger")
        return format_html('<span class="badge {}">{}</span>', badge, lot.get_qc_status_display())


class PutAwayTable(ListTable):
    """What waits in receiving bins, with where it should go and the button to move it."""

    # On a phone: the product with its lot and quantity, then where to and the button.
    product = ProductColumn(lot_on_phones=True)
    lot = LotColumn(attrs=WIDE_ONLY_CODE)
    quantity = QuantityColumn(
        unit="product__uom", accessor="on_hand", verbose_name="Quantity", attrs=WIDE_ONLY_NUMBER
    )
    location = CodeColumn(
        accessor="location__code",
        verbose_name="In",
        order_by=("location__code",),
        attrs=WIDE_ONLY_CODE,
    )
    warehouse = tables.Column(
        accessor="warehouse__code",
        verbose_name="Warehouse",
        order_by=("warehouse__code",),
        attrs=WIDE_ONLY,
    )
    received = tables.Column(
        accessor="lot__received_at",
        verbose_name="Waiting",
        order_by=("lot__received_at", "id"),
        attrs=WIDE_ONLY,
    )
    suggestion = tables.Column(
        accessor="pk", verbose_name="Put into", orderable=False, attrs=WIDE_ONLY_CODE
    )
    action = tables.Column(
        accessor="pk", verbose_name="", orderable=False, attrs={"td": {"class": "text-end"}}
    )

    class Meta(ListTable.Meta):
        attrs = {"data-testid": "put-away-table"}
        row_attrs = {"data-testid": lambda record: f"put-away-{record.lot.code}"}
        empty_text = (
            "Nothing is waiting in a receiving bin. "
            "Received goods appear here until they are put away."
        )
        order_by = ("received",)

    def __init__(self, *args, suggestions: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.suggestions = suggestions or {}

    def render_received(self, value):
        return format_html(
            '{} <span class="small text-body-secondary">{}</span>', age(value), day(value)
        )

    def render_product(self, value, record):
        product = self.columns["product"].column.render(value, record)
        on_hand = format_html(
            '<div class="d-sm-none small">{} <span class="sy-unit">{}</span></div>',
            quantity_in(record.on_hand, record.product.uom),
            record.product.uom,
        )
        return format_html("{}{}", product, on_hand)

    def render_suggestion(self, record):
        suggestion = self.suggestions.get(record.pk)
        if suggestion is None:
            if record.lot.qc_status != "APPROVED":
                return format_html(
                    '<span class="small text-body-secondary">{}</span>', "Waits for QC"
                )
            return format_html('<span class="small text-body-secondary">{}</span>', "No free bin")
        return suggestion.code

    def render_action(self, record):
        suggestion = self.suggestions.get(record.pk)
        url = move_url(
            warehouse=record.warehouse_id,
            from_location=record.location.code,
            lot_code=record.lot.code,
            sku=record.product.sku,
            quantity=quantity(record.on_hand - record.reserved),
            to_location=suggestion.code if suggestion else "",
        )
        # On a phone the suggestion sits by the button, which keeps its icon only.
        return format_html(
            '<span class="d-sm-none sy-code me-2">{}</span>'
            '<a class="btn btn-sm btn-warning text-nowrap" href="{}" aria-label="Put away">'
            '<i class="bi bi-box-arrow-in-right" aria-hidden="true"></i>'
            '<span class="sy-wide-only ms-1">Put away</span></a>',
            self.render_suggestion(record),
            url,
        )


class BinContentsTable(ListTable):
    """What a bin holds, per lot."""

    # On a phone: the product with its lot under it, what is on the shelf, the actions.
    product = ProductColumn(lot_on_phones=True)
    lot = LotColumn(attrs=WIDE_ONLY_CODE)
    on_hand = QuantityColumn(unit="product__uom", verbose_name="On hand")
    reserved = QuantityColumn(unit="product__uom", attrs=WIDE_ONLY_NUMBER)
    available = QuantityColumn(
        unit="product__uom",
        accessor="available_quantity",
        verbose_name="Available",
        attrs=WIDE_ONLY_NUMBER,
    )
    expires_on = DayColumn(
        accessor="lot__expires_on",
        verbose_name="Expires",
        order_by=("lot__expires_on",),
        attrs=WIDE_ONLY,
    )
    qc = QcColumn(
        accessor="lot__qc_status", verbose_name="QC", order_by=("lot__qc_status",), attrs=WIDE_ONLY
    )
    actions = tables.Column(
        accessor="pk",
        verbose_name="",
        orderable=False,
        attrs={
            "th": {"class": "sy-wide-only"},
            "td": {"class": "sy-wide-only text-end text-nowrap"},
        },
    )

    class Meta(ListTable.Meta):
        attrs = {"data-testid": "bin-contents"}
        row_attrs = {"data-testid": lambda record: f"contents-{record.lot.code}"}
        empty_text = "This bin is empty. Move stock here from a receiving bin, or pick another bin."
        prefix = "contents-"

    def __init__(self, *args, can_move: bool = False, can_adjust: bool = False, **kwargs):
        if not (can_move or can_adjust):
            kwargs["exclude"] = ("actions",)
        super().__init__(*args, **kwargs)
        self.can_move = can_move
        self.can_adjust = can_adjust

    def render_actions(self, record):
        """This lot's Move (operators, managers) and Adjust (managers) with the fields filled in."""
        filled = {
            "warehouse": record.warehouse_id,
            "lot_code": record.lot.code,
            "sku": record.product.sku,
        }
        links = []
        if self.can_move:
            links.append(
                format_html(
                    '<a class="btn btn-sm btn-outline-secondary" href="{}">Move</a>',
                    move_url(from_location=record.location.code, **filled),
                )
            )
        if self.can_adjust:
            query = urlencode({"location": record.location.code, **filled})
            links.append(
                format_html(
                    '<a class="btn btn-sm btn-outline-secondary ms-1" href="{}?{}">Adjust</a>',
                    reverse("inventory:adjustments"),
                    query,
                )
            )
        return format_html_join("", "{}", ((link,) for link in links))


class BinMovementsTable(ListTable):
    """Stock in and out of a bin, from the ledger, newest first (paged without a count)."""

    occurred_at = MomentColumn(verbose_name="When", order_by=("occurred_at", "id"))
    kind = tables.Column(verbose_name="What")
    product = ProductColumn(attrs=WIDE_ONLY)
    lot = LotColumn(orderable=False, attrs=WIDE_ONLY_CODE)
    quantity = SignedQuantityColumn(unit="product__uom", verbose_name="Change")
    who = tables.Column(accessor="pk", verbose_name="By", orderable=False, attrs=WIDE_ONLY)
    reason = tables.Column(orderable=False, attrs=WIDE_ONLY)

    class Meta(ListTable.Meta):
        attrs = {"data-testid": "bin-movements"}
        empty_text = "Nothing has moved in or out of this bin yet."
        prefix = "moves-"
        order_by = ("-occurred_at",)

    def render_kind(self, record):
        return record.get_kind_display()

    def render_who(self, record):
        return actor_name(record)


class AdjustmentsTable(ListTable):
    """Recent adjustments: when, who, what, where, how much and why."""

    occurred_at = MomentColumn(verbose_name="When", order_by=("occurred_at", "id"))
    who = tables.Column(
        accessor="pk", verbose_name="By", order_by=("actor_user__username",), attrs=WIDE_ONLY
    )
    product = ProductColumn(attrs=WIDE_ONLY)
    lot = LotColumn(attrs=WIDE_ONLY_CODE)
    location = BinColumn(
        accessor="location__code", verbose_name="Bin", order_by=("location__code",)
    )
    quantity = SignedQuantityColumn(unit="product__uom", verbose_name="Change")
    reason = tables.Column(verbose_name="Reason")

    class Meta(ListTable.Meta):
        attrs = {"data-testid": "adjustments-table"}
        empty_text = (
            "No adjustments yet. Record one with the form above "
            "when stock is damaged, lost or found."
        )
        order_by = ("-occurred_at",)

    def render_who(self, record):
        return actor_name(record)

    def value_who(self, record):
        return actor_name(record)

"""The count list (every count, newest first) and a count's review (its lines beside the books)."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from inventory.counts.selectors import WALKING_ORDER
from inventory.counts.services import difference_value
from inventory.models import CountSession, CountStatus
from inventory.templatetags.stock import money, quantity_in
from inventory.web.tables import (
    WIDE_ONLY,
    WIDE_ONLY_NUMBER,
    CodeColumn,
    ListTable,
    MomentColumn,
    QuantityColumn,
)

STATUS_BADGES = {
    CountStatus.OPEN: "text-bg-warning",
    CountStatus.SUBMITTED: "text-bg-info",
    CountStatus.POSTED: "text-bg-success",
    CountStatus.CANCELLED: "text-bg-secondary",
}

FOUND_BADGE = mark_safe(' <span class="badge text-bg-secondary">found</span>')
MATCHES = mark_safe('<span class="fw-normal text-body-secondary">matches</span>')


def count_url(session: CountSession) -> str:
    """Where a count is worked on: the counting sheet while open, else its review."""
    name = "inventory:count" if session.status == CountStatus.OPEN else "inventory:count-review"
    return reverse(name, args=[session.pk])


class CountTable(ListTable):
    id = tables.Column(verbose_name="Count", attrs={"td": {"class": "sy-code"}})
    warehouse = CodeColumn(
        verbose_name="Warehouse", accessor="warehouse__code", order_by="warehouse__code"
    )
    scope = tables.Column(verbose_name="What", empty_values=(), orderable=False)
    status = tables.Column()
    progress = tables.Column(
        verbose_name="Counted",
        empty_values=(),
        order_by="line_total",
        attrs=WIDE_ONLY_NUMBER,
    )
    created_by = tables.Column(
        verbose_name="Started by",
        accessor="created_by__username",
        order_by="created_by__username",
        attrs=WIDE_ONLY,
    )
    created_at = MomentColumn(
        verbose_name="Started",
        attrs=WIDE_ONLY,
    )
    action = tables.Column(
        verbose_name="", empty_values=(), orderable=False, attrs={"td": {"class": "text-end"}}
    )

    class Meta(ListTable.Meta):
        model = CountSession
        fields = ()
        order_by = ("-created_at",)
        empty_text = (
            "No counts yet. Start one with the form: choose the warehouse, then the bins or a SKU."
        )
        row_attrs = {"data-testid": lambda record: f"count-{record.pk}"}

    def render_id(self, value, record):
        return format_html('<a href="{}">#{}</a>', count_url(record), value)

    def render_scope(self, record):
        if record.product_id is not None:
            return format_html('Product <span class="sy-code">{}</span>', record.product.sku)
        bins = record.bin_total
        return f"{bins} bin{'s' if bins != 1 else ''}"

    def render_status(self, value, record):
        return format_html(
            '<span class="badge {}">{}</span>',
            STATUS_BADGES.get(record.status, "text-bg-light"),
            record.get_status_display(),
        )

    def render_progress(self, record):
        return f"{record.lines_counted} of {record.line_total}"

    def render_action(self, record):
        if record.status == CountStatus.OPEN:
            label, css = "Resume", "btn-warning"
        elif record.status == CountStatus.SUBMITTED:
            label, css = "Review", "btn-primary"
        else:
            label, css = "View", "btn-outline-secondary"
        return format_html(
            '<a class="btn btn-sm {}" href="{}">{}</a>', css, count_url(record), label
        )


class ReviewTable(ListTable):
    """A count's lines beside the books (``review_lines``): difference and value, by the database.

    Walking order by default; every sort ends in walking order, so a page
    holds the same lines however often it is asked for.
    """

    location = CodeColumn(accessor="location__code", verbose_name="Bin", order_by=WALKING_ORDER)
    lot = tables.Column(
        accessor="lot__code",
        verbose_name="Lot",
        order_by=("product__sku", "lot__code", *WALKING_ORDER),
    )
    expected = QuantityColumn(unit="product__uom", attrs=WIDE_ONLY_NUMBER, orderable=False)
    counted_quantity = QuantityColumn(
        unit="product__uom", verbose_name="Counted", attrs=WIDE_ONLY_NUMBER, orderable=False
    )
    variance = tables.Column(
        verbose_name="Difference",
        order_by=("variance", *WALKING_ORDER),
        attrs={
            "th": {"class": "text-end"},
            "td": {"class": "sy-num fw-semibold", "data-testid": "difference"},
        },
    )
    variance_value = tables.Column(
        verbose_name="Value",
        order_by=("variance_value", *WALKING_ORDER),
        attrs={"th": {"class": "text-end"}, "td": {"class": "sy-num", "data-testid": "value"}},
    )

    class Meta(ListTable.Meta):
        order_by = ("location",)
        attrs = {"data-testid": "review-table"}
        empty_text = "No lines: the bins held nothing on the books and nothing was found."
        row_attrs = {
            "data-testid": lambda record: f"review-{record.location.code}-{record.lot.code}",
            "class": lambda record: "table-warning" if record.variance else None,
        }

    def render_lot(self, value, record):
        return format_html(
            '<span class="sy-code">{}</span>{}<div class="small text-body-secondary sy-code">'
            "{}</div>",
            value,
            FOUND_BADGE if record.is_found else "",
            record.product.sku,
        )

    def render_variance(self, value, record):
        if value == 0:
            return MATCHES
        uom = record.product.uom
        return format_html(
            '{}{} <span class="sy-unit">{}</span>',
            "+" if value > 0 else "\N{MINUS SIGN}",
            quantity_in(abs(value), uom),
            uom,
        )

    def render_variance_value(self, record):
        # Signed as the difference beside it (and every change of stock) is.
        value = difference_value(record.variance, record.lot.unit_cost)
        return f"\N{MINUS SIGN}{money(-value)}" if value < 0 else money(value)

"""The QC lists: the quarantine queue with its decision forms, and the decision history.

Both follow the list pattern of ``inventory.web.tables``: the database sorts
and pages them. The forms inside their rows (decide, reverse) are partials of
``inventory/qc_queue.html``, rendered per row with the request, so each
carries its CSRF token and, for a decision, its own idempotency key.
"""

from __future__ import annotations

import datetime
import uuid

import django_filters
import django_tables2 as tables
from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.timesince import timesince

from inventory.catalog.filters import HistoryFilterForm, start_of
from inventory.models import QcDecision, QcDecisionKind, QcStatus
from inventory.templatetags.stock import day, moment
from inventory.web.tables import (
    WIDE_ONLY,
    WIDE_ONLY_CODE,
    DayColumn,
    ListTable,
    MomentColumn,
    PartialColumn,
    QuantityColumn,
)

DECISION_TEMPLATE = "inventory/qc_queue.html#qc-decision"
REVERSE_TEMPLATE = "inventory/qc_queue.html#reverse-form"
# The history's search: a lot code or a SKU is at most 64 characters.
MAX_SEARCH_LENGTH = 64
# A note longer than this is cut in the history's cell; the lot page shows it whole.
NOTE_CHARACTERS = 160

STATUS_BADGES = {
    QcStatus.APPROVED: "text-bg-success",
    QcStatus.REJECTED: "text-bg-danger",
    QcStatus.QUARANTINE: "text-bg-warning",
}
WIDE_ONLY_NOWRAP = {"th": {"class": "sy-wide-only"}, "td": {"class": "sy-wide-only text-nowrap"}}


def decision_key() -> dict:
    """A fresh idempotency key for one rendered decision form (as ``IdempotentForm``)."""
    return {"decision_key": f"form:{uuid.uuid4()}"}


def lot_url(lot_id: int) -> str:
    return reverse("inventory:lot", args=[lot_id])


class QcQueueTable(ListTable):
    """Lots in quarantine with their Approve / Reject form, oldest first.

    On a phone the table stacks each row (``sy-stack-table``), so the
    decision buttons stay on screen under the lot and its stock.
    """

    code = tables.Column(
        verbose_name="Lot",
        order_by=("code", "id"),
        attrs={"th": {"class": "ps-3"}, "td": {"class": "ps-3"}},
    )
    product = tables.Column(
        accessor="product__sku", verbose_name="Product", order_by=("product__sku", "id")
    )
    on_hand = QuantityColumn(
        unit="product__uom",
        verbose_name="On hand",
        orderable=False,
        attrs={"th": {"class": "text-end"}, "td": {"class": "sy-num", "data-testid": "on-hand"}},
    )
    warehouse_code = tables.Column(
        verbose_name="Warehouse", order_by=("warehouse_code", "id"), attrs=WIDE_ONLY_CODE
    )
    received_at = MomentColumn(
        verbose_name="Waiting since", order_by=("received_at", "id"), attrs=WIDE_ONLY_NOWRAP
    )
    expires_on = DayColumn(
        verbose_name="Expires", order_by=("expires_on", "id"), attrs=WIDE_ONLY_NOWRAP
    )
    decision = PartialColumn(
        template_name=DECISION_TEMPLATE,
        verbose_name="Decision",
        orderable=False,
        empty_values=(),
        extra_context=decision_key,
        attrs={"th": {"class": "sy-decision-column"}},
    )

    class Meta(ListTable.Meta):
        attrs = {"class": "table align-middle mb-0 sy-stack-table", "data-testid": "qc-queue-table"}
        row_attrs = {
            "id": lambda record: f"lot-{record.pk}",
            "data-testid": lambda record: f"lot-{record.code}",
        }
        order_by = ("received_at",)
        empty_text = mark_safe(
            '<span data-testid="queue-empty"><i class="bi bi-check2-all me-1" aria-hidden="true">'
            "</i>Nothing waiting for QC. Lots of products that need QC arrive here when they are "
            "received.</span>"
        )

    def render_code(self, value, record):
        return format_html(
            '<div class="sy-code fw-semibold"><a href="{}">{}</a></div>'
            '<div class="d-sm-none small text-body-secondary">waiting {}</div>',
            lot_url(record.pk),
            value,
            timesince(record.received_at),
        )

    def render_product(self, value, record):
        return format_html(
            '<div class="fw-semibold sy-code">{}</div>'
            '<div class="small text-body-secondary">{}</div>',
            value,
            record.product.name,
        )


def decision_actor(decision: QcDecision) -> str:
    if decision.decided_by_id:
        return decision.decided_by.get_full_name() or decision.decided_by.username
    if decision.decided_by_token_id:
        return f"API: {decision.decided_by_token.name}"
    return "System"


class QcHistoryTable(ListTable):
    """QC decisions and reversals, newest first; a manager's Reverse… on the rows that allow it.

    ``return_to`` names the screen a reversal comes back to (``queue`` or ``history``).
    """

    decided_at = tables.Column(
        verbose_name="When",
        order_by=("decided_at", "id"),
        attrs={"th": {"class": "ps-3 sy-wide-only"}, "td": {"class": "ps-3 sy-wide-only"}},
    )
    lot = tables.Column(
        accessor="lot__code", verbose_name="Lot", order_by=("lot__code", "decided_at", "id")
    )
    product = tables.Column(
        accessor="lot__product__sku",
        verbose_name="Product",
        order_by=("lot__product__sku", "decided_at", "id"),
        attrs=WIDE_ONLY_CODE,
    )
    status = tables.Column(verbose_name="Decision", order_by=("status", "decided_at", "id"))
    decided_by = tables.Column(
        verbose_name="By",
        accessor="pk",
        order_by=("decided_by__username", "decided_at", "id"),
        attrs=WIDE_ONLY,
    )
    note = tables.Column(
        verbose_name="Note or reason",
        orderable=False,
        attrs={"th": {"class": "sy-wide-only"}, "td": {"class": "sy-wide-only small"}},
    )
    reverse = PartialColumn(
        template_name=REVERSE_TEMPLATE,
        verbose_name="",
        orderable=False,
        empty_values=(),
        extra_context=lambda table: {"return_to": table.return_to},
        attrs={"td": {"class": "pe-3 text-end"}},
    )

    class Meta(ListTable.Meta):
        row_attrs = {"data-testid": lambda record: f"decision-{record.pk}"}
        order_by = ("-decided_at",)
        empty_text = (
            "No QC decisions yet. They are listed here as inspectors approve or reject lots "
            "in the QC queue."
        )

    def __init__(self, *args, can_reverse: bool = False, return_to: str = "queue", **kwargs):
        if not can_reverse:
            kwargs["exclude"] = ("reverse",)
        self.return_to = return_to
        super().__init__(*args, **kwargs)

    def render_decided_at(self, value):
        # The day and the time may go on two lines, leaving room for the decision.
        local = timezone.localtime(value)
        return format_html(
            '<span class="text-nowrap">{}</span> <span class="text-nowrap">{}</span>',
            day(local),
            local.strftime("%H:%M"),
        )

    def render_lot(self, value, record):
        # On a phone the SKU and the moment go under the lot code, where their
        # columns step aside, so the decision and Reverse… stay on screen.
        return format_html(
            '<a class="sy-code" href="{}">{}</a><div class="d-sm-none small sy-code">{}</div>'
            '<div class="d-sm-none small text-body-secondary">{}</div>',
            lot_url(record.lot_id),
            value,
            record.lot.product.sku,
            moment(record.decided_at),
        )

    def render_status(self, record):
        reversal = ""
        if record.kind == QcDecisionKind.REVERSAL:
            reversal = format_html(
                '<span class="badge text-bg-secondary">Reversed</span> '
                '<span class="small text-body-secondary">{} →</span> ',
                record.get_previous_status_display(),
            )
        return format_html(
            '{}<span class="badge {}">{}</span>',
            reversal,
            STATUS_BADGES.get(record.status, "text-bg-light"),
            record.get_status_display(),
        )

    def render_decided_by(self, record):
        return decision_actor(record)

    def render_note(self, value):
        return Truncator(value).chars(NOTE_CHARACTERS)


class QcHistoryFilter(django_filters.FilterSet):
    """Outcome, kind, a lot code or SKU (part of one), and a date range (both days included).

    A value that does not validate is named next to its field and left out
    of the filter; the search is bounded to ``MAX_SEARCH_LENGTH`` characters
    before it reaches the database.
    """

    q = django_filters.CharFilter(
        label="Lot or SKU",
        method="search",
        max_length=MAX_SEARCH_LENGTH,
        error_messages={
            "max_length": "Type at most %(limit_value)d characters: part of a lot code or a SKU."
        },
    )
    status = django_filters.ChoiceFilter(
        label="Outcome",
        choices=QcStatus.choices,
        empty_label="Any outcome",
        error_messages={"invalid_choice": "Choose an outcome from the list."},
    )
    kind = django_filters.ChoiceFilter(
        label="Kind",
        choices=QcDecisionKind.choices,
        empty_label="Any kind",
        error_messages={"invalid_choice": "Choose decisions or reversals from the list."},
    )
    since = django_filters.DateFilter(
        method="filter_since", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        method="filter_until", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = QcDecision
        fields = ["q", "status", "kind", "since", "until"]
        form = HistoryFilterForm

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(lot__code__icontains=value) | Q(lot__product__sku__icontains=value)
        )

    def filter_since(self, queryset, name, value):
        return queryset.filter(decided_at__gte=start_of(value))

    def filter_until(self, queryset, name, value):
        return queryset.filter(decided_at__lt=start_of(value + datetime.timedelta(days=1)))

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.filters)

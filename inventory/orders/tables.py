"""The order list's table: sorted and paged in the database."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html

from inventory.models import OrderStatus
from inventory.web.tables import (
    WIDE_ONLY_CODE,
    WIDE_ONLY_NUMBER,
    CodeColumn,
    ListTable,
    MomentColumn,
)

# The badge of each status: what needs doing stands out, what is over is grey.
STATUS_BADGES = {
    OrderStatus.OPEN: "text-bg-warning",
    OrderStatus.ALLOCATED: "text-bg-info",
    OrderStatus.PICKING: "text-bg-primary",
    OrderStatus.SHIPPED: "text-bg-success",
    OrderStatus.CANCELLED: "text-bg-secondary",
}


def status_badge(status: str):
    return format_html(
        '<span class="badge {}" data-testid="order-status">{}</span>',
        STATUS_BADGES.get(status, "text-bg-light"),
        OrderStatus(status).label,
    )


class StatusColumn(tables.Column):
    def render(self, record):
        # The stored status, not the label django-tables2 would pass as ``value``.
        return status_badge(record.status)


class OrderTable(ListTable):
    reference = CodeColumn(
        verbose_name="Reference", linkify=("inventory:order", {"order_id": tables.A("pk")})
    )
    customer = tables.Column(verbose_name="Customer")
    warehouse = tables.Column(
        verbose_name="Warehouse",
        accessor="warehouse__code",
        order_by=("warehouse__code",),
        attrs=WIDE_ONLY_CODE,
    )
    line_count = tables.Column(
        verbose_name="Lines",
        attrs=WIDE_ONLY_NUMBER,
    )
    status = StatusColumn(verbose_name="Status")
    created_at = MomentColumn(
        verbose_name="Created",
        attrs={"th": {"class": "sy-wide-only"}, "td": {"class": "sy-wide-only text-nowrap"}},
    )

    class Meta(ListTable.Meta):
        order_by = ("-created_at",)
        empty_text = "No orders match. Clear the filters to see every order, or record a new order."

"""The list of reorder rules: SKU, warehouse, levels with the product's unit, a toggle, actions."""

from __future__ import annotations

import uuid

import django_tables2 as tables
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html

from analytics.models import ReorderRule
from inventory.web.tables import (
    WIDE_ONLY,
    WIDE_ONLY_CODE,
    WIDE_ONLY_NUMBER,
    CodeColumn,
    ListTable,
    QuantityColumn,
)

REGION = "rules-table"


def list_query(request) -> str:
    """The list's sort, page and filters, carried by a row's form to come back as it was."""
    query = request.GET.urlencode() if request is not None else ""
    return f"?{query}" if query else ""


class RuleTable(ListTable):
    sku = CodeColumn(
        verbose_name="SKU", accessor="product__sku", order_by=("product__sku_key", "id")
    )
    warehouse = CodeColumn(
        verbose_name="Warehouse",
        accessor="warehouse__code",
        order_by=("warehouse__code_key", "product__sku_key", "id"),
        attrs=WIDE_ONLY_CODE,  # on a phone, under the SKU
    )
    reorder_point = QuantityColumn(
        verbose_name="Reorder at",
        unit="product__uom",
        order_by=("reorder_point", "product__sku_key", "id"),
    )
    reorder_quantity = QuantityColumn(
        verbose_name="Order",
        unit="product__uom",
        order_by=("reorder_quantity", "product__sku_key", "id"),
        attrs=WIDE_ONLY_NUMBER,
    )
    available = QuantityColumn(
        verbose_name="Available",
        unit="product__uom",
        order_by=("available", "product__sku_key", "id"),
        attrs={
            "th": {"class": "text-end"},
            "td": {
                "class": lambda record: (
                    "sy-num text-danger fw-semibold"
                    if record.enabled and record.available < record.reorder_point
                    else "sy-num"
                ),
                "data-testid": "available",
            },
        },
    )
    enabled = tables.Column(verbose_name="Enabled", order_by=("-enabled", "product__sku_key", "id"))
    # On a phone the SKU opens the rule, whose page offers deleting it too.
    actions = tables.Column(
        verbose_name="",
        empty_values=(),
        orderable=False,
        attrs={"th": WIDE_ONLY["th"], "td": {"class": "text-end sy-wide-only"}},
    )

    class Meta(ListTable.Meta):
        model = ReorderRule
        fields = ()
        order_by = ("sku",)
        attrs = {"data-testid": "rules-table"}
        empty_text = (
            "No reorder rules yet. Add one with the form: the SKU, the warehouse, "
            "the point to reorder at and how much to order."
        )
        row_attrs = {
            "data-testid": lambda record: f"rule-{record.product.sku}-{record.warehouse.code}"
        }

    def render_sku(self, value, record):
        return format_html(
            '<a class="sy-code fw-semibold" href="{}">{}</a>'
            '<div class="small text-body-secondary text-truncate sy-rule-name sy-wide-only">'
            "{}</div>"
            '<div class="small sy-code sy-phone-only">{}</div>',
            reverse("analytics:reorder-rule-edit", args=[record.pk]),
            value,
            record.product.name,
            record.warehouse.code,
        )

    def render_enabled(self, value, record, table):
        request = getattr(table, "request", None)
        url = reverse("analytics:reorder-rule-toggle", args=[record.pk]) + list_query(request)
        label, css, wanted = (
            ("On", "btn-success", "0") if value else ("Off", "btn-outline-secondary", "1")
        )
        action = "Disable" if value else "Enable"
        return format_html(
            '<form method="post" action="{url}" hx-post="{url}" hx-target="#{region}" '
            'hx-swap="outerHTML" hx-disabled-elt="find button">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
            '<input type="hidden" name="idempotency_key" value="form:{key}">'
            '<input type="hidden" name="enabled" value="{wanted}">'
            '<button type="submit" class="btn btn-sm {css}" title="{action} this rule" '
            'aria-label="{action} the rule for {sku} in {warehouse}" data-testid="toggle">'
            "{label}</button></form>",
            url=url,
            region=REGION,
            token=get_token(request) if request is not None else "",
            key=uuid.uuid4(),
            wanted=wanted,
            css=css,
            action=action,
            sku=record.product.sku,
            warehouse=record.warehouse.code,
            label=label,
        )

    def render_actions(self, record):
        return format_html(
            '<span class="d-inline-flex gap-1">'
            '<a class="btn btn-sm btn-outline-primary" href="{}" title="Edit" data-testid="edit">'
            '<i class="bi bi-pencil" aria-hidden="true"></i>'
            '<span class="visually-hidden">Edit the rule for {} in {}</span></a>'
            '<a class="btn btn-sm btn-outline-danger" href="{}" title="Delete" '
            'data-testid="delete">'
            '<i class="bi bi-trash" aria-hidden="true"></i>'
            '<span class="visually-hidden">Delete the rule for {} in {}</span></a>'
            "</span>",
            reverse("analytics:reorder-rule-edit", args=[record.pk]),
            record.product.sku,
            record.warehouse.code,
            reverse("analytics:reorder-rule-delete", args=[record.pk]),
            record.product.sku,
            record.warehouse.code,
        )

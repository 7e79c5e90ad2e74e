"""Lot trace screens (QC and managers): a lot from receipt to its customers, and back.

``trace`` finds a lot by its code (every product's lot with that code) or
a customer by name; ``lot`` is a lot's whole story; both export as CSV for
a recall. Read-only, in the request's tenant transaction: another tenant's
lot answers 404 like a missing one.
"""

from __future__ import annotations

import re

from django.http import Http404
from django.shortcuts import redirect, render

from inventory.core.errors import NotFound
from inventory.ledger.history import (
    MAX_CUSTOMER_ORDERS,
    actor_name,
    customer_receipts,
    lot_movements,
)
from inventory.lots.forms import TraceForm
from inventory.lots.selectors import get_lot, lot_bins, lot_decisions, lots_with_code
from inventory.lots.tables import CustomerReceiptTable, MovementTable
from inventory.web.access import TRACE_ROLES
from inventory.web.exports import csv_response
from inventory.web.tables import configure_table, render_region
from warehouse.access import role_required

# A CSV export stops here (a lot or a customer has far fewer rows than this).
MAX_CSV_ROWS = 100_000


def _file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "unnamed"


def _lot_or_404(lot_id):
    try:
        return get_lot(lot_id)
    except NotFound:
        raise Http404("No such lot.") from None


@role_required(*TRACE_ROLES)
def trace(request):
    """Find a lot by code, or what a customer received; one matching lot opens its trace."""
    form = TraceForm(request.GET or None)
    lots, table = None, None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["lot"]:
            lots = list(lots_with_code(data["lot"]))
            if len(lots) == 1:
                return redirect("inventory:lot", lot_id=lots[0].pk)
        else:
            table = CustomerReceiptTable(customer_receipts(data["customer"]))
            configure_table(request, table)
    context = {
        "form": form,
        "lots": lots,
        "table": table,
        "max_orders": MAX_CUSTOMER_ORDERS,
    }
    status = 422 if form.is_bound and form.errors else 200
    return render_region(
        request, "inventory/lots/trace.html", "customer-table", context, status=status
    )


@role_required(*TRACE_ROLES)
def customer_trace_csv(request):
    form = TraceForm(request.GET)
    if not form.is_valid() or not form.cleaned_data["customer"]:
        return render(request, "inventory/lots/trace.html", {"form": form}, status=422)
    name = form.cleaned_data["customer"]
    entries = customer_receipts(name)[:MAX_CSV_ROWS]
    rows = (
        (
            entry.occurred_at.isoformat(),
            entry.customer,
            entry.order_reference,
            entry.product.sku,
            entry.product.name,
            entry.lot.code,
            entry.lot.expires_on.isoformat() if entry.lot.expires_on else "",
            -entry.quantity,
            entry.product.uom,
            entry.warehouse.code,
        )
        for entry in entries.iterator(chunk_size=2000)
    )
    header = [
        "shipped_at",
        "customer",
        "order",
        "sku",
        "product",
        "lot",
        "lot_expires_on",
        "quantity",
        "unit",
        "warehouse",
    ]
    return csv_response(f"customer-{_file_part(name)}-lots.csv", header, rows)


@role_required(*TRACE_ROLES)
def lot(request, lot_id: int):
    """A lot's trace: what it is, where it still is, and every movement, oldest first."""
    lot = _lot_or_404(lot_id)
    table = MovementTable(lot_movements(lot), uom=lot.product.uom)
    configure_table(request, table)
    context = {"lot": lot, "table": table}
    if not (request.htmx and request.htmx.target == "movement-table"):
        context.update(bins=lot_bins(lot), decisions=lot_decisions(lot))
    return render_region(request, "inventory/lots/lot.html", "movement-table", context)


@role_required(*TRACE_ROLES)
def lot_trace_csv(request, lot_id: int):
    """The lot's movements as CSV: plain numbers and ISO times, for a spreadsheet."""
    lot = _lot_or_404(lot_id)
    product = lot.product
    rows = (
        (
            entry.occurred_at.isoformat(),
            entry.get_kind_display(),
            product.sku,
            lot.code,
            entry.warehouse.code,
            entry.location.code,
            entry.quantity,
            product.uom,
            entry.order_reference,
            entry.customer,
            actor_name(entry),
            entry.reason,
        )
        for entry in lot_movements(lot)[:MAX_CSV_ROWS].iterator(chunk_size=2000)
    )
    header = [
        "occurred_at",
        "kind",
        "sku",
        "lot",
        "warehouse",
        "bin",
        "quantity",
        "unit",
        "order",
        "customer",
        "who",
        "reason",
    ]
    return csv_response(f"lot-{_file_part(lot.code)}-trace.csv", header, rows)

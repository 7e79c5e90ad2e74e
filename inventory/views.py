"""Inventory screens: receive stock, work the QC queue, look up stock.

The screens that write (receive, QC decide, QC reverse) are ``write_screen``
views: they read the form's objects and render in short tenant contexts and
write through the write policy (``inventory.core.writes``), so a deadlock or a
lock held too long is retried and at worst shown as a message in place.
"""

import functools

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from inventory.core.errors import (
    DomainError,
    DuplicateLotCode,
    InvalidQuantity,
    LocationNotFound,
    LocationNotReceivable,
    LotExpiredOnReceipt,
    LotNotInQuarantine,
    NotFound,
)
from inventory.core.writes import acting_for, write, write_form, write_idempotent, write_screen
from inventory.forms import QcDecisionForm, QcReversalForm, ReceiveForm, StockFilterForm
from inventory.ledger.posting import Actor
from inventory.lots.qc_tables import QcHistoryFilter, QcHistoryTable, QcQueueTable
from inventory.lots.selectors import (
    get_lot,
    qc_decision_history,
    quarantine_queue,
    queue_lot,
    recent_qc_decisions,
)
from inventory.lots.services import approve_lot, reject_lot, reverse_qc_decision
from inventory.models import QcStatus
from inventory.stock.overview_tables import StockTable
from inventory.stock.receipts import receive_stock
from inventory.stock.selectors import stock_rows
from inventory.templatetags.stock import quantity
from inventory.web.tables import configure_table, render_region
from warehouse.access import member_required, role_required
from warehouse.models import Role, Warehouse

# The field a refused receipt is shown on (others above the form).
RECEIPT_ERROR_FIELDS = {
    LocationNotFound: "location",
    LocationNotReceivable: "location",
    LotExpiredOnReceipt: "expires_on",
    DuplicateLotCode: "lot_code",
    InvalidQuantity: "quantity",
}
# The warehouse of the last receipt, preselected on the next form.
LAST_WAREHOUSE = "inventory.receive.warehouse"


def _status(form) -> int:
    return 422 if form.errors else 200


def _problems(form) -> str:
    """Every error of ``form`` in one line, for a message or a table row."""
    return " ".join(message for errors in form.errors.values() for message in errors)


def _receive_form(request, data=None) -> ReceiveForm:
    warehouse_id = request.session.get(LAST_WAREHOUSE)
    warehouse = Warehouse.objects.filter(pk=warehouse_id, is_active=True).first()
    return ReceiveForm(data, initial={"warehouse": warehouse} if warehouse else {})


def _receipt_payload(data: dict) -> dict:
    location = data["location_object"]
    return {
        "sku": data["sku_object"].sku,
        "warehouse": data["warehouse"].code,
        "location": location.code if location else None,
        "lot_code": data["lot_code"],
        "quantity": data["quantity"],
        "expires_on": data["expires_on"],
        "unit_cost": data["unit_cost"],
    }


def _receive_stock(request, data: dict, operation) -> tuple[int, dict]:
    receipt = receive_stock(
        tenant=request.tenant,
        product=data["sku_object"],
        warehouse=data["warehouse"],
        location=data["location_object"],
        lot_code=data["lot_code"],
        quantity=data["quantity"],
        expires_on=data["expires_on"],
        unit_cost=data["unit_cost"],
        actor=Actor.user(request.user),
        operation=operation,
    )
    return 201, receipt.as_dict()


@write_screen
@role_required(Role.OPERATOR, Role.MANAGER)
def receive(request):
    """Receive goods into a new lot; the form's key makes a double submit harmless."""
    result = None
    with acting_for(request):
        form = _receive_form(request, request.POST or None)
        is_submitted = request.method == "POST" and form.is_valid()
    if is_submitted:
        data = form.cleaned_data
        result = write_form(
            form,
            tenant=request.tenant,
            kind="receipt",
            payload=_receipt_payload(data),
            perform=functools.partial(_receive_stock, request, data),
            error_fields=RECEIPT_ERROR_FIELDS,
        )
        if result is not None:
            request.session[LAST_WAREHOUSE] = data["warehouse"].pk
            if not request.htmx:
                level = messages.warning if result.get("is_expired") else messages.success
                level(request, receipt_message(result))
                return redirect("inventory:receive")
            form = None
    template = "inventory/receive.html#receive-panel" if request.htmx else "inventory/receive.html"
    with acting_for(request):
        if form is None:
            form = _receive_form(request)
        return render(request, template, {"form": form, "result": result}, status=_status(form))


def receipt_message(result: dict) -> str:
    if result.get("is_expired"):
        state = f"EXPIRED on {result['expires_on']}, on hand but not available"
    else:
        state = {
            QcStatus.QUARANTINE: "in quarantine until QC decides",
            QcStatus.APPROVED: "available",
        }.get(result["qc_status"], result["qc_status"].lower())
    message = (
        f"Received {quantity(result['quantity'])} {result['uom']} of {result['sku']} as lot "
        f"{result['lot_code']} into {result['location']}: {state}."
    )
    if result.get("replayed"):
        message += " (This receipt was already recorded; nothing was received twice.)"
    return message


def _can_reverse(request) -> bool:
    return request.membership.has_role(Role.MANAGER)


# The queue page's short panel; the rest of the history is a screen of its own.
RECENT_DECISIONS = 10
QC_ROLES = (Role.QC, Role.MANAGER)


@role_required(*QC_ROLES)
def qc_queue(request):
    """Lots waiting for QC, sorted and paged by the database, and the latest decisions."""
    table = configure_table(request, QcQueueTable(quarantine_queue()))
    can_reverse = _can_reverse(request)
    context = {"table": table, "waiting": table.paginator.count, "can_reverse": can_reverse}
    # The recent decisions sit outside the region that sorts and pages.
    is_whole_page = not (request.htmx and request.htmx.target == "qc-queue")
    if is_whole_page and (decisions := recent_qc_decisions(RECENT_DECISIONS)):
        context["decisions"] = QcHistoryTable(decisions, can_reverse=can_reverse, orderable=False)
    return render_region(request, "inventory/qc_queue.html", "qc-queue", context)


@role_required(*QC_ROLES)
def qc_history(request):
    """Every QC decision and reversal: filtered, sorted and paged by the database."""
    filters = QcHistoryFilter(request.GET or None, queryset=qc_decision_history())
    table = QcHistoryTable(filters.qs, can_reverse=_can_reverse(request), return_to="history")
    configure_table(request, table)
    if filters.is_filtered:
        table.empty_text = "No decisions match these filters. Clear one, or widen the dates."
    status = 422 if filters.is_bound and filters.errors else 200
    context = {"filters": filters, "table": table}
    return render_region(request, "inventory/qc_history.html", "qc-history", context, status=status)


def _decide_lot(request, lot, data: dict, operation) -> tuple[int, dict]:
    decide = approve_lot if data["decision"] == "approve" else reject_lot
    decided = decide(
        tenant=request.tenant, lot=lot, actor=Actor.user(request.user), note=data["note"]
    )
    return 200, {"lot": decided.pk, "qc_status": decided.qc_status}


def _lot_or_404(lot_id: int):
    try:
        return get_lot(lot_id)
    except NotFound:
        raise Http404("No such lot.") from None


@write_screen
@require_POST
@role_required(*QC_ROLES)
def qc_decide(request, lot_id: int):
    """Approve or reject one lot: only the button pressed decides, never Enter or a default."""
    with acting_for(request):
        lot = _lot_or_404(lot_id)
    form = QcDecisionForm(request.POST)
    error = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            write_idempotent(
                tenant=request.tenant,
                key=data["idempotency_key"] or None,
                kind="qc-decision",
                payload={"lot": lot.pk, "decision": data["decision"], "note": data["note"]},
                perform=functools.partial(_decide_lot, request, lot, data),
            )
        except LotNotInQuarantine as failure:
            # Someone decided first: say who and when, and show the lot as it is.
            error = f"Not recorded: {failure.message}"
        except DomainError as failure:
            error = failure.message
    else:
        error = _problems(form)
    with acting_for(request):
        lot = _lot_or_404(lot_id)
        if not request.htmx:
            if error:
                messages.error(request, f"Lot {lot.code}: {error}")
            else:
                state = lot.get_qc_status_display().lower()
                messages.success(request, f"Lot {lot.code} of {lot.product.sku} is now {state}.")
            return redirect("inventory:qc-queue")
        row = queue_lot(lot.pk)
        row.decision_error = error
        # The row stays where it was (decided); the waiting count beside the
        # heading is swapped out of band, so both say the same thing.
        table = QcQueueTable([row], request=request)
        context = {"table": table, "oob": True, "waiting": quarantine_queue().count()}
        return render(
            request, "inventory/qc_queue.html#qc-row", context, status=422 if error else 200
        )


@write_screen
@require_POST
@role_required(Role.MANAGER)
def qc_reverse(request, lot_id: int):
    """A manager corrects a QC decision, with a reason; the history keeps both."""
    with acting_for(request):
        lot = _lot_or_404(lot_id)
    form = QcReversalForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            lot = write(
                reverse_qc_decision,
                tenant=request.tenant,
                lot=lot,
                actor=Actor.user(request.user),
                reason=data["reason"],
                status=data["status"],
                previous_status=data["previous_status"],
            )
        except DomainError as failure:
            messages.error(request, f"Lot {lot.code}: not reversed. {failure.message}")
        else:
            with acting_for(request):
                sku = lot.product.sku
            state = lot.get_qc_status_display().lower()
            messages.success(request, f"Decision on lot {lot.code} of {sku} reversed: now {state}.")
    else:
        messages.error(request, f"Lot {lot.code}: not reversed. {_problems(form)}")
    # A reversal made on the history goes back to it; anything else to the queue.
    if request.POST.get("return_to") == "history":
        return redirect("inventory:qc-history")
    return redirect("inventory:qc-queue")


@member_required
def stock(request):
    """Stock per product and warehouse, searched, sorted and paged by the database."""
    form = StockFilterForm(request.GET or None)
    query, warehouse, status = "", None, 200
    if form.is_bound and not form.is_valid():
        # A hand-edited link (a warehouse that is not this tenant's): say so, show nothing.
        rows, status = [], 422
    else:
        if form.is_bound:
            query, warehouse = form.cleaned_data["q"], form.cleaned_data["warehouse"]
        rows = stock_rows(query=query, warehouse=warehouse)
    table = configure_table(request, StockTable(rows))
    if query:
        table.empty_text = f"No stock matches “{query}”. Try part of the SKU or another word."
    context = {"form": form, "table": table, "query": query}
    return render_region(request, "inventory/stock.html", "stock-table", context, status=status)

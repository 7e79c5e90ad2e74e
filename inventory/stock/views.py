"""Floor screens of stock in bins: the put-away list, moves, the bin page, adjustments.

Moves and adjustments are ``write_screen`` views like the receive screen: they
read and render in short tenant contexts (``acting_for``) and write through
the write policy with the form's idempotency key, so a double submit or a
double scan moves or adjusts once. Each answers in place to htmx and with a
redirect and a message to a plain form post.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from inventory.core.errors import (
    InsufficientStock,
    InvalidQuantity,
    LocationNotFound,
    LotNotFound,
    NotFound,
)
from inventory.core.writes import acting_for, write_form, write_screen
from inventory.ledger.posting import Actor
from inventory.stock import bins
from inventory.stock.forms import AdjustmentForm, MoveForm, WarehouseFilter
from inventory.stock.movements import adjust_stock, move_stock
from inventory.stock.tables import (
    AdjustmentsTable,
    BinContentsTable,
    BinMovementsTable,
    PutAwayTable,
)
from inventory.templatetags.stock import quantity
from inventory.web.tables import configure_table, render_region
from warehouse.access import member_required, role_required
from warehouse.models import Role, Warehouse

# The warehouse of the last move or adjustment, preselected on the next form
# (the receive screen's, until the first one).
LAST_WAREHOUSE = "inventory.stock.warehouse"
RECEIVE_WAREHOUSE = "inventory.receive.warehouse"
# Where a refused move or adjustment is shown (others above the form).
MOVE_ERROR_FIELDS = {
    InsufficientStock: "quantity",
    InvalidQuantity: "quantity",
    LocationNotFound: "to_location",
    LotNotFound: "lot_code",
}
ADJUSTMENT_ERROR_FIELDS = {
    InsufficientStock: "quantity",
    InvalidQuantity: "quantity",
    LocationNotFound: "location",
    LotNotFound: "lot_code",
}
MOVE_PREFILL = ("from_location", "lot_code", "sku", "quantity", "to_location")
ADJUSTMENT_PREFILL = ("location", "lot_code", "sku")


def _status(form) -> int:
    return 422 if form.errors else 200


def _remembered_warehouse(request) -> Warehouse | None:
    for key in (LAST_WAREHOUSE, RECEIVE_WAREHOUSE):
        warehouse_id = request.session.get(key)
        if isinstance(warehouse_id, int):
            warehouse = Warehouse.objects.filter(pk=warehouse_id, is_active=True).first()
            if warehouse is not None:
                return warehouse
    return None


def _initial(request, names: tuple[str, ...]) -> dict:
    """Fields filled in from the link that opened the form (put-away row, bin page).

    Only text that fits a field is taken; the form checks it all again on submit.
    """
    initial = {}
    for name in names:
        value = request.GET.get(name, "").strip()
        if value and len(value) <= 64 and value.isprintable():
            initial[name] = value
    warehouse_id = request.GET.get("warehouse", "")
    if warehouse_id.isascii() and warehouse_id.isdigit() and len(warehouse_id) <= 18:
        warehouse = Warehouse.objects.filter(pk=int(warehouse_id), is_active=True).first()
        if warehouse is not None:
            initial["warehouse"] = warehouse
    if "warehouse" not in initial:
        warehouse = _remembered_warehouse(request)
        if warehouse is not None:
            initial["warehouse"] = warehouse
    return initial


# -- put-away -------------------------------------------------------------------


@role_required(Role.OPERATOR, Role.MANAGER)
def put_away(request):
    """What waits in receiving bins, oldest first, each with a suggested bin."""
    filters = WarehouseFilter(request.GET or None, queryset=bins.put_away_list(), request=request)
    table = configure_table(request, PutAwayTable(filters.qs))
    table.suggestions = bins.suggest_bins(row.record for row in table.page.object_list)
    return render_region(
        request,
        "inventory/stock/put_away.html",
        "put-away-table",
        {"filters": filters, "table": table},
    )


# -- moves --------------------------------------------------------------------


def _move_form(request, data=None) -> MoveForm:
    initial = _initial(request, MOVE_PREFILL) if data is None else {}
    # The first field left to scan; opened from a put-away row, that is the bin
    # the stock really goes to (the suggestion, selected, ready to be replaced).
    empty = [name for name in MoveForm.REQUIRED_SCANS if not initial.get(name)]
    return MoveForm(data, initial=initial, focus=empty[0] if empty else "to_location")


def _move_payload(data: dict) -> dict:
    return {
        "warehouse": data["warehouse"].code,
        "from_location": data["from_object"].code,
        "to_location": data["to_object"].code,
        "lot_id": data["balance"].lot_id,
        "quantity": data["quantity"],
    }


def _move_stock(request, data: dict, operation) -> tuple[int, dict]:
    balance = data["balance"]
    move = move_stock(
        tenant=request.tenant,
        lot=balance.lot,
        from_location=data["from_object"],
        to_location=data["to_object"],
        quantity=data["quantity"],
        actor=Actor.user(request.user),
        operation=operation,
    )
    return 201, {
        "sku": balance.product.sku,
        "uom": balance.product.uom,
        "lot_code": balance.lot.code,
        "quantity": str(move.in_entry.quantity),
        "from_location": data["from_object"].code,
        "from_location_id": data["from_object"].pk,
        "to_location": data["to_object"].code,
        "to_location_id": data["to_object"].pk,
    }


def move_message(result: dict) -> str:
    message = (
        f"Moved {quantity(result['quantity'])} {result['uom']} of {result['sku']} lot "
        f"{result['lot_code']} from {result['from_location']} to {result['to_location']}."
    )
    if result.get("replayed"):
        message += " (This move was already recorded; nothing was moved twice.)"
    return message


@write_screen
@role_required(Role.OPERATOR, Role.MANAGER)
def move(request):
    """Scan the bin, the lot, the quantity and the bin it goes to; the form's key moves once."""
    result = None
    with acting_for(request):
        form = _move_form(request, request.POST if request.method == "POST" else None)
        is_submitted = request.method == "POST" and form.is_valid()
    if is_submitted:
        data = form.cleaned_data
        result = write_form(
            form,
            tenant=request.tenant,
            kind="move",
            payload=_move_payload(data),
            perform=functools.partial(_move_stock, request, data),
            error_fields=MOVE_ERROR_FIELDS,
        )
        if result is not None:
            request.session[LAST_WAREHOUSE] = data["warehouse"].pk
            if not request.htmx:
                messages.success(request, move_message(result))
                return redirect("inventory:move")
            form = None
    template = "inventory/stock/move.html"
    with acting_for(request):
        if form is None:
            form = MoveForm(initial={"warehouse": data["warehouse"]})
        context = {"form": form, "result": result, "message": result and move_message(result)}
        if request.htmx:
            return render(request, f"{template}#move-panel", context, status=_status(form))
        return render(request, template, context, status=_status(form))


# -- the bin page -------------------------------------------------------------------


BIN_REGIONS = ("bin-contents", "bin-movements")


@member_required
def bin_detail(request, location_id: int):
    """What is in one bin and what moved there lately, with the actions the role may take."""
    try:
        location = bins.get_bin(location_id)
    except NotFound:
        raise Http404("No such bin.") from None
    can_move = request.membership.has_role(Role.OPERATOR, Role.MANAGER)
    can_adjust = request.membership.has_role(Role.MANAGER)
    contents = configure_table(
        request,
        BinContentsTable(bins.bin_contents(location), can_move=can_move, can_adjust=can_adjust),
    )
    movements = configure_table(request, BinMovementsTable(bins.bin_movements(location)), lazy=True)
    region = request.htmx.target if request.htmx and request.htmx.target in BIN_REGIONS else None
    return render_region(
        request,
        "inventory/stock/bin.html",
        region or BIN_REGIONS[0],
        {
            "location": location,
            "contents": contents,
            "movements": movements,
            "can_move": can_move,
            "can_adjust": can_adjust,
        },
    )


# -- adjustments -------------------------------------------------------------------


def _adjustment_payload(data: dict) -> dict:
    return {
        "location_id": data["location_object"].pk,
        "lot_id": data["lot_object"].pk,
        "quantity_delta": data["quantity"],
        "reason": data["reason_text"],
    }


def _adjust_stock(request, data: dict, operation) -> tuple[int, dict]:
    lot = data["lot_object"]
    entry = adjust_stock(
        tenant=request.tenant,
        lot=lot,
        location=data["location_object"],
        quantity_delta=data["quantity"],
        reason=data["reason_text"],
        actor=Actor.user(request.user),
        operation=operation,
    )
    return 201, {
        "sku": lot.product.sku,
        "uom": lot.product.uom,
        "lot_code": lot.code,
        "location": data["location_object"].code,
        "location_id": data["location_object"].pk,
        "quantity": str(entry.quantity),
        "reason": entry.reason,
    }


def adjustment_message(result: dict) -> str:
    change = quantity(result["quantity"])
    verb, amount = ("Removed", change.lstrip("-")) if change.startswith("-") else ("Added", change)
    message = (
        f"{verb} {amount} {result['uom']} of {result['sku']} lot {result['lot_code']} "
        f"{'from' if verb == 'Removed' else 'to'} {result['location']}: {result['reason']}."
    )
    if result.get("replayed"):
        message += " (This adjustment was already recorded; nothing was changed twice.)"
    return message


def _adjustments_table(request):
    filters = WarehouseFilter(
        request.GET or None, queryset=bins.recent_adjustments(), request=request
    )
    return filters, configure_table(request, AdjustmentsTable(filters.qs), lazy=True)


@write_screen
@role_required(Role.MANAGER)
def adjustments(request):
    """A manager adds or removes stock with a reason; the list shows who did what."""
    template = "inventory/stock/adjustments.html"
    if request.method != "POST":
        with acting_for(request):
            filters, table = _adjustments_table(request)
            form = AdjustmentForm(initial=_initial(request, ADJUSTMENT_PREFILL))
            return render_region(
                request,
                template,
                "adjustments-table",
                {"form": form, "filters": filters, "table": table},
            )
    result = None
    with acting_for(request):
        form = AdjustmentForm(request.POST)
        is_valid = form.is_valid()
    if is_valid:
        data = form.cleaned_data
        result = write_form(
            form,
            tenant=request.tenant,
            kind="adjustment",
            payload=_adjustment_payload(data),
            perform=functools.partial(_adjust_stock, request, data),
            error_fields=ADJUSTMENT_ERROR_FIELDS,
        )
        if result is not None:
            request.session[LAST_WAREHOUSE] = data["warehouse"].pk
            if not request.htmx:
                messages.success(request, adjustment_message(result))
                return redirect("inventory:adjustments")
            form = None
    with acting_for(request):
        if form is None:
            form = AdjustmentForm(initial={"warehouse": data["warehouse"]})
        context = {
            "form": form,
            "result": result,
            "message": result and adjustment_message(result),
        }
        if request.htmx:
            # The list below the form shows the new adjustment too (an out-of-band swap).
            if result:
                context["filters"], context["table"] = _adjustments_table(request)
                context["refresh_table"] = True
            return render(request, f"{template}#adjust-panel", context, status=_status(form))
        context["filters"], context["table"] = _adjustments_table(request)
        return render(request, template, context, status=_status(form))

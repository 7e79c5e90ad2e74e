"""Order screens: the list, a new order, an order's detail and its actions, and picking.

Who may do what: operators and managers see, create and allocate orders,
pick them and ship them; only managers cancel (a cancel gives the goods
back to the shelves and the customer nothing, so it is a decision, not a
floor task). Each action is a ``write_screen`` view writing through the
write policy with the form's idempotency key, so a double click or a
double scan takes effect once. An htmx request gets the changed region
back (a refusal with 422 and the reason in place); a plain form post is
redirected with a message.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from inventory.core.errors import (
    DomainError,
    DuplicateOrderReference,
    NotFound,
    ValidationFailed,
)
from inventory.core.writes import acting_for, write_idempotent, write_screen
from inventory.ledger.posting import Actor
from inventory.models import OrderStatus, Pick
from inventory.orders import selectors
from inventory.orders.filters import OrderFilter
from inventory.orders.forms import (
    MAX_PICK_ID,
    ActionForm,
    OrderForm,
    OrderLineFormSet,
    PickStepForm,
)
from inventory.orders.picking import check_bin, check_lot, pick_line, start_picking
from inventory.orders.services import allocate_order, cancel_order, create_order
from inventory.orders.shipping import ship_order
from inventory.orders.tables import OrderTable, status_badge
from inventory.reservations.requests import LineRequest
from inventory.templatetags.stock import quantity as plain_quantity
from inventory.web.tables import configure_table, render_region
from warehouse.access import role_required
from warehouse.models import Role

FLOOR_ROLES = (Role.OPERATOR, Role.MANAGER)
CANCEL_ROLES = (Role.MANAGER,)


def _problems(form) -> str:
    return " ".join(message for errors in form.errors.values() for message in errors)


def _order_or_404(request, order_id: int):
    # The URL's digits are unbounded; PostgreSQL's bigint is not.
    if not 0 < order_id <= MAX_PICK_ID:
        raise Http404("No such order.")
    try:
        return selectors.get_order(tenant=request.tenant, order_id=order_id)
    except NotFound:
        raise Http404("No such order.") from None


# -- the list -------------------------------------------------------------------------


@role_required(*FLOOR_ROLES)
def order_list(request):
    """Orders, filtered by status and searched by reference or customer; sorted and paged."""
    filters = OrderFilter(request.GET or None, queryset=selectors.order_list())
    table = configure_table(request, OrderTable(filters.qs))
    return render_region(
        request,
        "inventory/orders/orders.html",
        "orders-table",
        {"filters": filters, "table": table},
    )


# -- a new order ----------------------------------------------------------------------

CREATE_ERROR_FIELDS = {DuplicateOrderReference: "reference", ValidationFailed: None}


def _create(request, form, lines, operation) -> tuple[int, dict]:
    order = create_order(
        tenant=request.tenant,
        warehouse=form.cleaned_data["warehouse"],
        reference=form.cleaned_data["reference"],
        customer=form.cleaned_data["customer"],
        lines=[LineRequest(product=product, quantity=quantity) for product, quantity in lines],
    )
    return 201, {"id": order.pk, "reference": order.reference}


@write_screen
@role_required(*FLOOR_ROLES)
def order_create(request):
    """Record an order: its head and up to five lines; errors stay on their fields."""
    data = request.POST if request.method == "POST" else None
    with acting_for(request):
        form = OrderForm(data)
        lines = OrderLineFormSet(data, prefix="lines")
        is_valid = data is not None and form.is_valid() & lines.is_valid()
    if is_valid:
        payload = {
            "reference": form.cleaned_data["reference"],
            "customer": form.cleaned_data["customer"],
            "warehouse": form.cleaned_data["warehouse"].pk,
            "lines": [[product.pk, str(quantity)] for product, quantity in lines.lines()],
        }
        try:
            outcome = write_idempotent(
                tenant=request.tenant,
                key=form.cleaned_data["idempotency_key"],
                kind="order",
                payload=payload,
                perform=functools.partial(_create, request, form, lines.lines()),
            )
        except DomainError as error:
            form.add_error(CREATE_ERROR_FIELDS.get(type(error)), error.message)
        else:
            url = reverse("inventory:order", args=[outcome.body["id"]])
            messages.success(
                request,
                f"Order {outcome.body['reference']} recorded. Allocate it to hold its stock.",
            )
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    status = 422 if data is not None else 200
    template = "inventory/orders/order_form.html"
    if request.htmx:
        template += "#order-form"
    with acting_for(request):
        return render(request, template, {"form": form, "lines": lines}, status=status)


# -- one order ------------------------------------------------------------------------


def _detail_context(request, order, *, error: str = "", notice: str = "") -> dict:
    detail = selectors.order_detail(order)
    membership = request.membership
    status = order.status
    is_floor = membership.has_role(*FLOOR_ROLES)
    return {
        "order": order,
        "detail": detail,
        "status_badge": status_badge(status),
        "error": error,
        "notice": notice,
        "can_allocate": is_floor and status == OrderStatus.OPEN,
        "can_pick": is_floor and status in (OrderStatus.ALLOCATED, OrderStatus.PICKING),
        "can_ship": is_floor
        and (
            status == OrderStatus.ALLOCATED or (status == OrderStatus.PICKING and detail.is_picked)
        ),
        "can_cancel": membership.has_role(*CANCEL_ROLES)
        and status in (OrderStatus.OPEN, OrderStatus.ALLOCATED, OrderStatus.PICKING),
        "allocate_form": ActionForm(),
        "pick_form": ActionForm(),
        "ship_form": ActionForm(),
        "cancel_form": ActionForm(),
    }


@role_required(*FLOOR_ROLES)
def order_detail(request, order_id: int):
    """An order: its lines (ordered, held, picked, short), what is held where, its actions."""
    order = _order_or_404(request, order_id)
    return render(request, "inventory/orders/order.html", _detail_context(request, order))


def _act(request, order_id: int, *, kind: str, perform, done: str, next_url: str | None = None):
    """Run one order action under the write policy; answer in place or redirect."""
    with acting_for(request):
        order = _order_or_404(request, order_id)
    form = ActionForm(request.POST)
    error = ""
    if not form.is_valid():
        error = "The form is incomplete; reload the page and try again."
    else:
        try:
            write_idempotent(
                tenant=request.tenant,
                key=form.cleaned_data["idempotency_key"],
                kind=kind,
                payload={"order_id": order.pk},
                perform=lambda operation: perform(order, operation) or (200, {}),
            )
        except DomainError as failure:
            error = failure.message
    url = next_url or reverse("inventory:order", args=[order.pk])
    if not request.htmx:
        if error:
            messages.error(request, f"Order {order.reference}: {error}")
        else:
            messages.success(request, done.format(reference=order.reference))
        return redirect(url)
    if next_url and not error:
        messages.success(request, done.format(reference=order.reference))
        return HttpResponseClientRedirect(url)
    with acting_for(request):
        order = _order_or_404(request, order_id)
        context = _detail_context(
            request,
            order,
            error=error,
            notice="" if error else done.format(reference=order.reference),
        )
        return render(
            request,
            "inventory/orders/order.html#order-panel",
            context,
            status=422 if error else 200,
        )


@write_screen
@require_POST
@role_required(*FLOOR_ROLES)
def order_allocate(request, order_id: int):
    def perform(order, operation):
        allocate_order(
            tenant=request.tenant,
            order_id=order.pk,
            actor=Actor.user(request.user),
            operation=operation,
        )

    return _act(
        request,
        order_id,
        kind="order_allocate",
        perform=perform,
        done="Order {reference} allocated: its stock is held.",
    )


@write_screen
@require_POST
@role_required(*FLOOR_ROLES)
def order_start_picking(request, order_id: int):
    def perform(order, operation):
        start_picking(tenant=request.tenant, order_id=order.pk, actor=Actor.user(request.user))

    return _act(
        request,
        order_id,
        kind="order_start_picking",
        perform=perform,
        done="Picking order {reference}: go to the first bin.",
        next_url=reverse("inventory:pick", args=[order_id]),
    )


@write_screen
@require_POST
@role_required(*FLOOR_ROLES)
def order_ship(request, order_id: int):
    def perform(order, operation):
        ship_order(
            tenant=request.tenant,
            order_id=order.pk,
            actor=Actor.user(request.user),
            operation=operation,
        )

    return _act(
        request,
        order_id,
        kind="order_ship",
        perform=perform,
        done="Order {reference} shipped.",
    )


@write_screen
@require_POST
@role_required(*CANCEL_ROLES)
def order_cancel(request, order_id: int):
    def perform(order, operation):
        cancel_order(
            tenant=request.tenant,
            order_id=order.pk,
            actor=Actor.user(request.user),
            operation=operation,
        )

    return _act(
        request,
        order_id,
        kind="order_cancel",
        perform=perform,
        done="Order {reference} cancelled; everything held for it is released.",
    )


# -- picking --------------------------------------------------------------------------


def _pick_context(request, order, *, step="bin", pick=None, data=None, error="", notice=""):
    picks = list(selectors.picks_for(order))
    current = pick or selectors.next_pick(picks)
    if current is not None and pick is not None:
        # The pick being worked, as it is now (another handheld may have picked it).
        current = next((row for row in picks if row.pk == pick.pk), current)
    done = sum(1 for row in picks if row.is_done)
    remaining_text = ""
    if current is not None:
        places = current.product.quantity_places
        remaining_text = f"{current.remaining:.{places}f}"
    return {
        "remaining_text": remaining_text,
        "order": order,
        "picks": picks,
        "pick": current,
        "step": step if current is not None and not current.is_done else "bin",
        "data": data or {},
        "done": done,
        "total": len(picks),
        "is_picked": bool(picks) and done == len(picks),
        "error": error,
        "notice": notice,
        "pick_form": ActionForm(),
        "short_form": ActionForm(),
        "action_form": ActionForm(),
        "short_reasons": PickStepForm.base_fields["short_reason"].choices,
    }


def _pick_of(order, pick_id: int) -> Pick:
    pick = (
        Pick.objects.select_related("product", "lot", "location", "order")
        .filter(order=order, pk=pick_id)
        .first()
    )
    if pick is None:
        raise Http404("No such pick.")
    return pick


def _record_pick(request, pick, data, operation) -> tuple[int, dict]:
    outcome = pick_line(
        tenant=request.tenant,
        pick_id=pick.pk,
        bin_code=data["bin_code"],
        lot_code=data["lot_code"],
        quantity=data["quantity"],
        short_reason=data["short_reason"] if data["step"] == "short" else "",
        actor=Actor.user(request.user),
        operation=operation,
    )
    return 200, {
        "picked": str(outcome.pick.picked),
        "short": str(outcome.short),
        "reallocated": len(outcome.reallocated),
        "reported_short": str(outcome.reported_short),
    }


def _pick_message(pick, body: dict) -> str:
    uom = pick.product.uom
    if body.get("short") and body["short"] != "0":
        short = plain_quantity(body["short"])
        if body["reallocated"]:
            rest = f"{short} {uom} short; other stock was found and added to the pick list."
        elif body["reported_short"] != "0":
            rest = f"{short} {uom} short; no other stock: the order will ship short."
        else:
            rest = f"{short} {uom} short."
        return f"Recorded {pick.product.sku} from {pick.location.code}: {rest}"
    return (
        f"Picked {plain_quantity(body['picked'])} {uom} of {pick.product.sku} "
        f"from {pick.location.code}."
    )


@write_screen
@role_required(*FLOOR_ROLES)
def pick(request, order_id: int):
    """Pick an order one line at a time: scan the bin, then the lot, then confirm the quantity.

    The bin and lot steps only check (nothing is written; a wrong scan is
    refused in place with 422). The quantity step records the pick through
    the write policy with the form's idempotency key.
    """
    with acting_for(request):
        order = _order_or_404(request, order_id)
    if request.method != "POST":
        with acting_for(request):
            return render(request, "inventory/orders/pick.html", _pick_context(request, order))
    form = PickStepForm(request.POST)
    step, current, error, notice, data = "bin", None, "", "", {}
    if not form.is_valid():
        error = _problems(form)
        step = form.cleaned_data.get("step", "bin")
        data = form.cleaned_data
        if "pick" in form.cleaned_data:
            with acting_for(request):
                current = _pick_of(order, form.cleaned_data["pick"])
    else:
        data = form.cleaned_data
        step = data["step"]
        with acting_for(request):
            current = _pick_of(order, data["pick"])
        try:
            if step == "bin":
                check_bin(current, data["scan"])
                data = {**data, "bin_code": data["scan"]}
                step = "lot"
            elif step == "lot":
                check_bin(current, data["bin_code"])
                check_lot(current, data["scan"])
                data = {**data, "lot_code": data["scan"]}
                step = "quantity"
            else:
                outcome = write_idempotent(
                    tenant=request.tenant,
                    key=data["idempotency_key"],
                    kind="pick",
                    payload={
                        "pick": current.pk,
                        "step": step,
                        "quantity": data["quantity"],
                        "short_reason": data["short_reason"],
                    },
                    perform=functools.partial(_record_pick, request, current, data),
                )
                notice = _pick_message(current, outcome.body)
                if outcome.replayed:
                    notice += " (Already recorded; nothing was picked twice.)"
                step, current, data = "bin", None, {}
        except DomainError as failure:
            error = failure.message
    if not request.htmx and not error and notice:
        messages.success(request, notice)
        return redirect("inventory:pick", order_id=order.pk)
    template = "inventory/orders/pick.html"
    if request.htmx:
        template += "#pick-panel"
    with acting_for(request):
        context = _pick_context(
            request, order, step=step, pick=current, data=data, error=error, notice=notice
        )
        return render(request, template, context, status=422 if error else 200)

"""Picking an allocated order: one pick per allocation, in the bins' walking order.

``start_picking`` moves an order from ``ALLOCATED`` to ``PICKING`` and writes
one ``Pick`` per allocation of its reservation. The operator then works the
picks one at a time: scans the bin (``check_bin``), then the lot or the
product (``check_lot``), then confirms the quantity (``pick_line``, which
checks both scans again, so the API and a stale screen are held to the same
rule). A wrong scan is refused with a sentence and changes nothing.

A pick may be taken in several goes (``picked`` grows); a short pick
records the shortfall with a reason and closes the pick. The shortfall is
then re-allocated: a new reservation for the missing quantity
(``reserve_stock``, FEFO, ``allow_partial``) whose allocations become new
picks of the order; what no stock can cover is reported short. The short
bin's own hold stays with the original reservation until the order ships
or is cancelled, so the re-allocation does not pick the same missing goods
again (unless that bin holds more free stock than was held, which a count
of the bin corrects).

Concurrency: ``pick_line`` takes the order row ``FOR SHARE`` (picks go on
in parallel; a cancel or a ship, which lock it ``FOR UPDATE``, wait for them
and picks wait for those) and changes the pick with one conditional
``UPDATE``: ``picked + short`` can never pass ``quantity``, whoever else
picks the same line (two handhelds). A database CHECK says the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from inventory.core.errors import (
    InsufficientStock,
    NoQcApprovedLot,
    OrderStatusConflict,
    PickExceedsAllocation,
    PickNotFound,
    ValidationFailed,
    WrongBin,
    WrongLot,
)
from inventory.core.quantities import parse_quantity
from inventory.ledger.posting import SYSTEM, Actor
from inventory.models import (
    Allocation,
    Operation,
    Order,
    OrderStatus,
    Pick,
    Reservation,
    ReservationStatus,
    ShortReason,
)
from inventory.orders.services import lock_order
from inventory.reservations.allocation import reserve_stock
from inventory.reservations.requests import LineRequest
from inventory.scanning.gs1 import MAX_SCAN_LENGTH, parse_gs1
from inventory.templatetags.stock import quantity as plain_quantity
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context


@dataclass
class PickOutcome:
    """What ``pick_line`` did: the pick as it is now, and what became of a shortfall."""

    pick: Pick
    short: Decimal = Decimal(0)
    reallocated: list[Pick] = field(default_factory=list)
    reported_short: Decimal = Decimal(0)


def start_picking(*, tenant: Tenant, order_id: int, actor: Actor = SYSTEM) -> Order:
    """``ALLOCATED → PICKING``: one pick per allocation of the order's reservation.

    Locks the order row (``lock_order``) and moves it on with a conditional
    update. Starting an order already being picked returns it unchanged.
    Raises ``OrderNotFound``, ``OrderStatusConflict`` (not allocated, or its
    reservation is no longer open).
    """
    with tenant_context(tenant.pk):
        order = lock_order(order_id)
        if order.status == OrderStatus.PICKING:
            return order
        if order.status != OrderStatus.ALLOCATED:
            raise OrderStatusConflict(
                f"Order {order.reference} is {order.get_status_display().lower()}; "
                "only an allocated order can be picked."
            )
        reservation = Reservation.objects.get(pk=order.reservation_id)
        if reservation.status != ReservationStatus.OPEN:
            raise OrderStatusConflict(
                f"The stock held for order {order.reference} is no longer held "
                f"({reservation.get_status_display().lower()}); allocate it again."
            )
        _add_picks(tenant, order, Allocation.objects.filter(reservation=reservation))
        now = timezone.now()
        Order.objects.filter(pk=order.pk, status=OrderStatus.ALLOCATED).update(
            status=OrderStatus.PICKING, picking_started_at=now
        )
        order.status, order.picking_started_at = OrderStatus.PICKING, now
        return order


def _add_picks(tenant: Tenant, order: Order, allocations) -> list[Pick]:
    return Pick.objects.bulk_create(
        Pick(
            tenant=tenant,
            order=order,
            reservation_id=allocation.reservation_id,
            allocation_id=allocation.pk,
            product_id=allocation.lot.product_id,
            lot_id=allocation.lot_id,
            location_id=allocation.location_id,
            quantity=allocation.quantity,
        )
        for allocation in allocations.select_related("lot").order_by("pk")
    )


def _scan(text: Any, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed(f"Scan or type the {what}.")
    if len(text) > MAX_SCAN_LENGTH:
        raise ValidationFailed(f"That is too long to be a {what} (at most {MAX_SCAN_LENGTH}).")
    return text.strip()


def check_bin(pick: Pick, scanned: Any) -> None:
    """Is ``scanned`` the pick's bin? ``WrongBin`` with what to do if not (nothing is written)."""
    code = _scan(scanned, "bin")
    if code.casefold() != pick.location.code.casefold():
        raise WrongBin(f"Wrong bin: you scanned {code}. Go to bin {pick.location.code}.")


def check_lot(pick: Pick, scanned: Any) -> None:
    """Is ``scanned`` the pick's lot (its code, or a GS1 scan carrying it)? ``WrongLot`` if not.

    A scan of the product (SKU or GTIN) is accepted too when the bin holds
    the pick's lot only: the bin scan already placed the operator there.
    """
    text = _scan(scanned, "lot or product")
    product, expected = pick.product, pick.lot.code.casefold()
    label = parse_gs1(text)
    if label is not None:
        lot_code, gtin = label.lot or "", label.gtin or ""
        if lot_code.casefold() == expected or (not lot_code and gtin and gtin == product.gtin):
            return
        shown = lot_code or gtin
    else:
        if text.casefold() in (expected, product.sku.casefold()):
            return
        if product.gtin and text.isdigit() and text.zfill(14) == product.gtin:
            return
        shown = text
    raise WrongLot(f"Wrong lot: you scanned {shown}. Take lot {pick.lot.code} of {product.sku}.")


_PICK = """
    UPDATE inventory_pick
       SET picked = picked + %(quantity)s,
           picked_at = %(now)s,
           picked_by_id = %(user)s
     WHERE id = %(pick)s AND quantity - picked - short >= %(quantity)s
    RETURNING id
"""
# A short pick takes ``quantity`` and closes the pick: the rest is short.
_PICK_SHORT = """
    UPDATE inventory_pick
       SET picked = picked + %(quantity)s,
           short = quantity - picked - %(quantity)s,
           short_reason = %(reason)s,
           picked_at = %(now)s,
           picked_by_id = %(user)s
     WHERE id = %(pick)s AND quantity - picked - short > %(quantity)s
    RETURNING id
"""


def pick_line(
    *,
    tenant: Tenant,
    pick_id: int,
    bin_code: Any,
    lot_code: Any,
    quantity: Any,
    short_reason: str = "",
    actor: Actor = SYSTEM,
    operation: Operation | None = None,
) -> PickOutcome:
    """Record goods taken for one pick, after checking the scanned bin and lot.

    Without ``short_reason``: ``quantity`` (positive, at most what is left)
    is added to ``picked``. With one: ``quantity`` (zero allowed, less than
    what is left) is taken and the rest is recorded short with the reason;
    the shortfall is then re-allocated into a new reservation of the order
    (FEFO, ``RESERVE`` entries under ``operation``) and what stock cannot
    cover is reported short (``PickOutcome.reported_short``).

    Locks the order row ``FOR SHARE`` (it must be ``PICKING``), then changes
    the pick with one conditional update. Raises ``PickNotFound``,
    ``OrderStatusConflict``, ``WrongBin``, ``WrongLot``, ``InvalidQuantity``,
    ``ValidationFailed`` (reason), ``PickExceedsAllocation`` (more than is
    left, also when another picker took it first).
    """
    if short_reason and short_reason not in ShortReason.values:
        raise ValidationFailed("Choose why the pick is short from the list.")
    with tenant_context(tenant.pk):
        pick = (
            Pick.objects.select_related("product", "lot", "location", "order__warehouse")
            .filter(pk=pick_id)
            .first()
        )
        if pick is None:
            raise PickNotFound(f"No pick {pick_id}.")
        check_bin(pick, bin_code)
        check_lot(pick, lot_code)
        amount = parse_quantity(
            quantity, places=pick.product.quantity_places, allow_zero=bool(short_reason)
        )
        _share_order(pick.order)
        now = timezone.now()
        parameters = {
            "pick": pick.pk,
            "quantity": amount,
            "now": now,
            "user": actor.user_id,
            "reason": short_reason,
        }
        with connection.cursor() as cursor:
            cursor.execute(_PICK_SHORT if short_reason else _PICK, parameters)
            changed = cursor.fetchone() is not None
        if not changed:
            pick.refresh_from_db(fields=["picked", "short"])
            raise _too_much(pick, amount, is_short=bool(short_reason))
        outcome = PickOutcome(pick=pick)
        pick.refresh_from_db(fields=["picked", "short", "short_reason", "picked_at"])
        if short_reason:
            outcome.short = pick.short
            _reallocate(tenant, pick, outcome, actor=actor, operation=operation)
        return outcome


def _share_order(order: Order) -> None:
    """Hold the order row ``FOR SHARE``: it stays ``PICKING`` until this pick commits."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM inventory_order WHERE id = %s FOR SHARE", [order.pk])
        (status,) = cursor.fetchone()
    if status != OrderStatus.PICKING:
        label = OrderStatus(status).label.lower()
        raise OrderStatusConflict(f"Order {order.reference} is {label}; nothing was picked.")


def _too_much(pick: Pick, amount: Decimal, *, is_short: bool) -> PickExceedsAllocation:
    left = pick.quantity - pick.picked - pick.short
    uom = pick.product.uom
    if left == 0:
        return PickExceedsAllocation("This line is already picked; nothing was recorded.")
    if is_short:
        return PickExceedsAllocation(
            f"A short pick takes less than the {plain_quantity(left)} {uom} left; "
            f"to take all of it, confirm the pick instead."
        )
    return PickExceedsAllocation(
        f"Only {plain_quantity(left)} {uom} left to pick here; "
        f"{plain_quantity(amount)} was not recorded."
    )


def _reallocate(
    tenant: Tenant, pick: Pick, outcome: PickOutcome, *, actor: Actor, operation
) -> None:
    """Hold other stock (another lot or bin, FEFO) for a short pick's shortfall."""
    order = pick.order
    try:
        result = reserve_stock(
            tenant=tenant,
            warehouse=order.warehouse,
            lines=[LineRequest(product=pick.product, quantity=pick.short)],
            actor=actor,
            reference=f"{order.reference} (short pick re-allocated)",
            allow_partial=True,
            operation=operation,
        )
    except (InsufficientStock, NoQcApprovedLot):
        outcome.reported_short = pick.short
        return
    held = sum((allocation.quantity for allocation in result.allocations), Decimal(0))
    outcome.reallocated = _add_picks(
        tenant, order, Allocation.objects.filter(reservation_id=result.reservation.pk)
    )
    outcome.reported_short = pick.short - held

"""Shipping an order: ``SHIP`` entries for what leaves, every hold released, once.

An order being picked ships exactly what its picks took; an allocated order
never picked (an API client shipping straight away) ships everything its
reservation holds, through ``issue_reservation``. Either way every
``SHIP`` entry belongs to one operation, recorded on the order as
``shipment_operation``: that is how a lot is traced to the orders it left in.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from inventory.core.errors import (
    LotNotApproved,
    OrderStatusConflict,
    PickingIncomplete,
    ReservationAlreadyIssued,
    ReservationCancelled,
    ReservationExpired,
)
from inventory.core.idempotency import operation_for
from inventory.ledger.posting import SYSTEM, Actor, Posting, post_entries
from inventory.models import (
    LedgerKind,
    Operation,
    Order,
    OrderStatus,
    Pick,
    Reservation,
    ReservationStatus,
)
from inventory.orders.services import lock_order
from inventory.reservations.lifecycle import issue_reservation
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context

_NOT_OPEN = {
    ReservationStatus.ISSUED: ReservationAlreadyIssued,
    ReservationStatus.CANCELLED: ReservationCancelled,
    ReservationStatus.EXPIRED: ReservationExpired,
}


def ship_order(
    *,
    tenant: Tenant,
    order_id: int,
    actor: Actor = SYSTEM,
    operation: Operation | None = None,
    today: datetime.date | None = None,
) -> Order:
    """``PICKING`` or ``ALLOCATED → SHIPPED``: the goods leave, the holds end.

    Locks the order row first (``lock_order``), so a ship and a cancel of
    one order queue and the second finds the first's status. Picking: every
    pick must be done; the order's reservations are locked in id order and
    each pick posts ``SHIP`` for what it took and ``RELEASE`` for what it
    held (the balances locked in the global order by ``post_entries``), and
    the reservations become ``ISSUED``. Allocated and never picked:
    ``issue_reservation`` ships what is held. All entries belong to
    ``operation`` (a new one without), set as the order's
    ``shipment_operation``.

    Raises ``OrderNotFound``, ``OrderStatusConflict`` (open, shipped or
    cancelled), ``PickingIncomplete``, ``LotNotApproved`` (a lot expired or
    was blocked since), ``InsufficientStock`` (stock lost meanwhile), and the
    reservation errors when its stock is no longer held.
    """
    now = timezone.now()
    today = today or timezone.localdate(now)
    with tenant_context(tenant.pk):
        order = lock_order(order_id)
        if order.status not in (OrderStatus.ALLOCATED, OrderStatus.PICKING):
            raise OrderStatusConflict(
                f"Order {order.reference} is {order.get_status_display().lower()}; "
                "only an allocated or picked order can ship."
            )
        operation = operation_for(operation, tenant=tenant, kind="shipment")
        if order.status == OrderStatus.ALLOCATED:
            issue_reservation(
                tenant=tenant,
                reservation_id=order.reservation_id,
                actor=actor,
                operation=operation,
                today=today,
            )
        else:
            _ship_picks(tenant, order, actor=actor, operation=operation, now=now, today=today)
        Order.objects.filter(pk=order.pk, status=order.status).update(
            status=OrderStatus.SHIPPED, shipped_at=now, shipment_operation=operation
        )
        order.status, order.shipped_at, order.shipment_operation = (
            OrderStatus.SHIPPED,
            now,
            operation,
        )
        return order


def _ship_picks(
    tenant: Tenant,
    order: Order,
    *,
    actor: Actor,
    operation: Operation,
    now: datetime.datetime,
    today: datetime.date,
) -> None:
    picks = list(Pick.objects.filter(order=order).select_related("lot", "location", "product"))
    left = [pick for pick in picks if not pick.is_done]
    if left:
        raise PickingIncomplete(
            f"{len(left)} of {len(picks)} lines of order {order.reference} are still to be "
            "picked; pick them or record them short first."
        )
    reservation_ids = sorted({pick.reservation_id for pick in picks})
    # Reservation rows before balances, as issue and cancel lock them.
    reservations = list(
        Reservation.objects.filter(pk__in=reservation_ids)
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    for reservation in reservations:
        if reservation.status != ReservationStatus.OPEN:
            raise _NOT_OPEN[reservation.status](
                f"The stock held for order {order.reference} is no longer held "
                f"({reservation.get_status_display().lower()})."
            )
    for pick in picks:
        if pick.picked and not pick.lot.is_available_on(today):
            raise LotNotApproved(
                f"Lot {pick.lot.code} of {pick.product.sku} is no longer approved or has "
                "expired; it cannot ship."
            )
    reason = f"Order {order.reference}"
    postings = []
    for pick in picks:
        if pick.picked > Decimal(0):
            postings.append(Posting(LedgerKind.SHIP, pick.lot, pick.location, -pick.picked, reason))
        postings.append(
            Posting(LedgerKind.RELEASE, pick.lot, pick.location, -pick.quantity, reason)
        )
    post_entries(
        tenant=tenant, operation=operation, actor=actor, postings=postings, occurred_at=now
    )
    Reservation.objects.filter(pk__in=reservation_ids, status=ReservationStatus.OPEN).update(
        status=ReservationStatus.ISSUED, issued_at=now
    )

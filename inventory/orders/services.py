"""Orders: recorded with their lines, allocated into a reservation once, or cancelled.

Every change of an order's status locks the order row first (``lock_order``)
and then updates it on the status it found, so two racing changes (a ship
and a cancel, two cancels) queue and only the first wins; the second sees
the new status and is refused or answered as a no-op. The lock order of the
area is: the order row, then its picks, then its reservations, then the
balances (``inventory.core.locks``). Picking and shipping are in
``inventory.orders.picking`` and ``inventory.orders.shipping``.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.core import locks
from inventory.core.errors import (
    DuplicateOrderReference,
    OrderNotCancellable,
    OrderNotFound,
    OrderStatusConflict,
    WarehouseNotFound,
)
from inventory.core.validation import clean_text, constraint_name, owned
from inventory.ledger.posting import SYSTEM, Actor
from inventory.models import (
    Operation,
    Order,
    OrderLine,
    OrderStatus,
    Pick,
    Reservation,
    ReservationStatus,
)
from inventory.reservations.allocation import reserve_stock
from inventory.reservations.lifecycle import cancel_reservation
from inventory.reservations.requests import (
    MAX_REFERENCE_LENGTH,
    LineRequest,
    ReservationResult,
    parse_lines,
)
from inventory.reservations.selectors import load_reservation
from warehouse.models import Tenant, Warehouse
from warehouse.tenancy import tenant_context

MAX_ORDER_REFERENCE_LENGTH = 100


def create_order(
    *,
    tenant: Tenant,
    warehouse: Warehouse,
    reference: str,
    customer: str,
    lines: Sequence[LineRequest],
) -> Order:
    """Record an order and its lines (inserts only; the unique reference is its only lock).

    Raises ``DuplicateOrderReference``, ``ValidationFailed``, ``InvalidQuantity``,
    ``ProductNotFound``, ``WarehouseNotFound``.
    """
    owned(warehouse, tenant, WarehouseNotFound, Warehouse)
    reference = clean_text(reference, what="reference", max_length=MAX_ORDER_REFERENCE_LENGTH)
    customer = clean_text(customer, what="customer", max_length=MAX_REFERENCE_LENGTH)
    requested = parse_lines(tenant, lines)
    with tenant_context(tenant.pk):
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    tenant=tenant, warehouse=warehouse, reference=reference, customer=customer
                )
        except IntegrityError as error:
            if constraint_name(error) == "order_tenant_reference_key":
                raise DuplicateOrderReference(
                    f"An order with reference {reference!r} already exists."
                ) from None
            raise
        OrderLine.objects.bulk_create(
            OrderLine(tenant=tenant, order=order, product=product, quantity=quantity)
            for product, quantity in requested
        )
        order.warehouse = warehouse
        return order


def allocate_order(
    *,
    tenant: Tenant,
    order_id: int,
    actor: Actor = SYSTEM,
    allow_partial: bool = False,
    operation: Operation | None = None,
    today: datetime.date | None = None,
) -> ReservationResult:
    """Reserve an order's lines; allocating an allocated order returns its reservation.

    Takes a transaction-level advisory lock on the order first
    (``inventory.core.locks.lock_order_allocation``), so two workers allocating one
    order queue and the second finds the first's reservation (``created`` is
    False then). An order whose reservation was cancelled or expired is
    allocated anew, unless it is cancelled or shipped. Otherwise as
    ``reserve_stock`` (no expiry); then locks the order row (``lock_order``)
    and moves it from ``OPEN`` to ``ALLOCATED``. Raises ``OrderNotFound``,
    ``OrderStatusConflict`` (cancelled or shipped) and whatever
    ``reserve_stock`` raises.
    """
    with tenant_context(tenant.pk):
        locks.lock_order_allocation(order_id)
        order = Order.objects.select_related("warehouse").filter(pk=order_id).first()
        if order is None:
            raise OrderNotFound(f"No order {order_id}.")
        if order.reservation_id is not None:
            current = Reservation.objects.select_related("warehouse").get(pk=order.reservation_id)
            if current.status in (ReservationStatus.OPEN, ReservationStatus.ISSUED):
                return load_reservation(current, created=False)
        if order.status in (OrderStatus.CANCELLED, OrderStatus.SHIPPED):
            raise _closed(order)
        lines = [
            LineRequest(product=line.product, quantity=line.quantity)
            for line in OrderLine.objects.filter(order=order).select_related("product")
        ]
        result = reserve_stock(
            tenant=tenant,
            warehouse=order.warehouse,
            lines=lines,
            actor=actor,
            reference=order.reference,
            allow_partial=allow_partial,
            operation=operation,
            today=today,
        )
        # Balances, then the order row: a cancel holding the order row touches
        # no balance of an order without a reservation, so this cannot close a
        # cycle; a cancel that won meanwhile leaves the order not OPEN, and the
        # refusal rolls this reservation back.
        lock_order(order.pk)
        updated = Order.objects.filter(pk=order.pk, status=OrderStatus.OPEN).update(
            reservation=result.reservation,
            status=OrderStatus.ALLOCATED,
            allocated_at=result.reservation.created_at,
        )
        if not updated:
            raise _closed(Order.objects.get(pk=order.pk))
        return result


def lock_order(order_id: int) -> Order:
    """Lock the order row for a change of its status; ``OrderNotFound`` otherwise.

    The first lock of every status change (cancel, start picking, ship), so
    they queue per order; picks take the same row ``FOR SHARE``
    (``inventory.orders.picking``), so a cancel or a ship waits for picks in
    flight and picks wait for them. Call inside the service's transaction.
    """
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("warehouse")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise OrderNotFound(f"No order {order_id}.")
    return order


def _closed(order: Order) -> OrderStatusConflict:
    return OrderStatusConflict(f"Order {order.reference} is {order.get_status_display().lower()}.")


def order_reservation_ids(order: Order) -> list[int]:
    """Every reservation of ``order`` (its allocation, and re-allocations of short picks), by id."""
    ids = set(Pick.objects.filter(order=order).values_list("reservation_id", flat=True).distinct())
    if order.reservation_id is not None:
        ids.add(order.reservation_id)
    return sorted(ids)


def cancel_order(
    *,
    tenant: Tenant,
    order_id: int,
    actor: Actor = SYSTEM,
    operation: Operation | None = None,
) -> Order:
    """Cancel an open, allocated or picking order and release everything held for it.

    Locks the order row (``lock_order``), moves it to ``CANCELLED`` with a
    conditional update, then cancels each of its open reservations in id
    order (``cancel_reservation``: ``RELEASE`` entries, under ``operation``
    when given). Goods already picked are not shipped: they go back to
    their bins (the ledger never said they left). Cancelling a cancelled
    order changes nothing and returns it, so a retried cancel is harmless.
    Raises ``OrderNotFound``, ``OrderNotCancellable`` (shipped).
    """
    with tenant_context(tenant.pk):
        order = lock_order(order_id)
        if order.status == OrderStatus.CANCELLED:
            return order
        if order.status == OrderStatus.SHIPPED:
            raise OrderNotCancellable(
                f"Order {order.reference} has shipped; it can no longer be cancelled."
            )
        now = timezone.now()
        Order.objects.filter(pk=order.pk, status=order.status).update(
            status=OrderStatus.CANCELLED, cancelled_at=now
        )
        open_reservations = Reservation.objects.filter(
            pk__in=order_reservation_ids(order), status=ReservationStatus.OPEN
        ).order_by("pk")
        for reservation_id in open_reservations.values_list("pk", flat=True):
            cancel_reservation(
                tenant=tenant, reservation_id=reservation_id, actor=actor, operation=operation
            )
        order.status, order.cancelled_at = OrderStatus.CANCELLED, now
        return order

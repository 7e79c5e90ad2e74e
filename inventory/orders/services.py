"""Orders: recorded with their lines, and allocated into a reservation once."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import IntegrityError, transaction

from inventory.core import locks
from inventory.core.errors import DuplicateOrderReference, OrderNotFound, WarehouseNotFound
from inventory.core.validation import clean_text, constraint_name, owned
from inventory.ledger.posting import SYSTEM, Actor
from inventory.models import (
    Operation,
    Order,
    OrderLine,
    OrderStatus,
    Reservation,
    ReservationStatus,
)
from inventory.reservations.allocation import reserve_stock
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
    allocated anew. Otherwise as ``reserve_stock`` (no expiry); raises
    ``OrderNotFound`` and whatever ``reserve_stock`` raises.
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
        Order.objects.filter(pk=order.pk).update(
            reservation=result.reservation,
            status=OrderStatus.ALLOCATED,
            allocated_at=result.reservation.created_at,
        )
        return result

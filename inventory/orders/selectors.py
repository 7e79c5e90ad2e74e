"""Reads of orders: one order, the order list, and an order's detail for its screen."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count

from inventory.core.errors import OrderNotFound
from inventory.models import (
    Allocation,
    Order,
    OrderLine,
    OrderStatus,
    Pick,
    Reservation,
    ReservationStatus,
)
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context


def get_order(*, tenant: Tenant, order_id: int) -> Order:
    """The order with its warehouse; ``OrderNotFound`` otherwise (also for another tenant's)."""
    with tenant_context(tenant.pk):
        order = Order.objects.select_related("warehouse").filter(pk=order_id).first()
        if order is None:
            raise OrderNotFound(f"No order {order_id}.")
        return order


def order_list():
    """Every order of the current tenant with its warehouse and number of lines.

    One query per page whatever the page holds (the line count is a
    grouped join, not a query per row); the table sorts and pages it.
    """
    return Order.objects.select_related("warehouse").annotate(line_count=Count("lines"))


@dataclass
class LineProgress:
    """One order line on the order's screen: ordered, held, picked, and short."""

    line: OrderLine
    held: Decimal = Decimal(0)
    picked: Decimal = Decimal(0)
    to_pick: Decimal = Decimal(0)
    short: Decimal = Decimal(0)
    reasons: list[str] = field(default_factory=list)

    @property
    def product(self):
        return self.line.product


@dataclass
class OrderDetail:
    order: Order
    lines: list[LineProgress]
    allocations: list[Allocation]
    picks: list[Pick]

    @property
    def picks_done(self) -> int:
        return sum(1 for pick in self.picks if pick.is_done)

    @property
    def is_picked(self) -> bool:
        return bool(self.picks) and self.picks_done == len(self.picks)


def order_detail(order: Order) -> OrderDetail:
    """``order`` with its lines' progress, what is held for it and its picks (in its tenant).

    Held: what the order's open reservations hold (shipped: what they held).
    Short: for an allocated order what the allocation could not hold; once
    picking, what is neither picked nor still to pick (a short pick that
    found no other stock), with the pickers' reasons.
    """
    lines = [
        LineProgress(line=line)
        for line in OrderLine.objects.filter(order=order).select_related("product")
    ]
    by_product = {progress.line.product_id: progress for progress in lines}
    picks = list(picks_for(order))
    reservation_ids = {pick.reservation_id for pick in picks}
    if order.reservation_id is not None:
        reservation_ids.add(order.reservation_id)
    counted = (
        (ReservationStatus.OPEN, ReservationStatus.ISSUED)
        if order.status == OrderStatus.SHIPPED
        else (ReservationStatus.OPEN,)
    )
    live = Reservation.objects.filter(pk__in=reservation_ids, status__in=counted)
    allocations = list(
        Allocation.objects.filter(reservation__in=live)
        .select_related("lot", "location", "line__product")
        .order_by("location__pick_sequence", "location__code", "id")
    )
    for allocation in allocations:
        progress = by_product.get(allocation.line.product_id)
        if progress is not None:
            progress.held += allocation.quantity
    for pick in picks:
        progress = by_product.get(pick.product_id)
        if progress is None:
            continue
        progress.picked += pick.picked
        progress.to_pick += pick.remaining
        if pick.short_reason:
            progress.reasons.append(pick.get_short_reason_display())
    for progress in lines:
        if picks:
            progress.short = progress.line.quantity - progress.picked - progress.to_pick
        elif order.status == OrderStatus.ALLOCATED:
            progress.short = progress.line.quantity - progress.held
    return OrderDetail(order=order, lines=lines, allocations=allocations, picks=picks)


def picks_for(order: Order):
    """The order's picks in the order an operator walks the warehouse (in its tenant)."""
    return (
        Pick.objects.filter(order=order)
        .select_related("product", "lot", "location")
        .order_by("location__pick_sequence", "location__code", "id")
    )


def next_pick(picks: list[Pick]) -> Pick | None:
    """The first pick still to do, in walking order."""
    return next((pick for pick in picks if not pick.is_done), None)

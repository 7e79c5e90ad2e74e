"""Response bodies of API v1: every answer is one of these.

Each is validated from the objects the services and selectors return
(``ProductOut.from_orm(product)``); ``resolve_<field>`` says where a field
comes from when it is not an attribute of the same name. A nested field
takes those objects too, not schema instances: ninja would run the
resolvers again on an instance. Quantities and amounts are decimal strings,
written as the ledger holds them.

Two values may come through the validation ``context`` instead:
``{"product": ..., "warehouse": ...}`` for a ledger entry whose endpoint
already holds them (no query for them again), and ``{"reservation": ...}``
for an order's reservation.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated, Any

from django.utils import timezone
from ninja import Schema
from pydantic import BeforeValidator

from inventory.models import OrderLine, ReservationStatus


def _decimal_text(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


DecimalText = Annotated[str, BeforeValidator(_decimal_text)]


def _known(obj: Any, name: str, context: dict | None) -> Any:
    """The related row ``name`` of ``obj``: the one in ``context`` if given, else ``obj``'s."""
    if context and context.get(name) is not None:
        return context[name]
    return getattr(obj, name)


class ErrorDetail(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    error: ErrorDetail


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    uom: str
    qc_required: bool
    unit_cost: DecimalText
    shelf_life_days: int | None
    attributes: dict[str, Any]
    is_active: bool
    gtin: str


class ProductListOut(Schema):
    items: list[ProductOut]


class LocationOut(Schema):
    id: int
    warehouse: str
    code: str
    kind: str
    pick_sequence: int

    @staticmethod
    def resolve_warehouse(location) -> str:
        return location.warehouse.code


class WarehouseOut(Schema):
    id: int
    code: str
    name: str
    time_zone: str
    locations: list[LocationOut]

    @staticmethod
    def resolve_locations(warehouse) -> list:
        return list(warehouse.locations.order_by("pick_sequence", "code"))


class LotOut(Schema):
    id: int
    code: str
    sku: str
    qc_status: str
    qc_note: str
    qc_at: datetime.datetime | None
    expires_on: datetime.date | None
    received_at: datetime.datetime
    unit_cost: DecimalText

    @staticmethod
    def resolve_sku(lot) -> str:
        return lot.product.sku


class ReceiptOut(Schema):
    """A receipt (``inventory.stock.receipts.Receipt``): the new lot, where it went, its entry."""

    lot_id: int
    lot_code: str
    sku: str
    uom: str
    warehouse: str
    location: str
    quantity: DecimalText
    qc_status: str
    expires_on: datetime.date | None
    is_expired: bool
    is_available: bool
    unit_cost: DecimalText
    received_at: datetime.datetime
    entry_id: int
    operation_id: int

    @staticmethod
    def resolve_lot_id(receipt) -> int:
        return receipt.lot.pk

    @staticmethod
    def resolve_lot_code(receipt) -> str:
        return receipt.lot.code

    @staticmethod
    def resolve_sku(receipt) -> str:
        return receipt.lot.product.sku

    @staticmethod
    def resolve_uom(receipt) -> str:
        return receipt.lot.product.uom

    @staticmethod
    def resolve_warehouse(receipt) -> str:
        return receipt.location.warehouse.code

    @staticmethod
    def resolve_location(receipt) -> str:
        return receipt.location.code

    @staticmethod
    def resolve_qc_status(receipt) -> str:
        return receipt.lot.qc_status

    @staticmethod
    def resolve_expires_on(receipt) -> datetime.date | None:
        return receipt.lot.expires_on

    @staticmethod
    def resolve_unit_cost(receipt) -> Decimal:
        return receipt.lot.unit_cost

    @staticmethod
    def resolve_received_at(receipt) -> datetime.datetime:
        return receipt.lot.received_at

    @staticmethod
    def resolve_entry_id(receipt) -> int:
        return receipt.entry.pk

    @staticmethod
    def resolve_operation_id(receipt) -> int:
        return receipt.entry.operation_id


class EntryOut(Schema):
    """A ledger entry; its product and warehouse may come from the context."""

    id: int
    occurred_at: datetime.datetime
    kind: str
    sku: str
    warehouse: str
    location: str
    lot_id: int
    lot_code: str
    quantity: DecimalText
    reason: str
    operation_id: int

    @staticmethod
    def resolve_sku(entry, context) -> str:
        return _known(entry, "product", context).sku

    @staticmethod
    def resolve_warehouse(entry, context) -> str:
        return _known(entry, "warehouse", context).code

    @staticmethod
    def resolve_location(entry) -> str:
        return entry.location.code

    @staticmethod
    def resolve_lot_code(entry) -> str:
        return entry.lot.code


class MoveOut(Schema):
    """A move (``inventory.stock.movements.Move``); its product and warehouse come from the
    context."""

    sku: str
    lot_code: str
    warehouse: str
    from_location: str
    to_location: str
    quantity: DecimalText
    entries: list[EntryOut]

    @staticmethod
    def resolve_sku(move, context) -> str:
        return context["product"].sku

    @staticmethod
    def resolve_lot_code(move) -> str:
        return move.in_entry.lot.code

    @staticmethod
    def resolve_warehouse(move, context) -> str:
        return context["warehouse"].code

    @staticmethod
    def resolve_from_location(move) -> str:
        return move.out_entry.location.code

    @staticmethod
    def resolve_to_location(move) -> str:
        return move.in_entry.location.code

    @staticmethod
    def resolve_quantity(move) -> Decimal:
        return move.in_entry.quantity

    @staticmethod
    def resolve_entries(move) -> list:
        return [move.out_entry, move.in_entry]


class CountLineOut(Schema):
    """One line of a count (``inventory.stock.counts.CountDifference``)."""

    sku: str
    lot_code: str
    location: str
    previous_quantity: DecimalText
    counted_quantity: DecimalText
    difference: DecimalText
    entry_id: int | None

    @staticmethod
    def resolve_sku(line) -> str:
        return line.lot.product.sku

    @staticmethod
    def resolve_lot_code(line) -> str:
        return line.lot.code

    @staticmethod
    def resolve_location(line) -> str:
        return line.location.code

    @staticmethod
    def resolve_entry_id(line) -> int | None:
        return line.entry.pk if line.entry else None


class CountOut(Schema):
    warehouse: str
    lines: list[CountLineOut]
    posted: int


class StockOut(Schema):
    sku: str
    warehouse: str | None
    on_hand: DecimalText
    reserved: DecimalText
    available: DecimalText
    quarantined: DecimalText
    rejected: DecimalText
    expired: DecimalText


class MovementPageOut(Schema):
    items: list[EntryOut]
    limit: int
    offset: int
    next_offset: int | None


class AllocationOut(Schema):
    lot_code: str
    location: str
    quantity: DecimalText

    @staticmethod
    def resolve_lot_code(allocation) -> str:
        return allocation.lot.code

    @staticmethod
    def resolve_location(allocation) -> str:
        return allocation.location.code


class ReservationLineOut(Schema):
    sku: str
    quantity: DecimalText
    allocated: DecimalText
    allocations: list[AllocationOut]


class ReservationOut(Schema):
    """A reservation (``inventory.reservations.requests.ReservationResult``)."""

    id: int
    status: str
    warehouse: str
    reference: str
    allow_partial: bool
    complete: bool
    expires_at: datetime.datetime | None
    created_at: datetime.datetime
    lines: list[ReservationLineOut]

    @staticmethod
    def resolve_id(result) -> int:
        return result.reservation.pk

    @staticmethod
    def resolve_status(result) -> str:
        reservation = result.reservation
        if reservation.status == ReservationStatus.OPEN and reservation.is_expired_at(
            timezone.now()
        ):
            # Past its expiry but not yet swept: it holds nothing any more.
            return ReservationStatus.EXPIRED
        return reservation.status

    @staticmethod
    def resolve_warehouse(result) -> str:
        return result.reservation.warehouse.code

    @staticmethod
    def resolve_reference(result) -> str:
        return result.reservation.reference

    @staticmethod
    def resolve_allow_partial(result) -> bool:
        return result.reservation.allow_partial

    @staticmethod
    def resolve_complete(result) -> bool:
        return result.is_complete

    @staticmethod
    def resolve_expires_at(result) -> datetime.datetime | None:
        return result.reservation.expires_at

    @staticmethod
    def resolve_created_at(result) -> datetime.datetime:
        return result.reservation.created_at

    @staticmethod
    def resolve_lines(result) -> list[dict]:
        held: dict[int, list] = {}
        for allocation in result.allocations:
            held.setdefault(allocation.line_id, []).append(allocation)
        return [
            {
                "sku": line.product.sku,
                "quantity": line.quantity,
                "allocated": line.allocated,
                "allocations": held.get(line.pk, []),
            }
            for line in result.lines
        ]


class IssuedLotOut(Schema):
    sku: str
    lot_code: str
    location: str
    quantity: DecimalText


class IssueOut(Schema):
    """What issuing a reservation shipped (``ReservationResult`` of ``issue_reservation``)."""

    reservation_id: int
    status: str
    lots_issued: list[IssuedLotOut]

    @staticmethod
    def resolve_reservation_id(result) -> int:
        return result.reservation.pk

    @staticmethod
    def resolve_status(result) -> str:
        return result.reservation.status

    @staticmethod
    def resolve_lots_issued(result) -> list[dict]:
        skus = {line.pk: line.product.sku for line in result.lines}
        return [
            {
                "sku": skus[allocation.line_id],
                "lot_code": allocation.lot.code,
                "location": allocation.location.code,
                "quantity": allocation.quantity,
            }
            for allocation in result.allocations
        ]


class OrderLineOut(Schema):
    sku: str
    quantity: DecimalText

    @staticmethod
    def resolve_sku(line) -> str:
        return line.product.sku


class OrderOut(Schema):
    """An order; its reservation (a ``ReservationResult``, or None) comes from the context."""

    id: int
    reference: str
    customer: str
    warehouse: str
    status: str
    created_at: datetime.datetime
    picking_started_at: datetime.datetime | None
    shipped_at: datetime.datetime | None
    cancelled_at: datetime.datetime | None
    lines: list[OrderLineOut]
    reservation: ReservationOut | None

    @staticmethod
    def resolve_warehouse(order) -> str:
        return order.warehouse.code

    @staticmethod
    def resolve_lines(order) -> list:
        return list(OrderLine.objects.filter(order=order).select_related("product"))

    @staticmethod
    def resolve_reservation(order, context):
        return (context or {}).get("reservation")

"""Endpoints of API v1 for reservations and orders.

Same conventions as ``inventory.api.endpoints``: every write is a
``write_endpoint`` (short ``lock_timeout`` and ``statement_timeout``,
deadlocks and lock timeouts retried around the whole transaction, the
idempotency record included). When contention outlasts the retries the
answer is ``503 CONTENTION`` with ``Retry-After`` and nothing is written.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from ninja import Router

from inventory.api import schemas
from inventory.api.core import IdempotencyKey, respond, write_endpoint
from inventory.api.endpoints import ERRORS, MAX_BIGINT, WRITE_ERRORS, _actor, _decimal
from inventory.catalog.selectors import code_key, get_warehouse_by_code
from inventory.core.errors import (
    InvalidQuantity,
    OrderNotFound,
    ProductNotFound,
    ReservationNotFound,
)
from inventory.core.quantities import MAX_QUANTITY, parse_quantity, to_decimal
from inventory.models import Operation, Order, OrderLine, Product, ReservationStatus
from inventory.orders import selectors as order_selectors
from inventory.orders import services as order_services
from inventory.reservations import allocation as reservation_allocation
from inventory.reservations import lifecycle
from inventory.reservations import selectors as reservation_selectors
from inventory.reservations.requests import LineRequest, ReservationResult
from warehouse.tenancy import tenant_context

router = Router(tags=["reservations"])

CONTENDED_WRITE_ERRORS = {**WRITE_ERRORS, 503: schemas.ErrorOut}


# -- helpers ------------------------------------------------------------------------------


def _lines_payload(body) -> dict:
    payload = body.dict()
    payload["lines"] = [
        {**line, "quantity": to_decimal(line["quantity"], what="quantity")}
        for line in payload["lines"]
    ]
    return payload


def _line_requests(lines) -> list[LineRequest]:
    """Resolve the SKUs of ``lines`` in one query (case-insensitive, like every SKU lookup)."""
    wanted = {code_key(line.sku) for line in lines} - {None}
    products = {product.sku_key: product for product in Product.objects.filter(sku_key__in=wanted)}
    requests = []
    for line in lines:
        product = products.get(code_key(line.sku))
        if product is None:
            raise ProductNotFound(f"No product with SKU {line.sku!r}.")
        requests.append(LineRequest(product=product, quantity=line.quantity))
    return requests


def _reservation(result: ReservationResult) -> dict:
    reservation = result.reservation
    held: dict[int, list[dict]] = {}
    for allocation in result.allocations:
        held.setdefault(allocation.line_id, []).append(
            {
                "lot_code": allocation.lot.code,
                "location": allocation.location.code,
                "quantity": _decimal(allocation.quantity),
            }
        )
    status = reservation.status
    if status == ReservationStatus.OPEN and reservation.is_expired_at(timezone.now()):
        # Past its expiry but not yet swept: it holds nothing any more.
        status = ReservationStatus.EXPIRED
    return {
        "id": reservation.pk,
        "status": status,
        "warehouse": reservation.warehouse.code,
        "reference": reservation.reference,
        "allow_partial": reservation.allow_partial,
        "complete": result.is_complete,
        "expires_at": reservation.expires_at,
        "created_at": reservation.created_at,
        "lines": [
            {
                "sku": line.product.sku,
                "quantity": _decimal(line.quantity),
                "allocated": _decimal(line.allocated),
                "allocations": held.get(line.pk, []),
            }
            for line in result.lines
        ],
    }


def _order(order: Order, result: ReservationResult | None) -> dict:
    lines = OrderLine.objects.filter(order=order).select_related("product")
    return {
        "id": order.pk,
        "reference": order.reference,
        "customer": order.customer,
        "warehouse": order.warehouse.code,
        "status": order.status,
        "created_at": order.created_at,
        "lines": [{"sku": line.product.sku, "quantity": _decimal(line.quantity)} for line in lines],
        "reservation": _reservation(result) if result is not None else None,
    }


def _valid_id(value: int, error) -> int:
    if not 0 < value <= MAX_BIGINT:
        raise error()
    return value


# -- reservations ---------------------------------------------------------------------------


def _quantity(value: Decimal) -> dict:
    """A line's quantity for ``inventory_api_reserve``, with why it is refused if it is.

    The refusal is raised by the function after the SKUs are resolved, as
    ``reserve_stock`` does; decimal places are left to the function, which
    knows each product's unit.
    """
    try:
        return {"quantity": str(parse_quantity(value)), "refusal": None}
    except InvalidQuantity as refusal:
        if 0 < value <= MAX_QUANTITY:  # only its decimal places are wrong
            return {"quantity": str(value), "refusal": None}
        return {"quantity": "0", "refusal": refusal.message}


@router.post(
    "/reservations",
    response={201: schemas.ReservationOut, **CONTENDED_WRITE_ERRORS},
    summary="Hold stock of approved, unexpired lots (FEFO) for a demand",
)
def create_reservation(
    request,
    body: schemas.ReservationIn,
    idempotency_key: schemas.IdempotencyKeyText = IdempotencyKey,
):
    """One statement: ``inventory_api_reserve`` (see ``inventory.reservations.allocation``).

    The write policy all the same: one transaction (the statement's own) with
    the short ``lock_timeout``, the key claimed in it, retried whole on a
    deadlock, serialization failure or lock timeout, ``503 CONTENTION`` after.
    """
    payload = _lines_payload(body)
    lines = [
        {"key": code_key(line.sku), "sku_quoted": repr(line.sku), **_quantity(quantity["quantity"])}
        for line, quantity in zip(body.lines, payload["lines"], strict=True)
    ]
    return respond(
        reservation_allocation.api_reserve(
            tenant_id=request.tenant.pk,
            token_id=request.api_token.pk,
            key=idempotency_key,
            kind="api.reservation",
            payload=payload,
            request={
                "warehouse_key": code_key(body.warehouse),
                "warehouse_quoted": repr(body.warehouse),
                "lines": lines,
                "reference": body.reference,
                "allow_partial": body.allow_partial,
                "ttl_seconds": body.ttl_seconds,
            },
        )
    )


@router.get(
    "/reservations/{reservation_id}",
    response={200: schemas.ReservationOut, **ERRORS, 404: schemas.ErrorOut},
    summary="One reservation with its allocations",
)
def get_reservation(request, reservation_id: int):
    _valid_id(reservation_id, ReservationNotFound)
    with tenant_context(request.tenant.pk):
        return _reservation(
            reservation_selectors.get_reservation(
                tenant=request.tenant, reservation_id=reservation_id
            )
        )


def _reservation_payload(reservation_id: int) -> dict:
    return {"reservation_id": _valid_id(reservation_id, ReservationNotFound)}


@router.post(
    "/reservations/{reservation_id}/issue",
    response={200: schemas.IssueOut, **CONTENDED_WRITE_ERRORS},
    summary="Ship what a reservation holds (SHIP and RELEASE entries)",
)
@write_endpoint("api.reservation_issue", payload=_reservation_payload)
def issue_reservation(request, reservation_id: int, *, operation: Operation):
    result = lifecycle.issue_reservation(
        tenant=request.tenant,
        reservation_id=reservation_id,
        actor=_actor(request),
        operation=operation,
    )
    skus = {line.pk: line.product.sku for line in result.lines}
    return 200, {
        "reservation_id": result.reservation.pk,
        "status": result.reservation.status,
        "lots_issued": [
            {
                "sku": skus[allocation.line_id],
                "lot_code": allocation.lot.code,
                "location": allocation.location.code,
                "quantity": _decimal(allocation.quantity),
            }
            for allocation in result.allocations
        ],
    }


@router.post(
    "/reservations/{reservation_id}/cancel",
    response={200: schemas.ReservationOut, **CONTENDED_WRITE_ERRORS},
    summary="Release what a reservation holds",
)
@write_endpoint("api.reservation_cancel", payload=_reservation_payload)
def cancel_reservation(request, reservation_id: int, *, operation: Operation):
    result = lifecycle.cancel_reservation(
        tenant=request.tenant,
        reservation_id=reservation_id,
        actor=_actor(request),
        operation=operation,
    )
    return 200, _reservation(result)


# -- orders -----------------------------------------------------------------------------------


@router.post(
    "/orders",
    response={201: schemas.OrderOut, **CONTENDED_WRITE_ERRORS},
    tags=["orders"],
    summary="Record an order",
)
@write_endpoint("api.order", payload=_lines_payload)
def create_order(request, body: schemas.OrderIn, *, operation: Operation):
    order = order_services.create_order(
        tenant=request.tenant,
        warehouse=get_warehouse_by_code(body.warehouse),
        reference=body.reference,
        customer=body.customer,
        lines=_line_requests(body.lines),
    )
    return 201, _order(order, None)


def _order_payload(order_id: int) -> dict:
    return {"order_id": _valid_id(order_id, OrderNotFound)}


@router.post(
    "/orders/{order_id}/allocate",
    response={200: schemas.OrderOut, **CONTENDED_WRITE_ERRORS},
    tags=["orders"],
    summary="Allocate an order into a reservation (again: its reservation)",
)
@write_endpoint("api.order_allocate", payload=_order_payload)
def allocate_order(request, order_id: int, *, operation: Operation):
    result = order_services.allocate_order(
        tenant=request.tenant, order_id=order_id, actor=_actor(request), operation=operation
    )
    order = order_selectors.get_order(tenant=request.tenant, order_id=order_id)
    return 200, _order(order, result)


@router.get(
    "/orders/{order_id}",
    response={200: schemas.OrderOut, **ERRORS, 404: schemas.ErrorOut},
    tags=["orders"],
    summary="One order, with its reservation once allocated",
)
def get_order(request, order_id: int):
    _valid_id(order_id, OrderNotFound)
    with tenant_context(request.tenant.pk):
        order = order_selectors.get_order(tenant=request.tenant, order_id=order_id)
        result = None
        if order.reservation_id is not None:
            result = reservation_selectors.get_reservation(
                tenant=request.tenant, reservation_id=order.reservation_id
            )
        return _order(order, result)

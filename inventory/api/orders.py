"""API v1, orders: record an order, allocate it, ship or cancel it, read it."""

from __future__ import annotations

from ninja import Router

from inventory.api import responses, schemas
from inventory.api.common import ERRORS, WRITE_ERRORS, actor_of, valid_id
from inventory.api.core import write_endpoint
from inventory.api.reservations import demand_lines, demand_payload
from inventory.catalog.selectors import get_warehouse_by_code
from inventory.core.errors import OrderNotFound
from inventory.models import Operation
from inventory.orders import selectors, services
from inventory.orders.shipping import ship_order as ship
from inventory.reservations.selectors import get_reservation
from warehouse.tenancy import tenant_context

router = Router(tags=["orders"])


@router.post(
    "/orders", response={201: responses.OrderOut, **WRITE_ERRORS}, summary="Record an order"
)
@write_endpoint("api.order", payload=demand_payload)
def create_order(request, body: schemas.OrderIn, *, operation: Operation):
    order = services.create_order(
        tenant=request.tenant,
        warehouse=get_warehouse_by_code(body.warehouse),
        reference=body.reference,
        customer=body.customer,
        lines=demand_lines(body.lines),
    )
    return 201, responses.OrderOut.from_orm(order)


def _order_payload(order_id: int) -> dict:
    return {"order_id": valid_id(order_id, OrderNotFound)}


@router.post(
    "/orders/{order_id}/allocate",
    response={200: responses.OrderOut, **WRITE_ERRORS},
    summary="Allocate an order into a reservation (again: its reservation)",
)
@write_endpoint("api.order_allocate", payload=_order_payload)
def allocate_order(request, order_id: int, *, operation: Operation):
    result = services.allocate_order(
        tenant=request.tenant, order_id=order_id, actor=actor_of(request), operation=operation
    )
    order = selectors.get_order(tenant=request.tenant, order_id=order_id)
    return 200, responses.OrderOut.from_orm(order, context={"reservation": result})


@router.get(
    "/orders/{order_id}",
    response={200: responses.OrderOut, **ERRORS, 404: responses.ErrorOut},
    summary="One order, with its reservation once allocated",
)
def get_order(request, order_id: int):
    valid_id(order_id, OrderNotFound)
    with tenant_context(request.tenant.pk):
        order = selectors.get_order(tenant=request.tenant, order_id=order_id)
        result = None
        if order.reservation_id is not None:
            result = get_reservation(tenant=request.tenant, reservation_id=order.reservation_id)
        return responses.OrderOut.from_orm(order, context={"reservation": result})


def _order_out(request, order_id: int) -> responses.OrderOut:
    """The order as it is now, with its reservation (inside the write's transaction)."""
    order = selectors.get_order(tenant=request.tenant, order_id=order_id)
    result = None
    if order.reservation_id is not None:
        result = get_reservation(tenant=request.tenant, reservation_id=order.reservation_id)
    return responses.OrderOut.from_orm(order, context={"reservation": result})


@router.post(
    "/orders/{order_id}/cancel",
    response={200: responses.OrderOut, **WRITE_ERRORS},
    summary="Cancel an order: RELEASE of everything held for it (again: no change)",
)
@write_endpoint("api.order_cancel", payload=_order_payload)
def cancel_order(request, order_id: int, *, operation: Operation):
    services.cancel_order(
        tenant=request.tenant, order_id=order_id, actor=actor_of(request), operation=operation
    )
    return 200, _order_out(request, order_id)


@router.post(
    "/orders/{order_id}/ship",
    response={200: responses.OrderOut, **WRITE_ERRORS},
    summary="Ship an order: SHIP of what was picked (never picked: of everything held)",
)
@write_endpoint("api.order_ship", payload=_order_payload)
def ship_order(request, order_id: int, *, operation: Operation):
    ship(tenant=request.tenant, order_id=order_id, actor=actor_of(request), operation=operation)
    return 200, _order_out(request, order_id)

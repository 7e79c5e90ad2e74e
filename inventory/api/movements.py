"""API v1, stock movements: receipts, adjustments, shipments, moves and counts."""

from __future__ import annotations

from ninja import Router

from inventory.api import responses, schemas
from inventory.api.common import WRITE_ERRORS, actor_of, fingerprinted
from inventory.api.core import write_endpoint
from inventory.catalog.selectors import (
    default_receiving_location,
    get_location_by_code,
    get_product_by_sku,
    get_warehouse_by_code,
)
from inventory.core.errors import ValidationFailed
from inventory.core.quantities import to_decimal
from inventory.lots.selectors import get_lot_by_code
from inventory.models import Balance, Lot, Operation, Product
from inventory.stock import counts, movements, receipts
from warehouse.models import Location, Warehouse

router = Router(tags=["stock"])


def _lot_in_bin(body) -> tuple[Product, Warehouse, Lot, Location]:
    """The product, warehouse, lot and bin a body names with sku, warehouse, lot_code, location."""
    product = get_product_by_sku(body.sku)
    warehouse = get_warehouse_by_code(body.warehouse)
    lot = get_lot_by_code(product, body.lot_code)
    return product, warehouse, lot, _lot_location(lot, warehouse, body.location)


def _lot_location(lot: Lot, warehouse: Warehouse, code: str | None) -> Location:
    """The named bin, or the one bin of ``warehouse`` holding the lot, or receiving."""
    if code is not None:
        return get_location_by_code(warehouse, code)
    holding = list(
        Balance.objects.filter(lot=lot, warehouse=warehouse, on_hand__gt=0)
        .select_related("location")
        .order_by("location_id")[:2]
    )
    if len(holding) > 1:
        raise ValidationFailed(
            f"Lot {lot.code} is in several bins of {warehouse.code}; name the location."
        )
    if holding:
        return holding[0].location
    return default_receiving_location(warehouse)


@router.post(
    "/receipts", response={201: responses.ReceiptOut, **WRITE_ERRORS}, summary="Receive a new lot"
)
@write_endpoint("api.receipt", payload=lambda body: fingerprinted(body, "quantity", "unit_cost"))
def create_receipt(request, body: schemas.ReceiptIn, *, operation: Operation):
    product = get_product_by_sku(body.sku)
    warehouse = get_warehouse_by_code(body.warehouse)
    location = get_location_by_code(warehouse, body.location) if body.location is not None else None
    receipt = receipts.receive_stock(
        tenant=request.tenant,
        product=product,
        warehouse=warehouse,
        location=location,
        lot_code=body.lot_code,
        quantity=body.quantity,
        expires_on=body.expires_on,
        unit_cost=body.unit_cost,
        actor=actor_of(request),
        operation=operation,
    )
    return 201, responses.ReceiptOut.from_orm(receipt)


@router.post(
    "/adjustments",
    response={201: responses.EntryOut, **WRITE_ERRORS},
    summary="Add or remove stock of a lot, with a reason",
)
@write_endpoint("api.adjustment", payload=lambda body: fingerprinted(body, "quantity_delta"))
def create_adjustment(request, body: schemas.AdjustmentIn, *, operation: Operation):
    product, warehouse, lot, location = _lot_in_bin(body)
    entry = movements.adjust_stock(
        tenant=request.tenant,
        lot=lot,
        location=location,
        quantity_delta=body.quantity_delta,
        reason=body.reason,
        actor=actor_of(request),
        operation=operation,
    )
    return 201, responses.EntryOut.from_orm(
        entry, context={"product": product, "warehouse": warehouse}
    )


@router.post(
    "/shipments",
    response={201: responses.EntryOut, **WRITE_ERRORS},
    summary="Ship free stock of an approved, unexpired lot (a sale pushed by a POS or ERP)",
)
@write_endpoint("api.shipment", payload=lambda body: fingerprinted(body, "quantity"))
def create_shipment(request, body: schemas.ShipmentIn, *, operation: Operation):
    product, warehouse, lot, location = _lot_in_bin(body)
    entry = movements.ship_stock(
        tenant=request.tenant,
        lot=lot,
        location=location,
        quantity=body.quantity,
        reference=body.reference,
        actor=actor_of(request),
        operation=operation,
    )
    return 201, responses.EntryOut.from_orm(
        entry, context={"product": product, "warehouse": warehouse}
    )


@router.post(
    "/moves",
    response={201: responses.MoveOut, **WRITE_ERRORS},
    summary="Move stock of a lot between two bins of a warehouse",
)
@write_endpoint("api.move", payload=lambda body: fingerprinted(body, "quantity"))
def create_move(request, body: schemas.MoveIn, *, operation: Operation):
    product = get_product_by_sku(body.sku)
    warehouse = get_warehouse_by_code(body.warehouse)
    lot = get_lot_by_code(product, body.lot_code)
    move = movements.move_stock(
        tenant=request.tenant,
        lot=lot,
        from_location=get_location_by_code(warehouse, body.from_location),
        to_location=get_location_by_code(warehouse, body.to_location),
        quantity=body.quantity,
        reason=body.reason,
        actor=actor_of(request),
        operation=operation,
    )
    return 201, responses.MoveOut.from_orm(
        move, context={"product": product, "warehouse": warehouse}
    )


def _count_payload(body) -> dict:
    payload = body.dict()
    payload["lines"] = [
        {**line, "counted_quantity": to_decimal(line["counted_quantity"], what="counted quantity")}
        for line in payload["lines"]
    ]
    return payload


@router.post(
    "/counts",
    response={201: responses.CountOut, **WRITE_ERRORS},
    summary="Post a physical count; differences become COUNT entries",
)
@write_endpoint("api.count", payload=_count_payload)
def create_count(request, body: schemas.CountIn, *, operation: Operation):
    warehouse = get_warehouse_by_code(body.warehouse)
    lines = [
        counts.CountLine(
            lot=get_lot_by_code(get_product_by_sku(line.sku), line.lot_code),
            location=get_location_by_code(warehouse, line.location),
            counted_quantity=line.counted_quantity,
        )
        for line in body.lines
    ]
    differences = counts.post_count(
        tenant=request.tenant,
        warehouse=warehouse,
        lines=lines,
        reason=body.reason,
        actor=actor_of(request),
        operation=operation,
    )
    return 201, responses.CountOut(
        warehouse=warehouse.code,
        lines=differences,
        posted=sum(1 for difference in differences if difference.entry),
    )

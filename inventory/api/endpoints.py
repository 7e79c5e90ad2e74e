"""Endpoints of API v1: parse, resolve codes in the token's tenant, call one service.

Reads run in ``tenant_context`` of the token's tenant. Every state-changing
endpoint is a ``write_endpoint``: one retried, time-limited transaction holds
the lookups, the service and the stored response of the client's optional
``Idempotency-Key`` (a retry with it returns the first answer); contention
that outlasts the retries answers ``503 CONTENTION`` with ``Retry-After``.
"""

from __future__ import annotations

import functools
import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from ninja import Query, Router
from pydantic import TypeAdapter

from inventory.api import schemas
from inventory.api.core import write_endpoint
from inventory.catalog import services as catalog_services
from inventory.catalog.selectors import (
    code_key,
    default_receiving_location,
    get_location_by_code,
    get_product_by_sku,
    get_warehouse_by_code,
    products_with_attributes,
    search_products,
)
from inventory.core.errors import LotNotFound, ProductNotFound, ValidationFailed, WarehouseNotFound
from inventory.core.functions import call_function
from inventory.core.quantities import to_decimal
from inventory.ledger.posting import Actor
from inventory.ledger.selectors import ledger_entries
from inventory.lots import services as qc_services
from inventory.lots.selectors import get_lot, get_lot_by_code
from inventory.models import Balance, LedgerEntry, Lot, Operation, Product, QcStatus
from inventory.stock import counts, movements, receipts
from warehouse.models import Location, Warehouse
from warehouse.tenancy import tenant_context
from warehouse.validators import is_code

router = Router()

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_BIGINT = 2**63 - 1

SINCE = Query(
    None, description="An RFC 3339 date and time with its offset, such as 2026-05-01T08:00:00Z."
)
KIND = Query(None, description="One ledger entry kind.")
SEARCH = Query("", description="Full-text search; ranked when given.")
ATTRIBUTES = Query(
    "",
    description='Only products whose attributes contain this JSON object, such as {"colour": '
    '"red"}; not together with a search.',
)
REQUIRED_SKU = Query(..., description="The product's SKU.")
OPTIONAL_SKU = Query(None, description="Only this product's entries.")
OPTIONAL_WAREHOUSE = Query(None, description="One warehouse's code; all warehouses without it.")
# Every operation may answer these: a refused token, a malformed parameter, an
# oversized body, a database outage (503 DATABASE_UNAVAILABLE, config.middleware);
# writes also contention that outlasts their retries (503 CONTENTION).
ERRORS = {
    400: schemas.ErrorOut,
    401: schemas.ErrorOut,
    403: schemas.ErrorOut,
    413: schemas.ErrorOut,
    422: schemas.ErrorOut,
    503: schemas.ErrorOut,
}
WRITE_ERRORS = {**ERRORS, 404: schemas.ErrorOut, 409: schemas.ErrorOut}


# -- helpers ----------------------------------------------------------------------


def _actor(request: HttpRequest) -> Actor:
    return Actor.token(request.api_token)


def _payload(body, *quantity_fields: str) -> dict[str, Any]:
    """The body as fingerprinted: quantities as decimals, so ``10`` and ``"10.0"`` agree.

    Anything that is not a finite number is refused here (``INVALID_QUANTITY``),
    before any transaction starts.
    """
    payload = body.dict()
    for name in quantity_fields:
        if payload.get(name) is not None:
            payload[name] = to_decimal(payload[name], what=name.replace("_", " "))
    return payload


def _is_code(value: str, max_length: int) -> bool:
    """Could ``value`` name a row at all? (A NUL would reach PostgreSQL as an error.)"""
    return len(value) <= max_length and is_code(value)


_ATTRIBUTE_FILTER = TypeAdapter(schemas.Attributes)


def _attribute_filter(text: str) -> dict:
    """The ``attributes`` parameter as a JSON object the products' attributes must contain.

    It passes the same rules as stored attributes, so nothing PostgreSQL would
    refuse (a NUL, an infinite number) reaches it.
    """
    refused = ValidationFailed(
        "The attributes filter must be a JSON object of attribute names and values."
    )
    if len(text) > schemas.MAX_ATTRIBUTES_SIZE:
        raise refused
    try:
        return _ATTRIBUTE_FILTER.validate_python(json.loads(text))
    except (ValueError, RecursionError):
        # pydantic's ValidationError is a ValueError, as is malformed JSON.
        raise refused from None


def _decimal(value: Decimal) -> str:
    return str(value)


def _product(product: Product) -> dict:
    return {
        "id": product.pk,
        "sku": product.sku,
        "name": product.name,
        "uom": product.uom,
        "qc_required": product.qc_required,
        "unit_cost": _decimal(product.unit_cost),
        "shelf_life_days": product.shelf_life_days,
        "attributes": product.attributes,
        "is_active": product.is_active,
    }


def _location(location: Location, warehouse: Warehouse) -> dict:
    return {
        "id": location.pk,
        "warehouse": warehouse.code,
        "code": location.code,
        "kind": location.kind,
        "pick_sequence": location.pick_sequence,
    }


def _warehouse(warehouse: Warehouse) -> dict:
    return {
        "id": warehouse.pk,
        "code": warehouse.code,
        "name": warehouse.name,
        "time_zone": warehouse.time_zone,
        "locations": [
            _location(location, warehouse)
            for location in warehouse.locations.order_by("pick_sequence", "code")
        ],
    }


def _lot(lot: Lot, product: Product) -> dict:
    return {
        "id": lot.pk,
        "code": lot.code,
        "sku": product.sku,
        "qc_status": lot.qc_status,
        "qc_note": lot.qc_note,
        "qc_at": lot.qc_at,
        "expires_on": lot.expires_on,
        "received_at": lot.received_at,
        "unit_cost": _decimal(lot.unit_cost),
    }


def _entry(entry: LedgerEntry, *, product, warehouse, location, lot) -> dict:
    return {
        "id": entry.pk,
        "occurred_at": entry.occurred_at,
        "kind": entry.kind,
        "sku": product.sku,
        "warehouse": warehouse.code,
        "location": location.code,
        "lot_id": lot.pk,
        "lot_code": lot.code,
        "quantity": _decimal(entry.quantity),
        "reason": entry.reason,
        "operation_id": entry.operation_id,
    }


def _stored_entry(entry: LedgerEntry) -> dict:
    return _entry(
        entry,
        product=entry.product,
        warehouse=entry.warehouse,
        location=entry.location,
        lot=entry.lot,
    )


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


# -- catalog ------------------------------------------------------------------------


@router.post(
    "/products",
    response={201: schemas.ProductOut, **WRITE_ERRORS},
    tags=["catalog"],
    summary="Add a product",
)
@write_endpoint("api.product", payload=lambda body: _payload(body, "unit_cost"))
def create_product(request, body: schemas.ProductIn, *, operation: Operation):
    product = catalog_services.create_product(
        tenant=request.tenant,
        sku=body.sku,
        name=body.name,
        uom=body.uom,
        qc_required=body.qc_required,
        shelf_life_days=body.shelf_life_days,
        unit_cost=Decimal("0") if body.unit_cost is None else body.unit_cost,
        attributes=body.attributes,
    )
    return 201, _product(product)


@router.get(
    "/products",
    response={200: schemas.ProductListOut, **ERRORS, 422: schemas.ErrorOut},
    tags=["catalog"],
    summary="List or search products",
)
def list_products(
    request,
    q: schemas.SearchText = SEARCH,
    attributes: str = ATTRIBUTES,
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
):
    wanted = _attribute_filter(attributes) if attributes else None
    if wanted and q.strip():
        raise ValidationFailed("Search or filter by attributes, not both at once.")
    with tenant_context(request.tenant.pk):
        if wanted:
            products = products_with_attributes(wanted, limit=limit)
        elif q.strip():
            products = search_products(q.strip(), limit=limit)
        else:
            products = Product.objects.active().order_by("sku")[:limit]
        return {"items": [_product(product) for product in products]}


@router.get(
    "/products/{sku}",
    response={200: schemas.ProductOut, **ERRORS, 404: schemas.ErrorOut},
    tags=["catalog"],
    summary="One product by SKU",
)
def get_product(request, sku: str):
    if not _is_code(sku, 64):
        raise ProductNotFound()
    with tenant_context(request.tenant.pk):
        return _product(get_product_by_sku(sku))


# -- sites ----------------------------------------------------------------------------


@router.post(
    "/warehouses",
    response={201: schemas.WarehouseOut, **WRITE_ERRORS},
    tags=["sites"],
    summary="Add a warehouse (with a RECEIVING bin)",
)
@write_endpoint("api.warehouse", payload=lambda body: _payload(body))
def create_warehouse(request, body: schemas.WarehouseIn, *, operation: Operation):
    warehouse = catalog_services.create_warehouse(
        tenant=request.tenant, code=body.code, name=body.name, time_zone=body.time_zone
    )
    return 201, _warehouse(warehouse)


def _location_payload(code: str, body) -> dict:
    if not _is_code(code, 32):
        raise WarehouseNotFound()
    return {"warehouse": code, **_payload(body)}


@router.post(
    "/warehouses/{code}/locations",
    response={201: schemas.LocationOut, **WRITE_ERRORS},
    tags=["sites"],
    summary="Add a bin to a warehouse",
)
@write_endpoint("api.location", payload=_location_payload)
def create_location(request, code: str, body: schemas.LocationIn, *, operation: Operation):
    warehouse = get_warehouse_by_code(code)
    location = catalog_services.create_location(
        tenant=request.tenant,
        warehouse=warehouse,
        code=body.code,
        kind=body.kind,
        pick_sequence=body.pick_sequence,
    )
    return 201, _location(location, warehouse)


# -- receipts and QC -------------------------------------------------------------------


@router.post(
    "/receipts",
    response={201: schemas.ReceiptOut, **WRITE_ERRORS},
    tags=["stock"],
    summary="Receive a new lot",
)
@write_endpoint("api.receipt", payload=lambda body: _payload(body, "quantity", "unit_cost"))
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
        actor=_actor(request),
        operation=operation,
    )
    return 201, receipt.as_dict()


def _decision_payload(lot_id: int, body) -> dict:
    if not 0 < lot_id <= MAX_BIGINT:
        raise LotNotFound()
    return {"lot_id": lot_id, **_payload(body)}


@router.post(
    "/lots/{lot_id}/qc",
    response={200: schemas.LotOut, **WRITE_ERRORS},
    tags=["stock"],
    summary="Approve or reject a quarantined lot",
)
@write_endpoint("api.lot_qc", payload=_decision_payload)
def decide_lot(request, lot_id: int, body: schemas.QcDecisionIn, *, operation: Operation):
    decide = qc_services.approve_lot if body.status == QcStatus.APPROVED else qc_services.reject_lot
    lot = decide(tenant=request.tenant, lot=get_lot(lot_id), actor=_actor(request), note=body.note)
    return 200, _lot(lot, lot.product)


# -- stock changes ---------------------------------------------------------------------


@router.post(
    "/adjustments",
    response={201: schemas.EntryOut, **WRITE_ERRORS},
    tags=["stock"],
    summary="Add or remove stock of a lot, with a reason",
)
@write_endpoint("api.adjustment", payload=lambda body: _payload(body, "quantity_delta"))
def create_adjustment(request, body: schemas.AdjustmentIn, *, operation: Operation):
    product, warehouse, lot, location = _lot_in_bin(body)
    entry = movements.adjust_stock(
        tenant=request.tenant,
        lot=lot,
        location=location,
        quantity_delta=body.quantity_delta,
        reason=body.reason,
        actor=_actor(request),
        operation=operation,
    )
    return 201, _entry(entry, product=product, warehouse=warehouse, location=location, lot=lot)


@router.post(
    "/shipments",
    response={201: schemas.EntryOut, **WRITE_ERRORS},
    tags=["stock"],
    summary="Ship free stock of an approved, unexpired lot (a sale pushed by a POS or ERP)",
)
@write_endpoint("api.shipment", payload=lambda body: _payload(body, "quantity"))
def create_shipment(request, body: schemas.ShipmentIn, *, operation: Operation):
    product, warehouse, lot, location = _lot_in_bin(body)
    entry = movements.ship_stock(
        tenant=request.tenant,
        lot=lot,
        location=location,
        quantity=body.quantity,
        reference=body.reference,
        actor=_actor(request),
        operation=operation,
    )
    return 201, _entry(entry, product=product, warehouse=warehouse, location=location, lot=lot)


@router.post(
    "/moves",
    response={201: schemas.MoveOut, **WRITE_ERRORS},
    tags=["stock"],
    summary="Move stock of a lot between two bins of a warehouse",
)
@write_endpoint("api.move", payload=lambda body: _payload(body, "quantity"))
def create_move(request, body: schemas.MoveIn, *, operation: Operation):
    product = get_product_by_sku(body.sku)
    warehouse = get_warehouse_by_code(body.warehouse)
    lot = get_lot_by_code(product, body.lot_code)
    from_location = get_location_by_code(warehouse, body.from_location)
    to_location = get_location_by_code(warehouse, body.to_location)
    move = movements.move_stock(
        tenant=request.tenant,
        lot=lot,
        from_location=from_location,
        to_location=to_location,
        quantity=body.quantity,
        reason=body.reason,
        actor=_actor(request),
        operation=operation,
    )
    entry_of = functools.partial(_entry, product=product, warehouse=warehouse, lot=lot)
    return 201, {
        "sku": product.sku,
        "lot_code": lot.code,
        "warehouse": warehouse.code,
        "from_location": from_location.code,
        "to_location": to_location.code,
        "quantity": _decimal(move.in_entry.quantity),
        "entries": [
            entry_of(move.out_entry, location=from_location),
            entry_of(move.in_entry, location=to_location),
        ],
    }


def _count_payload(body) -> dict:
    payload = body.dict()
    payload["lines"] = [
        {**line, "counted_quantity": to_decimal(line["counted_quantity"], what="counted quantity")}
        for line in payload["lines"]
    ]
    return payload


@router.post(
    "/counts",
    response={201: schemas.CountOut, **WRITE_ERRORS},
    tags=["stock"],
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
        actor=_actor(request),
        operation=operation,
    )
    skus = dict(
        Product.objects.filter(pk__in={d.lot.product_id for d in differences}).values_list(
            "pk", "sku"
        )
    )
    return 201, {
        "warehouse": warehouse.code,
        "lines": [
            {
                "sku": skus[difference.lot.product_id],
                "lot_code": difference.lot.code,
                "location": difference.location.code,
                "previous_quantity": _decimal(difference.previous_quantity),
                "counted_quantity": _decimal(difference.counted_quantity),
                "difference": _decimal(difference.difference),
                "entry_id": difference.entry.pk if difference.entry else None,
            }
            for difference in differences
        ],
        "posted": sum(1 for difference in differences if difference.entry),
    }


# -- reads --------------------------------------------------------------------------------


@router.get(
    "/stock",
    response={200: schemas.StockOut, **ERRORS, 404: schemas.ErrorOut, 422: schemas.ErrorOut},
    tags=["stock"],
    summary="Stock of a product, in one warehouse or all",
)
def get_stock(
    request,
    sku: schemas.Sku = REQUIRED_SKU,
    warehouse: schemas.WarehouseCode = OPTIONAL_WAREHOUSE,
):
    """One statement: ``inventory_api_stock`` (migration ``0018``), no transaction of its own."""
    request_values = {"sku_key": code_key(sku), "sku_quoted": repr(sku)}
    if warehouse:
        request_values |= {
            "warehouse_key": code_key(warehouse),
            "warehouse_quoted": repr(warehouse),
        }
    return JsonResponse(
        call_function(
            "SELECT inventory_api_stock(%s, %s::jsonb, %s)",
            [request.tenant.pk, json.dumps(request_values), settings.TIME_ZONE],
        )
    )


@router.get(
    "/movements",
    response={200: schemas.MovementPageOut, **ERRORS, 404: schemas.ErrorOut, 422: schemas.ErrorOut},
    tags=["stock"],
    summary=f"Ledger entries, newest first (at most {MAX_PAGE_SIZE} a page)",
)
def list_movements(
    request,
    sku: schemas.Sku = OPTIONAL_SKU,
    since: schemas.Timestamp = SINCE,
    kind: schemas.MovementKind | None = KIND,
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    with tenant_context(request.tenant.pk):
        product = get_product_by_sku(sku) if sku else None
        entries = list(
            ledger_entries(product=product, since=since, kind=kind)[offset : offset + limit + 1]
        )
        items = [_stored_entry(entry) for entry in entries[:limit]]
    return {
        "items": items,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(entries) > limit else None,
    }

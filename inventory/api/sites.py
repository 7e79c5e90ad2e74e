"""API v1, sites: warehouses and their bins."""

from __future__ import annotations

from ninja import Router

from inventory.api import responses, schemas
from inventory.api.common import WRITE_ERRORS, could_be_code, fingerprinted
from inventory.api.core import write_endpoint
from inventory.catalog import services
from inventory.catalog.selectors import get_warehouse_by_code
from inventory.core.errors import WarehouseNotFound
from inventory.models import Operation

router = Router(tags=["sites"])


@router.post(
    "/warehouses",
    response={201: responses.WarehouseOut, **WRITE_ERRORS},
    summary="Add a warehouse (with a RECEIVING bin)",
)
@write_endpoint("api.warehouse", payload=lambda body: fingerprinted(body))
def create_warehouse(request, body: schemas.WarehouseIn, *, operation: Operation):
    warehouse = services.create_warehouse(
        tenant=request.tenant, code=body.code, name=body.name, time_zone=body.time_zone
    )
    return 201, responses.WarehouseOut.from_orm(warehouse)


def _location_payload(code: str, body) -> dict:
    if not could_be_code(code, 32):
        raise WarehouseNotFound()
    return {"warehouse": code, **fingerprinted(body)}


@router.post(
    "/warehouses/{code}/locations",
    response={201: responses.LocationOut, **WRITE_ERRORS},
    summary="Add a bin to a warehouse",
)
@write_endpoint("api.location", payload=_location_payload)
def create_location(request, code: str, body: schemas.LocationIn, *, operation: Operation):
    location = services.create_location(
        tenant=request.tenant,
        warehouse=get_warehouse_by_code(code),
        code=body.code,
        kind=body.kind,
        pick_sequence=body.pick_sequence,
    )
    return 201, responses.LocationOut.from_orm(location)

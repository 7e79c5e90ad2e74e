"""API v1, stock reads: a product's stock, and the ledger's entries."""

from __future__ import annotations

import dataclasses

from ninja import Query, Router

from inventory.api import responses, schemas
from inventory.api.common import DEFAULT_PAGE_SIZE, ERRORS, MAX_PAGE_SIZE
from inventory.catalog.selectors import get_product_by_sku, get_warehouse_by_code
from inventory.ledger.selectors import ledger_entries
from inventory.stock.selectors import stock_summary
from warehouse.tenancy import tenant_context

router = Router(tags=["stock"])

SINCE = Query(
    None, description="An RFC 3339 date and time with its offset, such as 2026-05-01T08:00:00Z."
)
KIND = Query(None, description="One ledger entry kind.")
REQUIRED_SKU = Query(..., description="The product's SKU.")
OPTIONAL_SKU = Query(None, description="Only this product's entries.")
OPTIONAL_WAREHOUSE = Query(None, description="One warehouse's code; all warehouses without it.")


@router.get(
    "/stock",
    response={200: responses.StockOut, **ERRORS, 404: responses.ErrorOut, 422: responses.ErrorOut},
    summary="Stock of a product, in one warehouse or all",
)
def get_stock(
    request,
    sku: schemas.Sku = REQUIRED_SKU,
    warehouse: schemas.WarehouseCode = OPTIONAL_WAREHOUSE,
):
    with tenant_context(request.tenant.pk):
        product = get_product_by_sku(sku)
        site = get_warehouse_by_code(warehouse) if warehouse else None
        summary = stock_summary(product=product, warehouse=site)
    return responses.StockOut(
        sku=product.sku, warehouse=site.code if site else None, **dataclasses.asdict(summary)
    )


@router.get(
    "/movements",
    response={
        200: responses.MovementPageOut,
        **ERRORS,
        404: responses.ErrorOut,
        422: responses.ErrorOut,
    },
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
        return responses.MovementPageOut(
            items=entries[:limit],
            limit=limit,
            offset=offset,
            next_offset=offset + limit if len(entries) > limit else None,
        )

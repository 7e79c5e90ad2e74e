"""API v1, stock reads: a product's stock, and the ledger's entries."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import JsonResponse
from ninja import Query, Router

from inventory.api import responses, schemas
from inventory.api.common import DEFAULT_PAGE_SIZE, ERRORS, MAX_PAGE_SIZE
from inventory.catalog.selectors import code_key, get_product_by_sku
from inventory.core.functions import call_function
from inventory.ledger.selectors import ledger_entries
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
    """One statement: ``inventory_api_stock`` (migration ``0018``), no transaction of its own.

    The function answers in the shape of ``StockOut``; the numbers are
    ``inventory_stock_rows``, as for every other stock reader.
    """
    wanted = {"sku_key": code_key(sku), "sku_quoted": repr(sku)}
    if warehouse:
        wanted |= {"warehouse_key": code_key(warehouse), "warehouse_quoted": repr(warehouse)}
    return JsonResponse(
        call_function(
            "SELECT inventory_api_stock(%s, %s::jsonb, %s)",
            [request.tenant.pk, json.dumps(wanted), settings.TIME_ZONE],
        )
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

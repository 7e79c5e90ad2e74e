"""API v1, catalog: products (add, list or search, one by SKU)."""

from __future__ import annotations

import json
from decimal import Decimal

from ninja import Query, Router
from pydantic import TypeAdapter

from inventory.api import responses, schemas
from inventory.api.common import (
    DEFAULT_PAGE_SIZE,
    ERRORS,
    MAX_PAGE_SIZE,
    WRITE_ERRORS,
    could_be_code,
    fingerprinted,
)
from inventory.api.core import write_endpoint
from inventory.catalog import services
from inventory.catalog.selectors import (
    get_product_by_sku,
    products_with_attributes,
    search_products,
)
from inventory.core.errors import ProductNotFound, ValidationFailed
from inventory.models import Operation, Product
from warehouse.tenancy import tenant_context

router = Router(tags=["catalog"])

SEARCH = Query("", description="Full-text search; ranked when given.")
ATTRIBUTES = Query(
    "",
    description='Only products whose attributes contain this JSON object, such as {"colour": '
    '"red"}; not together with a search.',
)

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


@router.post(
    "/products", response={201: responses.ProductOut, **WRITE_ERRORS}, summary="Add a product"
)
@write_endpoint("api.product", payload=lambda body: fingerprinted(body, "unit_cost"))
def create_product(request, body: schemas.ProductIn, *, operation: Operation):
    product = services.create_product(
        tenant=request.tenant,
        sku=body.sku,
        name=body.name,
        uom=body.uom,
        qc_required=body.qc_required,
        shelf_life_days=body.shelf_life_days,
        unit_cost=Decimal("0") if body.unit_cost is None else body.unit_cost,
        attributes=body.attributes,
        gtin=body.gtin,
    )
    return 201, responses.ProductOut.from_orm(product)


@router.get(
    "/products",
    response={200: responses.ProductListOut, **ERRORS, 422: responses.ErrorOut},
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
        return responses.ProductListOut(items=list(products))


@router.get(
    "/products/{sku}",
    response={200: responses.ProductOut, **ERRORS, 404: responses.ErrorOut},
    summary="One product by SKU",
)
def get_product(request, sku: str):
    if not could_be_code(sku, 64):
        raise ProductNotFound()
    with tenant_context(request.tenant.pk):
        return responses.ProductOut.from_orm(get_product_by_sku(sku))

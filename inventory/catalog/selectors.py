"""Reads of the catalog and the sites: products by SKU or search, warehouses and bins by code.

Row-level security scopes every one to the tenant: call them inside a tenant
context. Lookups raise the domain ``NotFound`` errors, so a missing row and
another tenant's row answer the same.
"""

from __future__ import annotations

import json

from django.contrib.postgres.fields import ArrayField
from django.db.models import BigIntegerField, BooleanField, F, FloatField, Func, QuerySet
from django.db.models.expressions import RawSQL

from inventory.core.errors import LocationNotFound, ProductNotFound, WarehouseNotFound
from inventory.models import Product
from warehouse.models import Location, LocationKind, Warehouse

# Either stemmed (names) or verbatim (SKUs, codes) words may match.
SEARCH_QUERY = "(websearch_to_tsquery('english', %s) || websearch_to_tsquery('simple', %s))"


def code_key(code: object) -> str | None:
    """The stored lookup key a code would have (``lower(code)``), or None if no code can match.

    Codes are ASCII (``warehouse.validators.CodeValidator``). Python's and
    PostgreSQL's ``lower()`` agree on ASCII, not beyond it (the Kelvin sign
    lowers to ``k`` in Python only), so anything else matches nothing.
    """
    key = str(code).strip()
    # Printable ASCII only: a NUL would also be refused by PostgreSQL itself.
    if not (key.isascii() and key.isprintable()):
        return None
    return key.lower()


def get_product_by_sku(sku: str) -> Product:
    try:
        return Product.objects.get(sku_key=code_key(sku))
    except Product.DoesNotExist:
        raise ProductNotFound(f"No product with SKU {sku!r}.") from None


def get_warehouse_by_code(code: str) -> Warehouse:
    try:
        return Warehouse.objects.get(code_key=code_key(code))
    except Warehouse.DoesNotExist:
        raise WarehouseNotFound(f"No warehouse with code {code!r}.") from None


def get_location_by_code(warehouse: Warehouse, code: str) -> Location:
    location = Location.objects.filter(warehouse=warehouse, code_key=code_key(code), is_active=True)
    try:
        return location.select_related("warehouse").get()
    except Location.DoesNotExist:
        raise LocationNotFound(f"No location {code!r} in warehouse {warehouse.code}.") from None


def default_receiving_location(warehouse: Warehouse) -> Location:
    """The warehouse's first active receiving bin by pick sequence, then code."""
    location = (
        Location.objects.filter(warehouse=warehouse, kind=LocationKind.RECEIVING, is_active=True)
        .order_by("pick_sequence", "code", "id")
        .first()
    )
    if location is None:
        raise LocationNotFound(f"Warehouse {warehouse.code} has no receiving location.")
    return location


class _IsAnyOf(Func):
    """``column = ANY(array)``: one LEAKPROOF comparison per element (``int8eq`` for ids)."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def _matching(function: str, *params) -> _IsAnyOf:
    """``id = ANY(ARRAY(SELECT product_id FROM function(...)))``.

    The functions (migrations ``inventory 0015`` and ``0016``) match with their GIN indexes
    outside row-level security and return only ids of the current tenant;
    comparing ``id`` with them is ``int8eq``, LEAKPROOF, so the primary key
    serves it under the policy, where ``@@`` and ``@>`` could only be filters.
    """
    placeholders = ", ".join(["%s"] * len(params))
    ids = RawSQL(
        f"ARRAY(SELECT product_id FROM {function}({placeholders}))",
        params,
        output_field=ArrayField(BigIntegerField()),
    )
    return _IsAnyOf(F("pk"), ids)


def search_products(query: str, *, limit: int = 50) -> QuerySet[Product]:
    """Active products matching ``query`` (web-search syntax), best match first.

    Of a tenant with more than 1,000 matches (a word in most products), only
    the first 1,000 by SKU are ranked: the time stays bounded whatever the
    catalog's size (migration ``inventory 0016`` says why).
    """
    if "\x00" in query:
        # PostgreSQL refuses NUL in text; no product's words contain one.
        return Product.objects.none()
    rank = RawSQL(
        f"ts_rank(search_vector, {SEARCH_QUERY})", [query, query], output_field=FloatField()
    )
    return (
        Product.objects.active()
        .filter(_matching("inventory_product_search", query, limit))
        .annotate(rank=rank)
        .order_by("-rank", "sku")[:limit]
    )


def products_with_attributes(attributes: dict, *, limit: int = 50) -> QuerySet[Product]:
    """Active products whose attributes contain ``attributes`` (JSON containment), by SKU."""
    if not attributes:
        # Everything contains {}: no index would help, and the list by SKU is the answer.
        return Product.objects.active().order_by("sku")[:limit]
    wanted = json.dumps(attributes)
    return (
        Product.objects.active()
        .filter(_matching("inventory_product_attribute_match", wanted, limit))
        .order_by("sku")[:limit]
    )

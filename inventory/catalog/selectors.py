"""Reads of the catalog and the sites: products by SKU or search, warehouses and bins by code.

Row-level security scopes every one to the tenant: call them inside a tenant
context. Lookups raise the domain ``NotFound`` errors, so a missing row and
another tenant's row answer the same.
"""

from __future__ import annotations

import json

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    DecimalField,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from inventory.core.errors import LocationNotFound, ProductNotFound, WarehouseNotFound
from inventory.models import (
    Balance,
    LotAvailable,
    Order,
    Product,
    QcStatus,
    ReservationLine,
    ReservationStatus,
)
from warehouse.models import Location, LocationKind, Warehouse
from warehouse.validators import normalize_gtin

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


# -- the product screens --------------------------------------------------------

# The most products a search lists (the best full-text matches, then SKU prefixes).
MAX_SEARCH_MATCHES = 500
# The most bins and lots the product page lists (a product is rarely in more).


def product_by_code(code: str) -> Product | None:
    """The active product whose SKU is ``code`` (any case) or whose GTIN it is, else None.

    What a scanner sends: a SKU label or a GTIN-8/12/13/14 barcode.
    """
    key = code_key(code)
    if not key:
        return None
    products = Product.objects.active()
    product = products.filter(sku_key=key).first()
    gtin = normalize_gtin(key)
    if product is None and gtin:
        # A SKU made of digits wins over another product's barcode.
        product = products.filter(gtin=gtin).first()
    return product


def find_products(query: str = "") -> QuerySet[Product]:
    """Active products matching ``query`` in full text or by SKU prefix (all when blank).

    Unordered: the table sorts it (by SKU or name) in the database.
    """
    products = Product.objects.active()
    query = query.strip()
    if not query:
        return products
    matching = search_products(query, limit=MAX_SEARCH_MATCHES).values("pk")
    wanted = Q(pk__in=matching)
    prefix = code_key(query)
    if prefix:
        # A byte range on the C-collated key, as the stock rows use: LEAKPROOF.
        wanted |= Q(sku_key__gte=prefix, sku_key__lt=prefix + "\x7f")
    return products.filter(wanted)


def get_product(product_id) -> Product:
    try:
        return Product.objects.get(pk=int(product_id))
    except (Product.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ProductNotFound(f"No product {product_id}.") from None


def stock_by_warehouse(product: Product, *, today=None) -> list[dict]:
    """The product's stock per warehouse: ``inventory_stock_rows``, the one definition.

    Rows carry ``warehouse`` (code) and the numbers of ``StockSummary``; they
    add up to ``stock_summary(product=product)``.
    """
    today = today or timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT warehouse.id, warehouse.code, warehouse.name, stock.on_hand, stock.reserved,
                   stock.available, stock.quarantined, stock.rejected, stock.expired
              FROM inventory_stock_rows(ARRAY[%s]::bigint[], NULL, %s, %s) AS stock
              JOIN warehouse_warehouse AS warehouse ON warehouse.id = stock.warehouse_id
             ORDER BY warehouse.code
            """,
            [product.pk, today, timezone.now()],
        )
        columns = [column.name for column in cursor.description]
        columns[0:3] = ["warehouse_id", "warehouse", "warehouse_name"]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def product_holdings(product: Product) -> QuerySet:
    """The product's stock per bin and lot (rows with stock only), by warehouse, bin, expiry.

    Balances with their lot and location; ``quarantined`` is the row's stock
    while its lot waits for QC; ``promisable`` is what can still be
    promised of the row (approved, unexpired lots only, less what is reserved;
    ``Balance.available`` counts any lot).
    """
    today = timezone.localdate()
    return (
        Balance.objects.filter(product=product, on_hand__gt=0)
        .select_related("lot", "location", "warehouse")
        .annotate(
            promisable=Case(
                When(LotAvailable(today, prefix="lot__"), then=F("on_hand") - F("reserved")),
                default=Value(0),
                output_field=DecimalField(),
            ),
            quarantined=Case(
                When(lot__qc_status=QcStatus.QUARANTINE, then=F("on_hand")),
                default=Value(0),
                output_field=DecimalField(),
            ),
        )
        .order_by("warehouse__code", "location__code", "lot__expires_on", "lot__code", "id")
    )


def open_reservations_of(product: Product) -> QuerySet:
    """Open reservations holding ``product``: their lines, with the order they serve."""
    order = Order.objects.filter(reservation_id=OuterRef("reservation_id"))
    return (
        ReservationLine.objects.filter(product=product, reservation__status=ReservationStatus.OPEN)
        .select_related("reservation", "reservation__warehouse")
        .annotate(
            order_reference=Subquery(order.values("reference")[:1]),
            customer=Subquery(order.values("customer")[:1]),
        )
        .order_by("reservation__expires_at", "reservation__created_at", "id")
    )

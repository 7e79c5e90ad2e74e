"""Stock reads: on hand, reserved, available and where the rest is, per product and warehouse.

Available counts approved, unexpired lots only, less what is reserved of
them; what reservations past their expiry still hold counts as available
(the next allocation, or the sweep, releases it).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from inventory.catalog.selectors import code_key, search_products
from inventory.core.errors import ProductNotFound, WarehouseNotFound
from inventory.core.validation import owned
from inventory.models import Product
from warehouse.models import Tenant, Warehouse
from warehouse.tenancy import tenant_context


@dataclass(frozen=True)
class StockSummary:
    """Stock of one product, in one warehouse or all of them.

    ``on_hand`` counts every lot; ``available`` only approved, unexpired lots,
    less what is reserved of them; ``quarantined``, ``rejected`` and
    ``expired`` say where the rest is.
    """

    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    quarantined: Decimal
    rejected: Decimal
    expired: Decimal


# The numbers themselves are ``inventory_stock_rows`` (migration ``0018``): one
# definition for the API, the screens and the services.
_SUMMARY = "SELECT * FROM inventory_stock_summary(%s::bigint[], %s, %s, %s)"
_OVERVIEW = """
    SELECT stock.product_id, stock.warehouse_id, product.sku, product.name, product.uom,
           warehouse.code, stock.on_hand, stock.reserved, stock.available,
           stock.quarantined, stock.rejected, stock.expired
      FROM inventory_stock_rows({products}, %s, %s, %s) AS stock
      JOIN inventory_product AS product ON product.id = stock.product_id
      JOIN warehouse_warehouse AS warehouse ON warehouse.id = stock.warehouse_id
     ORDER BY product.sku, warehouse.code
     LIMIT %s
"""
_OVERVIEW_COLUMNS = (
    "product_id",
    "warehouse_id",
    "product__sku",
    "product__name",
    "product__uom",
    "warehouse__code",
    "total_on_hand",
    "total_reserved",
    "total_available",
    "total_quarantined",
    "total_rejected",
    "total_expired",
)


def stock_summary(
    *,
    product: Product,
    warehouse: Warehouse | None = None,
    today: datetime.date | None = None,
    tenant: Tenant | None = None,
) -> StockSummary:
    """On hand, reserved, available, quarantined (and rejected, expired) of ``product``.

    In ``warehouse``, or summed over every warehouse when it is None.
    Available counts only approved lots not expired on ``today`` (default:
    today), less what is reserved of them. Reads only. With ``tenant`` it
    opens that tenant's context itself and answers ``ProductNotFound`` or
    ``WarehouseNotFound`` for another tenant's objects; without it, call it
    inside a tenant context.
    """
    if tenant is not None:
        owned(product, tenant, ProductNotFound, Product)
        if warehouse is not None:
            owned(warehouse, tenant, WarehouseNotFound, Warehouse)
        with tenant_context(tenant.pk):
            return stock_summary(product=product, warehouse=warehouse, today=today)
    today = today or timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            _SUMMARY,
            [[product.pk], None if warehouse is None else warehouse.pk, today, timezone.now()],
        )
        return StockSummary(*cursor.fetchone())


def stock_overview(
    *,
    query: str = "",
    warehouse: Warehouse | None = None,
    today: datetime.date | None = None,
    limit: int = 500,
) -> list[dict]:
    """Stock per product and warehouse for the stock screen, by SKU (at most ``limit`` rows).

    Rows carry ``total_on_hand``, ``total_reserved``, ``total_available``
    (approved, unexpired, less reserved), ``total_quarantined``,
    ``total_rejected`` and ``total_expired``, the same numbers as
    ``stock_summary`` (they add up to on hand); ``query``
    narrows to products matching it in full text or by SKU prefix. As in
    ``stock_summary``, what reservations past their expiry still hold counts
    as available, not reserved: the next allocation (or the sweep) frees it.
    """
    today = today or timezone.localdate()
    products, params = "NULL::bigint[]", []
    if query:
        matching = search_products(query, limit=500).values("pk")
        prefix = code_key(query)
        by_sku = Q(pk__in=[])
        if prefix:
            # A byte range on the C-collated key (codes are below "~"), not
            # ILIKE: range comparisons are LEAKPROOF, so the index serves them.
            by_sku = Q(sku_key__gte=prefix, sku_key__lt=prefix + "\x7f")
        wanted = Product.objects.filter(Q(pk__in=matching) | by_sku).values("pk")
        try:
            sql, params = wanted.query.sql_with_params()
        except EmptyResultSet:  # nothing can match: no query needed
            return []
        products = f"ARRAY({sql})"
    with connection.cursor() as cursor:
        cursor.execute(
            _OVERVIEW.format(products=products),
            [*params, None if warehouse is None else warehouse.pk, today, timezone.now(), limit],
        )
        return [dict(zip(_OVERVIEW_COLUMNS, row, strict=True)) for row in cursor.fetchall()]

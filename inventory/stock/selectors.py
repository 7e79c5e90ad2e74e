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


# ``inventory_stock_rows`` reads NULL products as every product.
EVERY_PRODUCT = "NULL::bigint[]"


def _products_matching(query: str) -> tuple[str, list] | None:
    """The SQL array of the products ``query`` names, with its parameters.

    Products matching ``query`` in full text or by SKU prefix; with no query
    ``NULL`` (every product). None when nothing can match.
    """
    if not query:
        return EVERY_PRODUCT, []
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
    except EmptyResultSet:
        return None
    return f"ARRAY({sql})", list(params)


# The stock screen's sort keys: a column name (``-`` for descending) to its SQL.
# Only these reach the query; each ends on the SKU and warehouse so that a
# page boundary never falls between equal rows in two orders.
STOCK_SORTS = {
    "sku": "product.sku_key",
    "name": "product.name",
    "warehouse": "warehouse.code_key",
    "on_hand": "stock.on_hand",
    "reserved": "stock.reserved",
    "available": "stock.available",
    "quarantined": "stock.quarantined",
    "rejected": "stock.rejected",
    "expired": "stock.expired",
}
_TIE_BREAK = "product.sku_key, warehouse.code_key"
_STOCK_PAGE = """
    SELECT stock.product_id, stock.warehouse_id, product.sku, product.name, product.uom,
           warehouse.code, stock.on_hand, stock.reserved, stock.available,
           stock.quarantined, stock.rejected, stock.expired
      FROM inventory_stock_rows({products}, %s, %s, %s) AS stock
      JOIN inventory_product AS product ON product.id = stock.product_id
      JOIN warehouse_warehouse AS warehouse ON warehouse.id = stock.warehouse_id
     ORDER BY {order}
     LIMIT %s OFFSET %s
"""
# ``inventory_stock_rows`` has one row per product and warehouse holding a
# balance: counting those pairs counts its rows without computing them.
_STOCK_PAIRS = """
    SELECT DISTINCT balance.product_id, balance.warehouse_id
      FROM inventory_balance AS balance
     WHERE {product_condition}
       AND (%s::bigint IS NULL OR balance.warehouse_id = %s)
"""
_STOCK_COUNT = "SELECT count(*) FROM (" + _STOCK_PAIRS + ") AS pairs"
# Sorted by what the product or warehouse says (not by a quantity), a page
# needs no stock computed first: its pairs are chosen from the balances, and
# only their products' stock is computed (25 products, not the catalog).
_BY_ATTRIBUTE = frozenset({"sku", "name", "warehouse"})
_STOCK_PAGE_BY_ATTRIBUTE = (
    "WITH pairs AS ("
    + _STOCK_PAIRS
    + """), page AS (
        SELECT pairs.product_id, pairs.warehouse_id
          FROM pairs
          JOIN inventory_product AS product ON product.id = pairs.product_id
          JOIN warehouse_warehouse AS warehouse ON warehouse.id = pairs.warehouse_id
         ORDER BY {order}
         LIMIT %s OFFSET %s
    )
    SELECT stock.product_id, stock.warehouse_id, product.sku, product.name, product.uom,
           warehouse.code, stock.on_hand, stock.reserved, stock.available,
           stock.quarantined, stock.rejected, stock.expired
      FROM inventory_stock_rows(ARRAY(SELECT product_id FROM page), %s, %s, %s) AS stock
      JOIN page ON page.product_id = stock.product_id AND page.warehouse_id = stock.warehouse_id
      JOIN inventory_product AS product ON product.id = stock.product_id
      JOIN warehouse_warehouse AS warehouse ON warehouse.id = stock.warehouse_id
     ORDER BY {order}
"""
)
_STOCK_PAGE_COLUMNS = (
    "product_id",
    "warehouse_id",
    "sku",
    "name",
    "uom",
    "warehouse",
    "on_hand",
    "reserved",
    "available",
    "quarantined",
    "rejected",
    "expired",
)


class StockRows:
    """The stock per product and warehouse, sorted and paged by PostgreSQL.

    Lazy, like a queryset: ``order_by`` returns a copy sorted by other
    columns (names of ``STOCK_SORTS``; unknown names are ignored),
    ``count()`` counts the rows in one query and a slice fetches one page in
    one query (``LIMIT``/``OFFSET``), so a paginator over it costs two
    queries whatever the number of products. Rows are dicts with the keys of
    ``_STOCK_PAGE_COLUMNS``; the numbers are those of ``stock_summary``.
    Read inside the tenant context.
    """

    def __init__(self, *, products, params, warehouse_id, today, now, ordering=("sku",)):
        self._products = products
        self._params = params
        self._warehouse_id = warehouse_id
        self._today = today
        self._now = now
        self.ordering = tuple(ordering)
        self._count = None

    def order_by(self, *fields: str) -> StockRows:
        known = tuple(field for field in fields if field.lstrip("-") in STOCK_SORTS)
        return type(self)(
            products=self._products,
            params=self._params,
            warehouse_id=self._warehouse_id,
            today=self._today,
            now=self._now,
            ordering=known or ("sku",),
        )

    def _order_sql(self) -> str:
        terms = []
        for field in self.ordering:
            direction = " DESC" if field.startswith("-") else ""
            terms.append(STOCK_SORTS[field.lstrip("-")] + direction)
        return ", ".join([*terms, _TIE_BREAK])

    def _pairs(self) -> tuple[str, list]:
        """The condition and parameters of ``_STOCK_PAIRS``: this search's products."""
        if self._products == EVERY_PRODUCT:
            return "TRUE", []
        return f"balance.product_id = ANY({self._products})", list(self._params)

    def count(self) -> int:
        if self._count is None:
            condition, params = self._pairs()
            sql = _STOCK_COUNT.format(product_condition=condition)
            params = [*params, self._warehouse_id, self._warehouse_id]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                self._count = cursor.fetchone()[0]
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start = max(index.start or 0, 0)
        stop = self.count() if index.stop is None else index.stop
        if stop <= start:
            return []
        sql, params = self._page_query(limit=stop - start, offset=start)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [dict(zip(_STOCK_PAGE_COLUMNS, row, strict=True)) for row in cursor.fetchall()]

    def __iter__(self):
        return iter(self[:])

    def _page_query(self, *, limit: int, offset: int, by_attribute: bool | None = None):
        """The SQL and parameters of one page.

        ``by_attribute``: choose the page's pairs first, then compute their
        stock (right only when sorted by SKU, name or warehouse, the default).
        """
        if by_attribute is None:
            by_attribute = all(field.lstrip("-") in _BY_ATTRIBUTE for field in self.ordering)
        stock = [self._warehouse_id, self._today, self._now]
        if by_attribute:
            condition, params = self._pairs()
            sql = _STOCK_PAGE_BY_ATTRIBUTE.format(
                product_condition=condition, order=self._order_sql()
            )
            return sql, [*params, self._warehouse_id, self._warehouse_id, limit, offset, *stock]
        sql = _STOCK_PAGE.format(products=self._products, order=self._order_sql())
        return sql, [*self._params, *stock, limit, offset]


class _NoStockRows(StockRows):
    """What a search nothing can match finds: no rows, and no query to say so."""

    def count(self) -> int:
        return 0

    def __getitem__(self, index):
        return []


def stock_rows(
    *,
    query: str = "",
    warehouse: Warehouse | None = None,
    today: datetime.date | None = None,
) -> StockRows:
    """The stock screen's rows: per product and warehouse, sorted and paged in SQL.

    ``query`` narrows to products matching it in full text or by SKU prefix
    (by the stored key's byte range), ``warehouse`` to one warehouse. Nothing is read
    until the rows are counted or sliced.
    """
    today = today or timezone.localdate()
    matching = _products_matching(query)
    products, params = matching or (EVERY_PRODUCT, [])
    kind = StockRows if matching is not None else _NoStockRows
    return kind(
        products=products,
        params=params,
        warehouse_id=None if warehouse is None else warehouse.pk,
        today=today,
        now=timezone.now(),
    )

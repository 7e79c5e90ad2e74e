"""SCD2 dimensions kept current: one close-and-insert statement per dimension.

Each statement compares the source rows (products, warehouses, the customer
names on orders) with the current dimension rows: a key whose attributes
differ (``IS DISTINCT FROM``, so NULLs compare as values) has its current row
closed at ``at`` and a new current row opened at ``at``; a key seen for the
first time gets its first row; an unchanged key is not written at all. Keys
that disappear from the source keep their current row (products and
warehouses are deactivated, not deleted; ``is_active`` is an attribute).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connections, transaction
from django.utils import timezone


@dataclass(frozen=True)
class Dimension:
    table: str
    key: str
    attributes: tuple[str, ...]
    # Columns ``tenant_id``, the key and the attributes, one row per key;
    # ``%(tenant)s`` narrows it to one tenant (NULL: every tenant).
    source: str


DIMENSIONS = {
    "product": Dimension(
        table="dw.dim_product",
        key="product_id",
        attributes=("sku", "name", "uom", "unit_cost", "qc_required", "is_active"),
        source="""
            SELECT product.tenant_id, product.id AS product_id, product.sku, product.name,
                   product.uom, product.unit_cost, product.qc_required, product.is_active
              FROM public.inventory_product AS product
             WHERE %(tenant)s::bigint IS NULL OR product.tenant_id = %(tenant)s::bigint
        """,
    ),
    "warehouse": Dimension(
        table="dw.dim_warehouse",
        key="warehouse_id",
        attributes=("code", "name", "time_zone", "is_active"),
        source="""
            SELECT warehouse.tenant_id, warehouse.id AS warehouse_id, warehouse.code,
                   warehouse.name, warehouse.time_zone, warehouse.is_active
              FROM public.warehouse_warehouse AS warehouse
             WHERE %(tenant)s::bigint IS NULL OR warehouse.tenant_id = %(tenant)s::bigint
        """,
    ),
    # A customer is a name on orders: the key folds case and spacing, the
    # name shown is the spelling of the customer's latest order.
    "customer": Dimension(
        table="dw.dim_customer",
        key="customer_key",
        attributes=("name",),
        source="""
            SELECT DISTINCT ON (named.tenant_id, named.customer_key)
                   named.tenant_id, named.customer_key, named.name
              FROM (SELECT placed.tenant_id, placed.created_at, placed.id,
                           regexp_replace(lower(btrim(placed.customer)), '\\s+', ' ', 'g')
                               AS customer_key,
                           regexp_replace(btrim(placed.customer), '\\s+', ' ', 'g') AS name
                      FROM public.inventory_order AS placed
                     WHERE %(tenant)s::bigint IS NULL
                        OR placed.tenant_id = %(tenant)s::bigint) AS named
             WHERE named.customer_key <> ''
             ORDER BY named.tenant_id, named.customer_key, named.created_at DESC, named.id DESC
        """,
    ),
}


def _upsert_sql(dimension: Dimension) -> str:
    key, attributes = dimension.key, dimension.attributes
    current = ", ".join(f"dim.{name}" for name in attributes)
    wanted = ", ".join(f"source.{name}" for name in attributes)
    inserted = ", ".join(["tenant_id", key, *attributes])
    selected = ", ".join(f"changed.{name}" for name in ["tenant_id", key, *attributes])
    return f"""
    WITH source AS ({dimension.source}),
    changed AS (
        SELECT source.*
          FROM source
          LEFT JOIN {dimension.table} AS dim
            ON dim.tenant_id = source.tenant_id AND dim.{key} = source.{key} AND dim.is_current
         WHERE dim.id IS NULL OR ({current}) IS DISTINCT FROM ({wanted})
    ),
    closed AS (
        UPDATE {dimension.table} AS dim
           SET valid_to = %(at)s, is_current = false
          FROM changed
         WHERE dim.tenant_id = changed.tenant_id AND dim.{key} = changed.{key}
           AND dim.is_current
        RETURNING dim.id
    ),
    opened AS (
        INSERT INTO {dimension.table} ({inserted}, valid_from)
        SELECT {selected}, %(at)s
          FROM changed
         -- A one-time condition reading every row of ``closed``: the old
         -- current rows are closed before any new one is inserted, so the
         -- current-row index and the EXCLUDE constraint see them closed.
         WHERE (SELECT count(*) FROM closed) >= 0
        RETURNING id
    )
    SELECT (SELECT count(*) FROM closed), (SELECT count(*) FROM opened)
    """


@dataclass(frozen=True)
class DimensionChanges:
    """What one upsert wrote: rows closed and rows opened (new keys open without closing)."""

    closed: int
    opened: int


def update_dimension(
    name: str,
    *,
    tenant_id: int | None = None,
    at: datetime.datetime | None = None,
    using: str = "maintenance",
) -> DimensionChanges:
    """Bring dimension ``name`` (a key of ``DIMENSIONS``) up to date, in one statement.

    Every tenant, or only ``tenant_id``. The cross-tenant path of the jobs:
    runs on the ``maintenance`` connection (BYPASSRLS), which alone may write
    the dimensions. ``at`` (default: now) closes changed rows and opens their
    successors; it must be later than the current rows' ``valid_from``, or
    the database refuses the closed period (``IntegrityError``). Two
    upserts of one dimension take turns (a transaction-level advisory lock).
    """
    dimension = DIMENSIONS[name]
    params = {"tenant": tenant_id, "at": at or timezone.now()}
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        # Two upserts of one dimension take turns: the second would otherwise
        # insert current rows the first has inserted and not yet committed.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [dimension.table])
        cursor.execute(_upsert_sql(dimension), params)
        closed, opened = cursor.fetchone()
    return DimensionChanges(closed=closed, opened=opened)


def update_dimensions(
    *, tenant_id: int | None = None, using: str = "maintenance"
) -> dict[str, DimensionChanges]:
    """Every dimension brought up to date (``update_dimension``), all at the same instant."""
    at = timezone.now()
    return {
        name: update_dimension(name, tenant_id=tenant_id, at=at, using=using) for name in DIMENSIONS
    }

"""``dw.current_stock_mv``: read through the tenant-filtered function, refreshed by jobs."""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from warehouse.models import Warehouse

VIEW_NAME = "dw.current_stock_mv"


@dataclass(frozen=True)
class CurrentStock:
    """One product's stock in one warehouse, as of the last refresh."""

    product_id: int
    warehouse_id: int
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    quarantined: Decimal
    rejected: Decimal
    expired: Decimal
    value: Decimal


@dataclass(frozen=True)
class Freshness:
    """When the view was last refreshed, and how long that took."""

    refreshed_at: datetime.datetime
    duration_ms: Decimal


@dataclass(frozen=True)
class Refresh:
    refreshed_at: datetime.datetime
    duration_ms: float


def current_stock(
    *, warehouse: Warehouse | None = None, using: str = DEFAULT_DB_ALIAS
) -> list[CurrentStock]:
    """The current tenant's rows of the view, in one warehouse or all, by product.

    Read inside a tenant context: ``dw.current_stock`` returns only the rows
    of ``app.tenant_id``, and none without one.
    """
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT * FROM dw.current_stock(%s) ORDER BY product_id, warehouse_id",
            [None if warehouse is None else warehouse.pk],
        )
        return [CurrentStock(*row) for row in cursor.fetchall()]


def freshness(*, using: str = DEFAULT_DB_ALIAS) -> Freshness | None:
    """When ``dw.current_stock_mv`` was last refreshed; None if the log has no refresh yet."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT refreshed_at, duration_ms FROM dw.refresh_log WHERE view_name = %s",
            [VIEW_NAME],
        )
        row = cursor.fetchone()
    return None if row is None else Freshness(*row)


_RECORD = """
    INSERT INTO dw.refresh_log AS log (view_name, refreshed_at, duration_ms)
    VALUES (%s, now(), %s)
    ON CONFLICT (view_name) DO UPDATE
       SET refreshed_at = excluded.refreshed_at, duration_ms = excluded.duration_ms
    RETURNING log.refreshed_at
"""


def refresh_current_stock(
    *, using: str = "maintenance", lock_timeout: str | None = None, concurrently: bool = True
) -> Refresh:
    """Recompute ``dw.current_stock_mv`` for every tenant, and log when.

    The narrow cross-tenant path: runs on the ``maintenance`` connection,
    whose role may refresh the view (``MAINTAIN``) and nothing more of it;
    the view's query itself runs as the view's owner. ``CONCURRENTLY``, so
    readers keep reading the previous rows until the new ones are committed;
    two refreshes take turns (each holds the view's ``EXCLUSIVE`` lock).
    The transaction's time zone is the site's ``TIME_ZONE``, so "today" in
    the view is the day the stock screens use. ``lock_timeout`` (e.g.
    ``"5s"``) bounds the wait for a refresh already running; past it
    PostgreSQL raises ``LockNotAvailable`` (SQLSTATE 55P03). Writes one
    ``dw.refresh_log`` row. ``concurrently=False`` recomputes in full, faster
    but with readers waiting meanwhile (a first fill, or a benchmark).
    """
    started = time.monotonic()
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [settings.TIME_ZONE])
        if lock_timeout is not None:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [lock_timeout])
        mode = "CONCURRENTLY " if concurrently else ""
        cursor.execute(f"REFRESH MATERIALIZED VIEW {mode}{VIEW_NAME}")
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        cursor.execute(_RECORD, [VIEW_NAME, duration_ms])
        refreshed_at = cursor.fetchone()[0]
    return Refresh(refreshed_at=refreshed_at, duration_ms=duration_ms)

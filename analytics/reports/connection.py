"""Where the reports read: the ``analytics`` alias when configured, else ``default``.

Every report is raw SQL run as the app role, under row-level security, in a
tenant context opened on the connection the report reads from: a report
routed to a replica (``ANALYTICS_DATABASE_URL``) sets ``app.tenant_id`` on
that replica's connection, never on ``default``. Without a tenant context the
policies show nothing, so a report that forgot one answers empty.

Days are calendar days in the app's time zone (``TIME_ZONE``): a day's
entries are those with ``occurred_at`` from its local midnight to the next.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from analytics.routers import ANALYTICS_ALIAS, analytics_configured
from inventory.catalog.selectors import code_key
from inventory.core.errors import ProductNotFound, ValidationFailed, WarehouseNotFound
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context

# The longest window any report reads: ten years of days.
MAX_WINDOW_DAYS = 3660
# Ledger kinds that change what is on hand (RESERVE and RELEASE change what is reserved).
ON_HAND_CONDITION = "entry.kind NOT IN ('RESERVE', 'RELEASE')"


def report_connection() -> str:
    """The alias reports read from: ``analytics`` when that alias exists, else ``default``."""
    return ANALYTICS_ALIAS if analytics_configured() else DEFAULT_DB_ALIAS


# Planner settings for the report's transaction only. A report is one
# statement of a few hundred milliseconds at most: compiling it (JIT) costs
# more than it saves, and parallel workers take the cores the app and the
# floor's writes need (on the benchmark's two cores they made ABC and
# turnover slower, not faster).
REPORT_SETTINGS = {"jit": "off", "max_parallel_workers_per_gather": "0"}


@contextlib.contextmanager
def report_cursor(tenant: Tenant) -> Iterator:
    """A cursor on the report connection, in a read transaction acting for ``tenant``."""
    alias = report_connection()
    with tenant_context(tenant.pk, using=alias), connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in REPORT_SETTINGS),
            [part for pair in REPORT_SETTINGS.items() for part in pair],
        )
        yield cursor


def fetch_all(cursor, sql: str, params: Sequence | dict) -> list[dict]:
    cursor.execute(sql, params)
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def time_zone_name() -> str:
    return settings.TIME_ZONE


def day_start(day: datetime.date) -> datetime.datetime:
    """Local midnight at the start of ``day``, as an aware time (what partitions are pruned by)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=ZoneInfo(time_zone_name()))


def last_days(
    days: int, *, today: datetime.date | None = None
) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the ``days`` days ending with ``today``."""
    check_days(days)
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=days - 1), today


def check_days(days: int, *, maximum: int = MAX_WINDOW_DAYS) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= maximum:
        raise ValidationFailed(f"days must be a whole number from 1 to {maximum}.")


# The quantum of each number of decimals the reports round to (0.01, 0.001, ...),
# made once: a 10,000-row report rounds tens of thousands of numbers.
_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(7)}


def rounded(value: Decimal | None, places: int) -> Decimal | None:
    """``value`` to ``places`` decimals, halves away from zero; -0 shows as 0."""
    if value is None:
        return None
    quantum = _QUANTA.get(places) or Decimal(1).scaleb(-places)
    if not isinstance(value, Decimal):
        value = Decimal(value)
    result = value.quantize(quantum, rounding=ROUND_HALF_UP)
    return result + 0 if result else abs(result)


def warehouse_id(cursor, code: str | None) -> int | None:
    """The id of the tenant's warehouse ``code`` (None for no code); ``WarehouseNotFound``."""
    if code is None:
        return None
    key = code_key(code)
    if key is not None:
        cursor.execute("SELECT id FROM warehouse_warehouse WHERE code_key = %s", [key])
        row = cursor.fetchone()
        if row is not None:
            return row[0]
    raise WarehouseNotFound(f"No warehouse with code {code!r}.")


def product_id(cursor, sku: str) -> int:
    """The id of the tenant's product ``sku``; ``ProductNotFound``."""
    key = code_key(sku)
    if key is not None:
        cursor.execute("SELECT id FROM inventory_product WHERE sku_key = %s", [key])
        row = cursor.fetchone()
        if row is not None:
            return row[0]
    raise ProductNotFound(f"No product with SKU {sku!r}.")

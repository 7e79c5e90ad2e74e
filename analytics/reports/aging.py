"""Stock on hand by age (days since its lot was received) and by time left to expiry.

Both read the balances now, every lot whatever its QC status, and value each
lot's stock at the lot's unit cost. Ages and expiries count calendar days
in the app's time zone: a lot received today is 0 days old; a lot expiring
today is within 30 days (it is available until the end of its expiry date),
one that expired yesterday is expired.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from analytics.reports.connection import (
    fetch_all,
    report_cursor,
    rounded,
    time_zone_name,
    warehouse_id,
)
from warehouse.models import Tenant

AGE_BUCKETS = ("0-30", "31-60", "61-90", "91-180", "over 180")
EXPIRY_BUCKETS = ("expired", "within 30", "31-60", "61-90", "later", "no expiry")

_AGING = """
WITH stock AS (
    SELECT balance.on_hand, balance.on_hand * lot.unit_cost AS value,
           %(today)s::date - (lot.received_at AT TIME ZONE %(time_zone)s)::date AS age,
           lot.expires_on - %(today)s::date AS days_left
      FROM inventory_balance AS balance
      JOIN inventory_lot AS lot ON lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
     WHERE balance.tenant_id = %(tenant)s
       AND balance.on_hand > 0
       AND (%(warehouse)s::bigint IS NULL OR balance.warehouse_id = %(warehouse)s::bigint)
)
SELECT 'age' AS kind,
       CASE WHEN age <= 30 THEN '0-30' WHEN age <= 60 THEN '31-60' WHEN age <= 90 THEN '61-90'
            WHEN age <= 180 THEN '91-180' ELSE 'over 180' END AS bucket,
       sum(on_hand) AS quantity, sum(value) AS value
  FROM stock GROUP BY 2
UNION ALL
SELECT 'expiry',
       CASE WHEN days_left IS NULL THEN 'no expiry' WHEN days_left < 0 THEN 'expired'
            WHEN days_left <= 30 THEN 'within 30' WHEN days_left <= 60 THEN '31-60'
            WHEN days_left <= 90 THEN '61-90' ELSE 'later' END,
       sum(on_hand), sum(value)
  FROM stock GROUP BY 2
"""


@dataclass(frozen=True)
class AgingBucket:
    bucket: str
    quantity: Decimal
    value: Decimal


@dataclass(frozen=True)
class Aging:
    by_age: list[AgingBucket]
    by_expiry: list[AgingBucket]


def aging(
    *, tenant: Tenant, warehouse: str | None = None, today: datetime.date | None = None
) -> Aging:
    """Quantity on hand and its value per age bucket and per expiry bucket, every bucket listed.

    In one warehouse (its code) or all. Reads only. Raises ``WarehouseNotFound``.
    """
    today = today or timezone.localdate()
    with report_cursor(tenant) as cursor:
        rows = fetch_all(
            cursor,
            _AGING,
            {
                "tenant": tenant.pk,
                "today": today,
                "time_zone": time_zone_name(),
                "warehouse": warehouse_id(cursor, warehouse),
            },
        )
    found = {(row["kind"], row["bucket"]): row for row in rows}

    def buckets(kind: str, names: tuple[str, ...]) -> list[AgingBucket]:
        zero = {"quantity": Decimal("0.000"), "value": Decimal("0.00")}
        return [
            AgingBucket(
                bucket=name,
                quantity=found.get((kind, name), zero)["quantity"],
                value=rounded(found.get((kind, name), zero)["value"], 2),
            )
            for name in names
        ]

    return Aging(by_age=buckets("age", AGE_BUCKETS), by_expiry=buckets("expiry", EXPIRY_BUCKETS))

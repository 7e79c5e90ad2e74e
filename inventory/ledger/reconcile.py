"""Prove that every balance equals the sum of its ledger entries.

Reads every tenant's rows at once, so it runs on the ``maintenance``
connection, the one role with ``BYPASSRLS``: the explicit cross-tenant path.
It only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connections

# on_hand is the sum of every kind but RESERVE/RELEASE; reserved of those two
# (inventory.models.RESERVATION_KINDS).
_DIFFERENCES = """
WITH ledger AS (
    SELECT tenant_id, lot_id, location_id,
           coalesce(sum(quantity) FILTER (WHERE kind NOT IN ('RESERVE', 'RELEASE')), 0) AS on_hand,
           coalesce(sum(quantity) FILTER (WHERE kind IN ('RESERVE', 'RELEASE')), 0) AS reserved
      FROM inventory_ledgerentry
     GROUP BY tenant_id, lot_id, location_id
)
SELECT coalesce(l.tenant_id, b.tenant_id) AS tenant_id,
       t.slug,
       coalesce(l.lot_id, b.lot_id) AS lot_id,
       lot.code,
       coalesce(l.location_id, b.location_id) AS location_id,
       loc.code,
       coalesce(l.on_hand, 0), coalesce(b.on_hand, 0),
       coalesce(l.reserved, 0), coalesce(b.reserved, 0)
  FROM ledger l
  FULL JOIN inventory_balance b
    ON b.tenant_id = l.tenant_id AND b.lot_id = l.lot_id AND b.location_id = l.location_id
  JOIN warehouse_tenant t ON t.id = coalesce(l.tenant_id, b.tenant_id)
  JOIN inventory_lot lot ON lot.id = coalesce(l.lot_id, b.lot_id)
  JOIN warehouse_location loc ON loc.id = coalesce(l.location_id, b.location_id)
 WHERE coalesce(l.on_hand, 0) <> coalesce(b.on_hand, 0)
    OR coalesce(l.reserved, 0) <> coalesce(b.reserved, 0)
 ORDER BY 2, 4, 6
"""


@dataclass(frozen=True)
class BalanceDifference:
    tenant_id: int
    tenant_slug: str
    lot_id: int
    lot_code: str
    location_id: int
    location_code: str
    ledger_on_hand: Decimal
    balance_on_hand: Decimal
    ledger_reserved: Decimal
    balance_reserved: Decimal

    def __str__(self):
        return (
            f"{self.tenant_slug}: lot {self.lot_code} (#{self.lot_id}) at "
            f"{self.location_code} (#{self.location_id}): "
            f"on hand {self.balance_on_hand} in balance, {self.ledger_on_hand} in ledger; "
            f"reserved {self.balance_reserved} in balance, {self.ledger_reserved} in ledger"
        )


def balance_differences(using: str = "maintenance") -> tuple[list[BalanceDifference], int]:
    """Every (lot, location) whose balance differs from its ledger, and how many were checked."""
    with connections[using].cursor() as cursor:
        cursor.execute(_DIFFERENCES)
        differences = [BalanceDifference(*row) for row in cursor.fetchall()]
        cursor.execute("SELECT count(*) FROM inventory_balance")
        checked = cursor.fetchone()[0]
    return differences, checked

"""The write path of stock: ledger entries and the balances they change, together.

``post_entries`` is the only code that inserts ledger entries or changes a
balance. It runs inside the calling service's transaction, so the entries
and the balance changes commit or vanish together. Quantities change by one
statement per balance row (an upsert for additions, a conditional ``UPDATE``
for removals), never by reading a number into Python and writing it back.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from inventory.errors import InsufficientStock
from inventory.models import RESERVATION_KINDS, LedgerEntry, LedgerKind, Lot, Operation
from warehouse.models import Location, Tenant

_ADD = """
    INSERT INTO inventory_balance AS balance
        (tenant_id, lot_id, location_id, product_id, warehouse_id, on_hand, reserved, updated_at)
    VALUES (%s, %s, %s, %s, %s, %s, 0, now())
    ON CONFLICT (tenant_id, lot_id, location_id) DO UPDATE
       SET on_hand = balance.on_hand + EXCLUDED.on_hand,
           updated_at = EXCLUDED.updated_at
"""

# Refuses (matches no row) when the change would leave less on hand than is
# reserved, or reserve more than is on hand: the CHECKs would refuse it too,
# but an unmatched row is an answer a service can turn into INSUFFICIENT_STOCK.
_CHANGE = """
    UPDATE inventory_balance
       SET on_hand = on_hand + %(on_hand)s,
           reserved = reserved + %(reserved)s,
           updated_at = now()
     WHERE tenant_id = %(tenant)s AND lot_id = %(lot)s AND location_id = %(location)s
       AND on_hand + %(on_hand)s >= reserved + %(reserved)s
       AND reserved + %(reserved)s >= 0
"""


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, an API token, or neither (a system job)."""

    user_id: int | None = None
    api_token_id: int | None = None

    def __post_init__(self):
        if self.user_id is not None and self.api_token_id is not None:
            raise ValueError("an actor is a user or an API token, not both")

    @classmethod
    def user(cls, user) -> Actor:
        return cls(user_id=user.pk)

    @classmethod
    def token(cls, token) -> Actor:
        return cls(api_token_id=token.pk)


SYSTEM = Actor()


@dataclass(frozen=True)
class Posting:
    """One ledger entry to be: a signed quantity of a lot at a location."""

    kind: LedgerKind
    lot: Lot
    location: Location
    quantity: Decimal
    reason: str = ""


def _apply(tenant: Tenant, posting: Posting) -> None:
    reserves = posting.kind in RESERVATION_KINDS
    on_hand = Decimal(0) if reserves else posting.quantity
    reserved = posting.quantity if reserves else Decimal(0)
    with connection.cursor() as cursor:
        if reserved == 0 and on_hand > 0:
            cursor.execute(
                _ADD,
                [
                    tenant.pk,
                    posting.lot.pk,
                    posting.location.pk,
                    posting.lot.product_id,
                    posting.location.warehouse_id,
                    on_hand,
                ],
            )
            return
        cursor.execute(
            _CHANGE,
            {
                "on_hand": on_hand,
                "reserved": reserved,
                "tenant": tenant.pk,
                "lot": posting.lot.pk,
                "location": posting.location.pk,
            },
        )
        if cursor.rowcount == 0:
            raise InsufficientStock(
                f"Not enough stock of lot {posting.lot.code} at {posting.location.code} "
                f"to take {abs(posting.quantity)}."
            )


def post_entries(
    *,
    tenant: Tenant,
    operation: Operation,
    actor: Actor,
    postings: Sequence[Posting],
    occurred_at: datetime.datetime,
) -> list[LedgerEntry]:
    """Apply ``postings`` to the balances and append them to the ledger.

    Raises ``InsufficientStock`` (and changes nothing, once the caller's
    transaction rolls back) when a removal finds too little stock.
    """
    for posting in postings:
        _apply(tenant, posting)
    return LedgerEntry.objects.bulk_create(
        LedgerEntry(
            tenant=tenant,
            occurred_at=occurred_at,
            kind=posting.kind,
            product_id=posting.lot.product_id,
            warehouse_id=posting.location.warehouse_id,
            location=posting.location,
            lot=posting.lot,
            quantity=posting.quantity,
            reason=posting.reason,
            operation=operation,
            actor_user_id=actor.user_id,
            api_token_id=actor.api_token_id,
        )
        for posting in postings
    )

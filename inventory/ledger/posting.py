"""The write path of stock: ledger entries and the balances they change, together.

``post_entries`` is the only code that inserts ledger entries or changes a
balance. It runs inside the calling service's transaction, so the entries
and the balance changes commit or vanish together. Quantities change by one
statement per batch (an upsert for additions, a conditional ``UPDATE`` for
the rest), never by reading a number into Python and writing it back.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from psycopg.errors import SerializationFailure

from inventory.core.errors import InsufficientStock
from inventory.core.locks import LOCK_CHANGED_BALANCES
from inventory.models import RESERVATION_KINDS, LedgerEntry, LedgerKind, Lot, Operation
from warehouse.models import Location, Tenant

# Additions to on hand: one multi-row upsert (a receipt may create the row).
_ADD = """
    INSERT INTO inventory_balance AS balance
        (tenant_id, lot_id, location_id, product_id, warehouse_id, on_hand, reserved, updated_at)
    VALUES {rows}
    ON CONFLICT (tenant_id, lot_id, location_id) DO UPDATE
       SET on_hand = balance.on_hand + EXCLUDED.on_hand,
           updated_at = EXCLUDED.updated_at
"""
_ADD_ROW = "(%s, %s, %s, %s, %s, %s, 0, now())"

# Every other change: one multi-row conditional UPDATE. Rows are locked first
# in the global order of ``inventory.core.locks``. A row is refused (not returned)
# when the change would leave less on hand than is reserved, or reserve more
# than is on hand: the CHECKs would refuse it too, but an unmatched row is an
# answer a service can turn into INSUFFICIENT_STOCK. A row gaining reserved
# stock is also refused unless its lot is approved in this statement's own
# snapshot: an allocation that chose the lot, then waited for the row lock
# while a QC reversal took the lot out of stock, read the lot's status before
# the reversal committed; this statement starts after it and sees it.
_CHANGE = """
    WITH changes (lot_id, location_id, on_hand, reserved) AS (VALUES {rows}),
    locked AS MATERIALIZED ({lock})
    UPDATE inventory_balance AS balance
       SET on_hand = balance.on_hand + locked.on_hand,
           reserved = balance.reserved + locked.reserved,
           updated_at = now()
      FROM locked
     WHERE balance.id = locked.id
       AND balance.on_hand + locked.on_hand >= balance.reserved + locked.reserved
       AND balance.reserved + locked.reserved >= 0
       AND (locked.reserved <= 0 OR EXISTS (
            SELECT 1 FROM inventory_lot AS lot
             WHERE lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
               AND lot.qc_status = 'APPROVED'))
    RETURNING balance.lot_id, balance.location_id
"""
_CHANGE_ROW = "(%s::bigint, %s::bigint, %s::numeric, %s::numeric)"


def _refuse_unapproved_holds(cursor, lot_ids: list[int]) -> None:
    """Raise a retryable conflict when a lot being reserved left approved stock meanwhile.

    The allocation chose the lot from a snapshot taken before a QC reversal
    committed; retrying the whole transaction allocates again from what is
    approved now (``inventory.core.transactions.run_in_transaction`` retries 40001).
    """
    cursor.execute(
        "SELECT 1 FROM inventory_lot WHERE id = ANY(%s) AND qc_status <> 'APPROVED' LIMIT 1",
        [lot_ids],
    )
    if cursor.fetchone():
        raise OperationalError(
            "a lot left approved stock while it was being allocated"
        ) from SerializationFailure("lot QC status changed during allocation")


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


def _apply(tenant: Tenant, postings: Sequence[Posting], using: str) -> None:
    """Change the balances of ``postings``: one statement for additions, one for the rest."""
    deltas: dict[tuple[int, int], list] = {}
    for posting in postings:
        key = (posting.lot.pk, posting.location.pk)
        delta = deltas.setdefault(key, [posting, Decimal(0), Decimal(0)])
        if posting.kind in RESERVATION_KINDS:
            delta[2] += posting.quantity
        else:
            delta[1] += posting.quantity
    ordered = sorted(deltas.items(), key=lambda item: (item[0][1], item[0][0]))
    additions = [(key, d) for key, d in ordered if d[2] == 0 and d[1] > 0]
    changes = [(key, d) for key, d in ordered if not (d[2] == 0 and d[1] >= 0)]
    with connections[using].cursor() as cursor:
        if additions:
            params = []
            for (lot_id, location_id), (posting, on_hand, _) in additions:
                params += [
                    tenant.pk,
                    lot_id,
                    location_id,
                    posting.lot.product_id,
                    posting.location.warehouse_id,
                    on_hand,
                ]
            rows = ", ".join([_ADD_ROW] * len(additions))
            cursor.execute(_ADD.format(rows=rows), params)
        if changes:
            params = []
            for (lot_id, location_id), (_, on_hand, reserved) in changes:
                params += [lot_id, location_id, on_hand, reserved]
            params.append(tenant.pk)
            rows = ", ".join([_CHANGE_ROW] * len(changes))
            cursor.execute(_CHANGE.format(rows=rows, lock=LOCK_CHANGED_BALANCES), params)
            changed = set(cursor.fetchall())
            refused = [(key, delta) for key, delta in changes if key not in changed]
            if any(reserved > 0 for _, (_, _, reserved) in refused):
                _refuse_unapproved_holds(cursor, [key[0] for key, _ in refused])
            if refused:
                posting = refused[0][1][0]
                raise InsufficientStock(
                    f"Not enough stock of lot {posting.lot.code} at "
                    f"{posting.location.code} to take {abs(posting.quantity)}."
                )


def post_entries(
    *,
    tenant: Tenant,
    operation: Operation,
    actor: Actor,
    postings: Sequence[Posting],
    occurred_at: datetime.datetime,
    using: str = DEFAULT_DB_ALIAS,
) -> list[LedgerEntry]:
    """Apply ``postings`` to the balances and append them to the ledger.

    Postings of one (lot, location) are summed into one change, so a batch of
    any size costs at most three statements: an upsert for additions, one
    conditional ``UPDATE`` for the rest (locking its rows in the order of
    ``inventory.core.locks``) and one multi-row ledger insert. Raises
    ``InsufficientStock`` (and changes nothing, once the caller's transaction
    rolls back) when a removal or reservation finds too little stock.
    ``using`` is ``maintenance`` only for the cross-tenant expiry sweep.
    """
    if not postings:
        return []
    _apply(tenant, postings, using)
    return LedgerEntry.objects.using(using).bulk_create(
        LedgerEntry(
            occurred_at=occurred_at,
            kind=posting.kind,
            product_id=posting.lot.product_id,
            warehouse_id=posting.location.warehouse_id,
            quantity=posting.quantity,
            reason=posting.reason,
            actor_user_id=actor.user_id,
            api_token_id=actor.api_token_id,
            **_relations(tenant, operation, posting, using),
        )
        for posting in postings
    )


def _relations(tenant: Tenant, operation: Operation, posting: Posting, using: str) -> dict:
    """The entry's references: objects (cached on it) on the default connection, else ids.

    Objects read on another connection may not be assigned to an entry the
    router places on the default one.
    """
    if using == DEFAULT_DB_ALIAS:
        return {
            "tenant": tenant,
            "operation": operation,
            "location": posting.location,
            "lot": posting.lot,
        }
    return {
        "tenant_id": tenant.pk,
        "operation_id": operation.pk,
        "location_id": posting.location.pk,
        "lot_id": posting.lot.pk,
    }

"""The write path of stock: ledger entries and the balances they change, together.

``post_entries`` is how Python code inserts ledger entries and changes
balances; the database functions of migration 0017 (reservations) post
through ``inventory_post``, and both change balances by one rule,
``inventory_change_balances``. It runs inside the calling service's
transaction, so the entries and the balance changes commit or vanish
together. Quantities change by one statement per batch (an upsert for
additions, the conditional ``UPDATE`` of ``inventory_change_balances`` for the
rest), never by reading a number into Python and writing it back.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from inventory.core.functions import domain_error
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

# Every other change: ``inventory_change_balances`` (migration 0017), the rule
# the database functions use too. The postings go over as JSON.
_CHANGE = """
    SELECT inventory_change_balances(%s, ARRAY(
        SELECT jsonb_populate_record(NULL::inventory_posting, posting)
          FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS item(posting, position)
         ORDER BY item.position))
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
            changing = {key for key, _ in changes}
            rows = [
                {
                    "kind": posting.kind,
                    "lot_id": posting.lot.pk,
                    "location_id": posting.location.pk,
                    "product_id": posting.lot.product_id,
                    "warehouse_id": posting.location.warehouse_id,
                    "quantity": str(posting.quantity),
                    "reason": posting.reason,
                }
                for posting in postings
                if (posting.lot.pk, posting.location.pk) in changing
            ]
            try:
                cursor.execute(_CHANGE, [tenant.pk, json.dumps(rows)])
            except DatabaseError as error:
                refusal = domain_error(error)
                if refusal is None:
                    raise
                raise refusal from None


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
    ``inventory_change_balances`` for the rest (locking its rows in the order of
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

"""Expiry: releasing what reservations hold once they are over, and the sweep of overdue ones.

A reservation's stock is released exactly once: only by the transaction
whose conditional transition took it out of ``OPEN`` (a cancel, the sweep
here, or an allocation that found it overdue).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from inventory.core import locks
from inventory.core.errors import Contention
from inventory.core.idempotency import GENERATED_KEY_PREFIX, request_fingerprint
from inventory.core.transactions import run_in_transaction
from inventory.ledger.posting import SYSTEM, Actor, Posting, post_entries
from inventory.models import Allocation, LedgerKind, Operation
from warehouse.models import Tenant

SWEEP_BATCH = 200


def release_allocations(
    *,
    tenant_id: int,
    reservation_ids: Sequence[int],
    operation: Operation,
    actor: Actor,
    occurred_at: datetime.datetime,
    reason: str,
    using: str = DEFAULT_DB_ALIAS,
) -> int:
    """Post ``RELEASE`` entries for every allocation of reservations just taken out of OPEN.

    Only call with ids whose conditional transition out of ``OPEN`` this
    transaction made: that transition is what makes the release happen once.
    """
    if not reservation_ids:
        return 0
    allocations = list(
        Allocation.objects.using(using)
        .filter(tenant_id=tenant_id, reservation_id__in=list(reservation_ids))
        .select_related("lot", "location")
    )
    post_entries(
        tenant=Tenant(pk=tenant_id),
        operation=operation,
        actor=actor,
        postings=[
            Posting(LedgerKind.RELEASE, a.lot, a.location, -a.quantity, reason) for a in allocations
        ],
        occurred_at=occurred_at,
        using=using,
    )
    return len(allocations)


def expire_reservations(
    *, using: str = "maintenance", now: datetime.datetime | None = None, batch: int = SWEEP_BATCH
) -> int:
    """Expire and release every open reservation past its expiry, in every tenant.

    The explicit cross-tenant path: runs on the ``maintenance`` connection
    (``BYPASSRLS``), one retried, time-limited transaction per batch. A batch
    reads overdue ``OPEN`` reservations, locks the balances they hold, moves
    those still ``OPEN`` to ``EXPIRED`` with one conditional update and posts
    ``RELEASE`` entries for exactly the rows that update returned, under one
    generated operation per tenant. A reservation is therefore released once,
    whether this sweep, another sweep or an allocation gets to it first.
    Returns how many reservations it expired; stops early (the next run goes
    on) when contention outlasts the retries. Inside a caller's transaction it
    runs as part of it, without retries.
    """

    def sweep_batch(moment: datetime.datetime) -> tuple[int, int]:
        with connections[using].cursor() as cursor:
            cursor.execute(locks.DUE_RESERVATIONS, {"now": moment, "limit": batch})
            due = [row[0] for row in cursor.fetchall()]
            if not due:
                return 0, 0
            cursor.execute(locks.LOCK_BALANCES_OF_RESERVATIONS, {"ids": due})
            cursor.execute(locks.EXPIRE_RESERVATIONS, {"ids": due, "now": moment})
            rows = cursor.fetchall()
        by_tenant: dict[int, list[int]] = {}
        for reservation_id, tenant_id in rows:
            by_tenant.setdefault(tenant_id, []).append(reservation_id)
        for tenant_id, reservation_ids in sorted(by_tenant.items()):
            operation = Operation.objects.using(using).create(
                tenant_id=tenant_id,
                key=f"{GENERATED_KEY_PREFIX}{uuid.uuid4()}",
                kind="expiry",
                fingerprint=request_fingerprint("expiry", sorted(reservation_ids)),
            )
            release_allocations(
                tenant_id=tenant_id,
                reservation_ids=reservation_ids,
                operation=operation,
                actor=SYSTEM,
                occurred_at=moment,
                reason="Reservation expired",
                using=using,
            )
        return len(due), len(rows)

    total = 0
    while True:
        moment = now or timezone.now()
        try:
            if connections[using].in_atomic_block:
                # Inside a caller's transaction (a test, a hand-run shell): part of it.
                with transaction.atomic(using=using):
                    seen, expired = sweep_batch(moment)
            else:
                seen, expired = run_in_transaction(
                    lambda moment=moment: sweep_batch(moment), using=using
                )
        except Contention:
            return total
        total += expired
        if seen < batch:
            return total

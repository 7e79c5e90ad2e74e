"""Reserving stock: a demand's lines allocated to lots and bins, FEFO (``reserve_stock``).

A reservation holds stock of approved, unexpired lots for a demand: its
allocations name the exact lot, location and quantity, and ``RESERVE``
entries raise ``reserved`` on those balances in the same transaction. It ends
once, by a conditional transition of its ``OPEN`` row: ``ISSUED`` (``SHIP``
and ``RELEASE`` entries), ``CANCELLED`` or ``EXPIRED`` (``RELEASE`` entries).

Concurrency (see ``inventory.core.locks`` for every lock and its order):

* lines are allocated in product id order, so two multi-line reservations
  meet their common products in the same order;
* a line first takes free candidate rows with ``FOR UPDATE SKIP LOCKED`` in
  FEFO order, after a savepoint; when that comes up short it rolls back to
  the savepoint (giving back the rows it took out of order), waits for every
  candidate row (plain ``FOR UPDATE`` in the global lock order, bounded by
  ``lock_timeout``), then expires and releases the product's overdue holds
  in the warehouse, takes stock in FEFO order, and only then answers
  ``INSUFFICIENT_STOCK``;
* when the snapshot shows no more free stock than the first pass took (sold
  out), the wait is first made with shared locks (``FOR SHARE``): it still
  waits for every transaction changing those rows, but not for other
  requests checking them, and the answer is ``INSUFFICIENT_STOCK`` unless it
  finds stock or overdue holds, which send the line on to the
  ``FOR UPDATE`` wait;
* a refused reservation writes nothing, not even its operation row;
* the balances change in one multi-row conditional ``UPDATE`` and the
  ledger in one multi-row insert (``inventory.ledger.posting.post_entries``).

Callers that own their transaction (API, commands) wrap ``reserve_stock`` in
``inventory.core.transactions.run_in_transaction`` so deadlocks and lock
timeouts are retried around the whole transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from inventory.core import locks
from inventory.core.errors import (
    DomainError,
    InsufficientStock,
    NoQcApprovedLot,
    ValidationFailed,
    WarehouseNotFound,
)
from inventory.core.idempotency import new_operation
from inventory.core.validation import clean_text, owned
from inventory.ledger.posting import SYSTEM, Actor, Posting, post_entries
from inventory.models import (
    Allocation,
    Balance,
    LedgerKind,
    Lot,
    Operation,
    Product,
    QcStatus,
    Reservation,
    ReservationLine,
)
from inventory.reservations.expiry import release_allocations
from inventory.reservations.requests import (
    MAX_REFERENCE_LENGTH,
    MAX_TTL_SECONDS,
    LineRequest,
    ReservationResult,
    parse_lines,
)
from warehouse.models import Location, Tenant, Warehouse
from warehouse.tenancy import tenant_context

# Candidate rows one skip-locked query takes at most; most lines need one.
CANDIDATE_BATCH = 8


@dataclass
class _Candidate:
    balance_id: int
    lot: Lot
    location: Location
    free: Decimal
    fefo: tuple


def _ttl(ttl_seconds: Any) -> int | None:
    if ttl_seconds is None:
        return None
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int):
        raise ValidationFailed("ttl_seconds must be a whole number of seconds.")
    if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise ValidationFailed(f"ttl_seconds must be between 1 and {MAX_TTL_SECONDS}.")
    return ttl_seconds


def _candidate(params: dict, row: Sequence) -> _Candidate:
    (
        balance_id,
        lot_id,
        location_id,
        free,
        lot_code,
        product_id,
        location_code,
        warehouse_id,
        expires_on,
        received_at,
    ) = row
    return _Candidate(
        balance_id=balance_id,
        lot=Lot(id=lot_id, tenant_id=params["tenant"], product_id=product_id, code=lot_code),
        location=Location(
            id=location_id,
            tenant_id=params["tenant"],
            warehouse_id=warehouse_id,
            code=location_code,
        ),
        free=free,
        fefo=(expires_on is None, expires_on or datetime.date.min, received_at, balance_id),
    )


def _candidates(sql: str, params: dict) -> list[_Candidate]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [_candidate(params, row) for row in rows]


@dataclass(frozen=True)
class _Shared:
    """What pass 3 found once no writer held the rows: how many, their free stock, overdue holds."""

    rows: int
    free: Decimal
    overdue: bool


def _shared(rows: list) -> _Shared:
    return _Shared(
        rows=len(rows),
        free=sum((row[0] for row in rows), Decimal(0)),
        overdue=any(row[1] for row in rows),
    )


def _first_pass(params: dict) -> tuple[list[_Candidate], Decimal, _Shared | None]:
    """Pass 1 (and pass 3 when the snapshot shows nothing free): see ``inventory.core.locks``.

    Returns the rows taken in FEFO order, the snapshot's free stock in all
    candidates, and pass 3's finding when it ran.
    """
    with connection.cursor() as cursor:
        cursor.execute(locks.SKIP_LOCKED_CANDIDATES, params)
        rows = cursor.fetchall()
    picked = [row[1:11] for row in rows if row[0] == "picked" and row[1] is not None]
    pool_free = next(row[11] for row in rows if row[0] == "picked")
    shared = [(row[4], row[12]) for row in rows if row[0] == "shared"]
    return (
        _fefo([_candidate(params, row) for row in picked]),
        pool_free,
        _shared(shared) if pool_free == 0 else None,
    )


def _shared_candidates(params: dict) -> _Shared:
    """Pass 3 on its own."""
    with connection.cursor() as cursor:
        cursor.execute(locks.SHARED_CANDIDATES, params)
        return _shared(cursor.fetchall())


def _rollback_to(savepoint: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")


def _fefo(candidates: list[_Candidate]) -> list[_Candidate]:
    """Candidates in the order stock is taken: expiry (none last), receipt, balance id."""
    return sorted(candidates, key=lambda candidate: candidate.fefo)


def _free(candidates: list[_Candidate]) -> Decimal:
    return sum((candidate.free for candidate in candidates), Decimal(0))


def _held(taken: list[tuple[_Candidate, Decimal]]) -> Decimal:
    return sum((amount for _, amount in taken), Decimal(0))


def _take(candidates: list[_Candidate], quantity: Decimal) -> list[tuple[_Candidate, Decimal]]:
    taken = []
    remaining = quantity
    for candidate in candidates:
        if remaining <= 0:
            break
        if candidate.free <= 0:
            continue
        amount = min(candidate.free, remaining)
        taken.append((candidate, amount))
        remaining -= amount
    return taken


def _expire_holds(
    *,
    tenant: Tenant,
    warehouse: Warehouse,
    product: Product,
    operation: Callable[[], Operation],
    actor: Actor,
    now: datetime.datetime,
) -> list[int]:
    """Expire and release the overdue reservations holding ``product`` in ``warehouse``.

    ``operation()`` gives the operation the releases belong to; it is only
    called when there is something to release.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            locks.EXPIRE_HOLDS_OF_PRODUCT,
            {"tenant": tenant.pk, "warehouse": warehouse.pk, "product": product.pk, "now": now},
        )
        expired = [row[0] for row in cursor.fetchall()]
    if not expired:
        return []
    release_allocations(
        tenant_id=tenant.pk,
        reservation_ids=expired,
        operation=operation(),
        actor=actor,
        occurred_at=now,
        reason="Reservation expired",
    )
    return expired


def _shortage(
    product: Product, warehouse: Warehouse, today: datetime.date, *, usable: bool = False
) -> DomainError:
    """``NoQcApprovedLot`` when the product is on hand only in unapproved lots.

    ``usable``: the caller already saw approved stock on hand, so the answer is
    ``InsufficientStock`` without looking.
    """
    if usable:
        return InsufficientStock(f"Not enough {product.sku} available in {warehouse.code}.")
    approved = Q(lot__qc_status=QcStatus.APPROVED) & (
        Q(lot__expires_on__isnull=True) | Q(lot__expires_on__gte=today)
    )
    totals = Balance.objects.filter(product=product, warehouse=warehouse).aggregate(
        usable=Sum("on_hand", filter=approved),
        unapproved=Sum("on_hand", filter=~Q(lot__qc_status=QcStatus.APPROVED)),
    )
    if not totals["usable"] and totals["unapproved"]:
        return NoQcApprovedLot(
            f"{product.sku} is on hand in {warehouse.code}, but none of it in an approved lot."
        )
    return _shortage(product, warehouse, today, usable=True)


def reserve_stock(
    *,
    tenant: Tenant,
    warehouse: Warehouse,
    lines: Sequence[LineRequest],
    actor: Actor = SYSTEM,
    ttl_seconds: int | None = None,
    reference: str = "",
    allow_partial: bool = False,
    operation: Operation | None = None,
    today: datetime.date | None = None,
) -> ReservationResult:
    """Hold stock of approved, unexpired lots for ``lines`` in ``warehouse``.

    Writes the reservation (``OPEN``, ``expires_at`` = now + ``ttl_seconds``
    when given), its lines and allocations, and one ``RESERVE`` entry per
    allocation, raising ``reserved`` on those balances. Lines are allocated
    in product id order; per line, candidate balance rows are locked in FEFO
    order with ``SKIP LOCKED``; when that is short, every candidate row is
    waited for (in the global lock order; with shared locks when nothing is
    free, see ``inventory.core.locks``) and overdue holds of the product in the
    warehouse are expired and released before counting again. All lines in
    full, or nothing, unless ``allow_partial``: then each line holds what is
    available (``allocated`` may be less than ``quantity``) and only a
    reservation that could hold nothing at all is refused.

    Raises ``InsufficientStock``, ``NoQcApprovedLot`` (on hand, but no
    approved lot), ``InvalidQuantity``, ``ValidationFailed``,
    ``ProductNotFound``, ``WarehouseNotFound``; lock waits end in a lock
    timeout the caller's ``run_in_transaction`` retries.
    """
    owned(warehouse, tenant, WarehouseNotFound, Warehouse)
    requested = parse_lines(tenant, lines)
    ttl = _ttl(ttl_seconds)
    reference = clean_text(
        reference, what="reference", max_length=MAX_REFERENCE_LENGTH, required=False
    )
    if not isinstance(allow_partial, bool):
        raise ValidationFailed("allow_partial must be true or false.")
    now = timezone.now()
    today = today or timezone.localdate(now)
    with tenant_context(tenant.pk):
        if operation is not None:
            owned(operation, tenant, ValidationFailed, Operation)

        def own_operation() -> Operation:
            # Written when the first change is, so a refused request writes nothing.
            nonlocal operation
            if operation is None:
                operation = new_operation(tenant=tenant, kind="reservation")
            return operation

        plan: list[tuple[Product, Decimal, list[tuple[_Candidate, Decimal]]]] = []
        for product, quantity in requested:
            params = {
                "tenant": tenant.pk,
                "product": product.pk,
                "warehouse": warehouse.pk,
                "today": today,
                "limit": CANDIDATE_BATCH,
                "taken": [],
                "now": now,
            }
            candidates: list[_Candidate] = []
            # The first pass's locks can be given back if it comes up short:
            # waiting while holding rows taken out of order could close a cycle.
            savepoint = f"allocation_{product.pk}"
            with connection.cursor() as cursor:
                cursor.execute(f"SAVEPOINT {savepoint}")
            while True:
                batch, pool_free, shared = _first_pass(params)
                candidates += batch
                if _free(candidates) >= quantity:
                    break
                if len(batch) < CANDIDATE_BATCH:
                    break
                params["taken"] = [c.balance_id for c in candidates]
            taken = _take(candidates, quantity)
            short = _held(taken) < quantity
            if short and shared is None and pool_free <= _free(candidates):
                # Pass 1 took what the snapshot shows free, and it is not enough.
                _rollback_to(savepoint)
                shared = _shared_candidates(params)
            # Sold out as far as the snapshot showed, pass 3 waited for whoever
            # was changing the rows. Pass 2 follows only when it found stock to
            # take or overdue holds to release.
            if (
                short
                and shared is not None
                and not shared.overdue
                and shared.free < quantity
                and not (allow_partial and shared.free > 0)
            ):
                if not allow_partial:
                    raise _shortage(product, warehouse, today, usable=shared.rows > 0)
                if shared.rows:
                    _rollback_to(savepoint)  # let go of the shared locks
                plan.append((product, quantity, []))
                continue
            if short:
                _rollback_to(savepoint)
                # Stock to wait for. The operation is written first, so the
                # rows are held for as few statements as possible.
                own_operation()
                # Every candidate row in the global order; when they are still
                # short, free what overdue holds keep on them and count again.
                candidates = _candidates(locks.WAITING_CANDIDATES, params)
                taken = _take(_fefo(candidates), quantity)
                if _held(taken) < quantity and _expire_holds(
                    tenant=tenant,
                    warehouse=warehouse,
                    product=product,
                    operation=own_operation,
                    actor=actor,
                    now=now,
                ):
                    # The rows are ours now: reading them again costs no wait.
                    candidates = _candidates(locks.WAITING_CANDIDATES, params)
                    taken = _take(_fefo(candidates), quantity)
                if not allow_partial and _held(taken) < quantity:
                    raise _shortage(product, warehouse, today)
            plan.append((product, quantity, taken))

        if not any(taken for _, _, taken in plan):
            raise _shortage(plan[0][0], warehouse, today)
        own_operation()

        reservation = Reservation.objects.create(
            tenant=tenant,
            warehouse=warehouse,
            reference=reference,
            allow_partial=allow_partial,
            expires_at=None if ttl is None else now + datetime.timedelta(seconds=ttl),
            created_at=now,
            operation=operation,
        )
        reservation_lines = ReservationLine.objects.bulk_create(
            ReservationLine(
                tenant=tenant,
                reservation=reservation,
                product=product,
                quantity=quantity,
                allocated=_held(taken),
            )
            for product, quantity, taken in plan
        )
        allocations = Allocation.objects.bulk_create(
            Allocation(
                tenant=tenant,
                reservation=reservation,
                line=line,
                lot=candidate.lot,
                location=candidate.location,
                quantity=amount,
            )
            for line, (_, _, taken) in zip(reservation_lines, plan, strict=True)
            for candidate, amount in taken
        )
        post_entries(
            tenant=tenant,
            operation=operation,
            actor=actor,
            postings=[
                Posting(LedgerKind.RESERVE, a.lot, a.location, a.quantity, reference)
                for a in allocations
            ],
            occurred_at=now,
        )
        for line, (product, _, _) in zip(reservation_lines, plan, strict=True):
            line.product = product
        reservation.warehouse = warehouse
        return ReservationResult(
            reservation=reservation, lines=reservation_lines, allocations=allocations
        )

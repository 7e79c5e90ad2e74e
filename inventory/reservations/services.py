"""Reservations, their expiry, and orders allocated into them.

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

Callers that own their transaction (API, commands) wrap these services in
``inventory.core.transactions.run_in_transaction`` so deadlocks and lock timeouts
are retried around the whole transaction.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from inventory.core import locks
from inventory.core.errors import (
    Contention,
    DomainError,
    DuplicateOrderReference,
    InsufficientStock,
    LotNotApproved,
    NoQcApprovedLot,
    OrderNotFound,
    ProductNotFound,
    ReservationAlreadyIssued,
    ReservationCancelled,
    ReservationExpired,
    ReservationNotFound,
    ValidationFailed,
    WarehouseNotFound,
)
from inventory.core.idempotency import GENERATED_KEY_PREFIX, new_operation, request_fingerprint
from inventory.core.quantities import parse_quantity
from inventory.core.transactions import run_in_transaction
from inventory.ledger.posting import SYSTEM, Actor, Posting, post_entries
from inventory.models import (
    Allocation,
    Balance,
    LedgerKind,
    Lot,
    Operation,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    QcStatus,
    Reservation,
    ReservationLine,
    ReservationStatus,
)
from warehouse.models import Location, Tenant, Warehouse
from warehouse.tenancy import tenant_context

__all__ = [
    "IssuedLot",
    "LineRequest",
    "ReservationResult",
    "allocate_order",
    "cancel_reservation",
    "create_order",
    "expire_reservations",
    "issue_reservation",
    "reserve_stock",
]

MAX_TTL_SECONDS = 30 * 24 * 60 * 60
MAX_LINES = 500
MAX_REFERENCE_LENGTH = 200
MAX_ORDER_REFERENCE_LENGTH = 100
# Candidate rows one skip-locked query takes at most; most lines need one.
CANDIDATE_BATCH = 8
SWEEP_BATCH = 200


# -- requests and results -------------------------------------------------------------


@dataclass(frozen=True)
class LineRequest:
    """One line of a reservation or order: a product and how much of it."""

    product: Product
    quantity: Any  # parsed and validated by the service


@dataclass(frozen=True)
class IssuedLot:
    lot: Lot
    location: Location
    quantity: Decimal


@dataclass
class ReservationResult:
    """A reservation with its lines and allocations, as a service returns it."""

    reservation: Reservation
    lines: list[ReservationLine]
    allocations: list[Allocation]
    created: bool = True
    lots_issued: list[IssuedLot] = field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        return all(line.allocated == line.quantity for line in self.lines)


@dataclass
class _Candidate:
    balance_id: int
    lot: Lot
    location: Location
    free: Decimal
    fefo: tuple


# -- helpers ----------------------------------------------------------------------------


def _own(obj, tenant: Tenant, error: type[DomainError], model: type):
    if not isinstance(obj, model) or obj.pk is None or obj.tenant_id != tenant.pk:
        raise error()
    return obj


def _reference(
    value: Any,
    *,
    what: str = "reference",
    required: bool = False,
    max_length: int = MAX_REFERENCE_LENGTH,
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(f"The {what} must be text.")
    value = value.strip()
    if required and not value:
        raise ValidationFailed(f"The {what} is required.")
    if len(value) > max_length:
        raise ValidationFailed(f"The {what} may be at most {max_length} characters.")
    if any(ord(character) < 32 for character in value):
        raise ValidationFailed(f"The {what} may not contain control characters.")
    return value


def _parse_lines(tenant: Tenant, lines: Sequence[LineRequest]) -> list[tuple[Product, Decimal]]:
    """Validated lines in product id order: the order every allocation locks in."""
    if not lines:
        raise ValidationFailed("At least one line is needed.")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"At most {MAX_LINES} lines.")
    parsed: dict[int, tuple[Product, Decimal]] = {}
    for line in lines:
        product = _own(line.product, tenant, ProductNotFound, Product)
        if product.pk in parsed:
            raise ValidationFailed(f"Product {product.sku} appears on two lines.")
        parsed[product.pk] = (
            product,
            parse_quantity(line.quantity, places=product.quantity_places),
        )
    return [parsed[key] for key in sorted(parsed)]


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


def _release(
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
    _release(
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


def _load(reservation: Reservation, *, created: bool = True) -> ReservationResult:
    lines = list(ReservationLine.objects.filter(reservation=reservation).select_related("product"))
    allocations = list(
        Allocation.objects.filter(reservation=reservation)
        .select_related("lot", "location")
        .order_by("line_id", "id")
    )
    return ReservationResult(
        reservation=reservation, lines=lines, allocations=allocations, created=created
    )


# -- services -----------------------------------------------------------------------------


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
    _own(warehouse, tenant, WarehouseNotFound, Warehouse)
    requested = _parse_lines(tenant, lines)
    ttl = _ttl(ttl_seconds)
    reference = _reference(reference)
    if not isinstance(allow_partial, bool):
        raise ValidationFailed("allow_partial must be true or false.")
    now = timezone.now()
    today = today or timezone.localdate(now)
    with tenant_context(tenant.pk):
        if operation is not None:
            _own(operation, tenant, ValidationFailed, Operation)

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


def get_reservation(*, tenant: Tenant, reservation_id: int) -> ReservationResult:
    """A reservation with its lines and allocations; ``ReservationNotFound`` otherwise."""
    with tenant_context(tenant.pk):
        reservation = (
            Reservation.objects.select_related("warehouse").filter(pk=reservation_id).first()
        )
        if reservation is None:
            raise ReservationNotFound(f"No reservation {reservation_id}.")
        return _load(reservation)


def _locked_open(reservation_id: int, now: datetime.datetime) -> Reservation:
    reservation = locks.lock_reservation(reservation_id)
    if reservation is None:
        raise ReservationNotFound(f"No reservation {reservation_id}.")
    if reservation.status == ReservationStatus.ISSUED:
        raise ReservationAlreadyIssued(f"Reservation {reservation_id} has already been issued.")
    if reservation.status == ReservationStatus.CANCELLED:
        raise ReservationCancelled(f"Reservation {reservation_id} has been cancelled.")
    if reservation.status == ReservationStatus.EXPIRED:
        raise ReservationExpired(f"Reservation {reservation_id} has expired.")
    return reservation


def issue_reservation(
    *,
    tenant: Tenant,
    reservation_id: int,
    actor: Actor = SYSTEM,
    operation: Operation | None = None,
    today: datetime.date | None = None,
) -> ReservationResult:
    """Ship what an open reservation holds: ``SHIP`` and ``RELEASE`` entries per allocation.

    Locks the reservation row, then the allocated balance rows (one
    conditional update). The reservation becomes ``ISSUED``; the result's
    ``lots_issued`` lists lot, location and quantity. Raises
    ``ReservationNotFound``, ``ReservationAlreadyIssued``,
    ``ReservationCancelled``, ``ReservationExpired`` (also when past its
    expiry but not yet swept), ``LotNotApproved`` (a held lot has expired
    since), ``InsufficientStock`` (the stock was lost meanwhile).
    """
    now = timezone.now()
    today = today or timezone.localdate(now)
    with tenant_context(tenant.pk):
        reservation = _locked_open(reservation_id, now)
        if reservation.is_expired_at(now):
            raise ReservationExpired(f"Reservation {reservation_id} has expired.")
        operation = (
            new_operation(tenant=tenant, kind="issue")
            if operation is None
            else _own(operation, tenant, ValidationFailed, Operation)
        )
        result = _load(reservation, created=False)
        for allocation in result.allocations:
            if not allocation.lot.is_available_on(today):
                raise LotNotApproved(
                    f"Lot {allocation.lot.code} is no longer approved or has expired."
                )
        reason = reservation.reference or f"Reservation {reservation.pk}"
        postings = []
        for allocation in result.allocations:
            postings.append(
                Posting(
                    LedgerKind.SHIP,
                    allocation.lot,
                    allocation.location,
                    -allocation.quantity,
                    reason,
                )
            )
            postings.append(
                Posting(
                    LedgerKind.RELEASE,
                    allocation.lot,
                    allocation.location,
                    -allocation.quantity,
                    reason,
                )
            )
        post_entries(
            tenant=tenant, operation=operation, actor=actor, postings=postings, occurred_at=now
        )
        Reservation.objects.filter(pk=reservation.pk, status=ReservationStatus.OPEN).update(
            status=ReservationStatus.ISSUED, issued_at=now
        )
        reservation.status = ReservationStatus.ISSUED
        reservation.issued_at = now
        result.lots_issued = [
            IssuedLot(lot=a.lot, location=a.location, quantity=a.quantity)
            for a in result.allocations
        ]
        return result


def cancel_reservation(
    *,
    tenant: Tenant,
    reservation_id: int,
    actor: Actor = SYSTEM,
    operation: Operation | None = None,
) -> ReservationResult:
    """Give up an open reservation: ``RELEASE`` entries for everything it holds.

    Locks the reservation row, then the allocated balance rows. The
    reservation becomes ``CANCELLED`` (also when past its expiry but not yet
    swept: it is released once either way). Raises ``ReservationNotFound``,
    ``ReservationAlreadyIssued``, ``ReservationCancelled``, ``ReservationExpired``.
    """
    now = timezone.now()
    with tenant_context(tenant.pk):
        reservation = _locked_open(reservation_id, now)
        operation = (
            new_operation(tenant=tenant, kind="cancellation")
            if operation is None
            else _own(operation, tenant, ValidationFailed, Operation)
        )
        Reservation.objects.filter(pk=reservation.pk, status=ReservationStatus.OPEN).update(
            status=ReservationStatus.CANCELLED, cancelled_at=now
        )
        _release(
            tenant_id=tenant.pk,
            reservation_ids=[reservation.pk],
            operation=operation,
            actor=actor,
            occurred_at=now,
            reason="Reservation cancelled",
        )
        reservation.status = ReservationStatus.CANCELLED
        reservation.cancelled_at = now
        return _load(reservation, created=False)


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
            _release(
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


# -- orders ----------------------------------------------------------------------------------


def create_order(
    *,
    tenant: Tenant,
    warehouse: Warehouse,
    reference: str,
    customer: str,
    lines: Sequence[LineRequest],
) -> Order:
    """Record an order and its lines (inserts only; the unique reference is its only lock).

    Raises ``DuplicateOrderReference``, ``ValidationFailed``, ``InvalidQuantity``,
    ``ProductNotFound``, ``WarehouseNotFound``.
    """
    _own(warehouse, tenant, WarehouseNotFound, Warehouse)
    reference = _reference(reference, required=True, max_length=MAX_ORDER_REFERENCE_LENGTH)
    customer = _reference(customer, what="customer", required=True)
    requested = _parse_lines(tenant, lines)
    with tenant_context(tenant.pk):
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    tenant=tenant, warehouse=warehouse, reference=reference, customer=customer
                )
        except IntegrityError as error:
            constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
            if constraint == "order_tenant_reference_key":
                raise DuplicateOrderReference(
                    f"An order with reference {reference!r} already exists."
                ) from None
            raise
        OrderLine.objects.bulk_create(
            OrderLine(tenant=tenant, order=order, product=product, quantity=quantity)
            for product, quantity in requested
        )
        order.warehouse = warehouse
        return order


def get_order(*, tenant: Tenant, order_id: int) -> Order:
    with tenant_context(tenant.pk):
        order = Order.objects.select_related("warehouse").filter(pk=order_id).first()
        if order is None:
            raise OrderNotFound(f"No order {order_id}.")
        return order


def allocate_order(
    *,
    tenant: Tenant,
    order_id: int,
    actor: Actor = SYSTEM,
    allow_partial: bool = False,
    operation: Operation | None = None,
    today: datetime.date | None = None,
) -> ReservationResult:
    """Reserve an order's lines; allocating an allocated order returns its reservation.

    Takes a transaction-level advisory lock on the order first
    (``inventory.core.locks.lock_order_allocation``), so two workers allocating one
    order queue and the second finds the first's reservation (``created`` is
    False then). An order whose reservation was cancelled or expired is
    allocated anew. Otherwise as ``reserve_stock`` (no expiry); raises
    ``OrderNotFound`` and whatever ``reserve_stock`` raises.
    """
    with tenant_context(tenant.pk):
        locks.lock_order_allocation(order_id)
        order = Order.objects.select_related("warehouse").filter(pk=order_id).first()
        if order is None:
            raise OrderNotFound(f"No order {order_id}.")
        if order.reservation_id is not None:
            current = Reservation.objects.select_related("warehouse").get(pk=order.reservation_id)
            if current.status in (ReservationStatus.OPEN, ReservationStatus.ISSUED):
                return _load(current, created=False)
        lines = [
            LineRequest(product=line.product, quantity=line.quantity)
            for line in OrderLine.objects.filter(order=order).select_related("product")
        ]
        result = reserve_stock(
            tenant=tenant,
            warehouse=order.warehouse,
            lines=lines,
            actor=actor,
            reference=order.reference,
            allow_partial=allow_partial,
            operation=operation,
            today=today,
        )
        Order.objects.filter(pk=order.pk).update(
            reservation=result.reservation,
            status=OrderStatus.ALLOCATED,
            allocated_at=result.reservation.created_at,
        )
        return result

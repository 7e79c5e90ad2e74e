"""Reservations, their expiry, and orders allocated into them.

A reservation holds stock of approved, unexpired lots for a demand: its
allocations name the exact lot, location and quantity, and ``RESERVE``
entries raise ``reserved`` on those balances in the same transaction. It ends
once, by a conditional transition of its ``OPEN`` row: ``ISSUED`` (``SHIP``
and ``RELEASE`` entries), ``CANCELLED`` or ``EXPIRED`` (``RELEASE`` entries).

Concurrency (see ``inventory.locks`` for every lock and its order):

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
  ledger in one multi-row insert (``inventory.ledger.post_entries``).

Callers that own their transaction (API, commands) wrap these services in
``inventory.transactions.run_in_transaction`` so deadlocks and lock timeouts
are retried around the whole transaction.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone

from inventory import allocation, locks
from inventory.errors import (
    Contention,
    DomainError,
    DuplicateOrderReference,
    LotNotApproved,
    OrderNotFound,
    ProductNotFound,
    ReservationAlreadyIssued,
    ReservationCancelled,
    ReservationExpired,
    ReservationNotFound,
    ValidationFailed,
    WarehouseNotFound,
)
from inventory.idempotency import GENERATED_KEY_PREFIX, new_operation, request_fingerprint
from inventory.ledger import SYSTEM, Actor, Posting, post_entries
from inventory.models import (
    Allocation,
    LedgerKind,
    Lot,
    Operation,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Reservation,
    ReservationLine,
    ReservationStatus,
)
from inventory.quantities import parse_quantity
from inventory.transactions import run_in_transaction
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
    free, see ``inventory.locks``) and overdue holds of the product in the
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
    expires_at = None if ttl is None else now + datetime.timedelta(seconds=ttl)
    with tenant_context(tenant.pk):
        if operation is not None:
            _own(operation, tenant, ValidationFailed, Operation)
        written = allocation.allocate(
            tenant_id=tenant.pk,
            warehouse_id=warehouse.pk,
            lines=[(product.pk, quantity) for product, quantity in requested],
            reference=reference,
            allow_partial=allow_partial,
            expires_at=expires_at,
            now=now,
            today=today,
            operation_id=None if operation is None else operation.pk,
            actor=actor,
        )
    reservation = _existing(
        Reservation(
            pk=written["id"],
            tenant=tenant,
            warehouse=warehouse,
            reference=reference,
            status=ReservationStatus.OPEN,
            allow_partial=allow_partial,
            expires_at=expires_at,
            created_at=now,
            operation_id=written["operation_id"],
        )
    )
    products = {product.pk: product for product, _ in requested}
    lines_written, allocations = [], []
    for line in written["lines"]:
        line_row = _existing(
            ReservationLine(
                pk=line["id"],
                tenant=tenant,
                reservation=reservation,
                product=products[line["product_id"]],
                quantity=Decimal(line["quantity"]),
                allocated=Decimal(line["allocated"]),
            )
        )
        lines_written.append(line_row)
        for held in line["allocations"]:
            allocations.append(
                _existing(
                    Allocation(
                        pk=held["id"],
                        tenant=tenant,
                        reservation=reservation,
                        line=line_row,
                        lot=_existing(
                            Lot(
                                pk=held["lot_id"],
                                tenant=tenant,
                                product_id=line["product_id"],
                                code=held["lot_code"],
                            )
                        ),
                        location=_existing(
                            Location(
                                pk=held["location_id"],
                                tenant=tenant,
                                warehouse=warehouse,
                                code=held["location_code"],
                            )
                        ),
                        quantity=Decimal(held["quantity"]),
                    )
                )
            )
    return ReservationResult(reservation=reservation, lines=lines_written, allocations=allocations)


def _existing[M](instance: M) -> M:
    """``instance`` marked as a row the database holds (it was written by a function)."""
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


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
    (``inventory.locks.lock_order_allocation``), so two workers allocating one
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

"""Reserving stock: a demand's lines allocated to lots and bins, FEFO, in the database.

A reservation holds stock of approved, unexpired lots for a demand: its
allocations name the exact lot, location and quantity, and ``RESERVE``
entries raise ``reserved`` on those balances in the same transaction. It ends
once, by a conditional transition of its ``OPEN`` row: ``ISSUED`` (``SHIP``
and ``RELEASE`` entries), ``CANCELLED`` or ``EXPIRED`` (``RELEASE`` entries).

The allocation runs in PostgreSQL, one PL/pgSQL call (``inventory_allocate``,
migration ``0017``, ``SECURITY INVOKER`` so every statement is under the
tenant policies); this module validates, calls, and turns the answer into
model instances. Concurrency (see ``inventory.core.locks`` for every lock and
its order):

* lines are allocated in product id order, so two multi-line reservations
  meet their common products in the same order;
* a line first takes free candidate rows with ``FOR UPDATE SKIP LOCKED`` in
  FEFO order, in a subtransaction; when that comes up short the
  subtransaction is rolled back (giving back the rows it took out of order),
  then every candidate row is waited for (plain ``FOR UPDATE`` in the global
  lock order, bounded by ``lock_timeout``), the product's overdue holds in the
  warehouse are expired and released, stock is taken in FEFO order, and only
  then is the answer ``INSUFFICIENT_STOCK``;
* when the snapshot shows no more free stock than the first pass took (sold
  out), the wait is first made with shared locks (``FOR SHARE``): it still
  waits for every transaction changing those rows, but not for other
  requests checking them, and the answer is ``INSUFFICIENT_STOCK`` unless it
  finds stock or overdue holds, which send the line on to the
  ``FOR UPDATE`` wait;
* a refused reservation writes nothing, not even its operation row;
* the balances change in one conditional ``UPDATE`` (``inventory_post``).

``reserve_stock`` runs in the caller's transaction (wrap it in
``inventory.core.transactions.run_in_transaction``). ``api_reserve`` is
``POST /api/v1/reservations`` whole, key included, in one statement of its
own (autocommit, ``inventory_api_reserve``): PostgreSQL makes it one
transaction, so a refusal or a failure leaves nothing behind, and a deadlock,
serialization failure or lock timeout is retried by calling again
(``run_statement``).

Refusals come back as domain errors (``inventory.core.functions``).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from psycopg.types.json import Jsonb

from inventory.core.errors import ValidationFailed, WarehouseNotFound
from inventory.core.functions import call_function
from inventory.core.idempotency import IdempotentResult, request_fingerprint
from inventory.core.validation import clean_text, owned
from inventory.core.writes import write_by_function
from inventory.ledger.posting import SYSTEM, Actor
from inventory.models import (
    UOM_DECIMAL_PLACES,
    Allocation,
    Lot,
    Operation,
    Reservation,
    ReservationLine,
    ReservationStatus,
)
from inventory.reservations.requests import (
    MAX_REFERENCE_LENGTH,
    MAX_TTL_SECONDS,
    LineRequest,
    ReservationResult,
    parse_lines,
)
from warehouse.models import Location, Tenant, Warehouse
from warehouse.tenancy import tenant_context

_ALLOCATE = "SELECT inventory_allocate(%s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _ttl(ttl_seconds: Any) -> int | None:
    if ttl_seconds is None:
        return None
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int):
        raise ValidationFailed("ttl_seconds must be a whole number of seconds.")
    if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise ValidationFailed(f"ttl_seconds must be between 1 and {MAX_TTL_SECONDS}.")
    return ttl_seconds


def _existing[M](instance: M) -> M:
    """``instance`` marked as a row the database holds (a function wrote it)."""
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


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
    free, see the module) and overdue holds of the product in the
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
    expires_at = None if ttl is None else now + datetime.timedelta(seconds=ttl)
    with tenant_context(tenant.pk):
        if operation is not None:
            owned(operation, tenant, ValidationFailed, Operation)
        written = allocate(
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


def allocate(
    *,
    tenant_id: int,
    warehouse_id: int,
    lines: Sequence[tuple[int, Decimal]],
    reference: str,
    allow_partial: bool,
    expires_at: datetime.datetime | None,
    now: datetime.datetime,
    today: datetime.date,
    operation_id: int | None,
    actor: Actor,
) -> dict:
    """Allocate ``lines`` (product id, quantity; in product id order) and write the reservation.

    Runs inside the caller's transaction, in its tenant context. Without an
    ``operation_id`` the call writes a generated operation of kind
    ``reservation`` once it writes anything. Returns ``{"id", "operation_id",
    "created_at", "expires_at", "lines": [{"id", "product_id", "quantity",
    "allocated", "allocations": [{"id", "lot_id", "lot_code", "location_id",
    "location_code", "quantity"}]}]}`` with quantities as decimal strings.
    """
    # reserve_stock's tenant context is its savepoint already.
    return call_function(
        _ALLOCATE,
        [
            tenant_id,
            warehouse_id,
            json.dumps([{"product_id": pk, "quantity": str(quantity)} for pk, quantity in lines]),
            reference,
            allow_partial,
            expires_at,
            now,
            today,
            operation_id,
            "reservation",
            request_fingerprint("reservation", None),
            actor.user_id,
            actor.api_token_id,
        ],
        savepoint=False,
    )


def api_reserve(
    *, tenant_id: int, token_id: int, key: str | None, kind: str, payload: dict, request: dict
) -> IdempotentResult:
    """``POST /api/v1/reservations`` in one retried statement; the answer, fresh or replayed.

    ``payload`` is what the key's fingerprint covers (as ``write_endpoint``
    fingerprints it); ``request`` the validated body with lookup keys (see
    ``inventory_api_reserve``). Raises the domain errors it refuses with, and
    ``Contention`` when contention outlasts the retries.
    """
    return write_by_function(
        "inventory_api_reserve",
        tenant_id=tenant_id,
        token_id=token_id,
        key=key,
        kind=kind,
        payload=payload,
        arguments=[Jsonb(request), Jsonb(UOM_DECIMAL_PLACES), settings.TIME_ZONE],
    )

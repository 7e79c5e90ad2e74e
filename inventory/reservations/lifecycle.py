"""The end of an open reservation: issued (shipped) or cancelled.

Each locks the reservation row first (``inventory.core.locks``), then the
balances it holds, and moves it out of ``OPEN`` with one conditional update,
so it ends once whoever else tries.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from inventory.core import locks, transactions
from inventory.core.errors import (
    ReservationAlreadyIssued,
    ReservationCancelled,
    ReservationExpired,
    ReservationNotFound,
    ValidationFailed,
)
from inventory.core.functions import call_function
from inventory.core.idempotency import (
    IdempotentResult,
    key_retention,
    operation_for,
    request_fingerprint,
)
from inventory.core.validation import owned
from inventory.ledger.posting import SYSTEM, Actor
from inventory.models import Operation, Reservation, ReservationStatus
from inventory.reservations.expiry import release_allocations
from inventory.reservations.requests import IssuedLot, ReservationResult
from inventory.reservations.selectors import load_reservation
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context

_ISSUE = "SELECT inventory_issue(%s, %s, %s, %s, %s, %s, %s, %s, %s)"
_API_ISSUE = "SELECT inventory_api_issue(%s, %s, %s, %s, %s, %s, %s, %s, %s)"


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

    One call of ``inventory_issue`` (migration ``0017``): it locks the
    reservation row, then the allocated balance rows (one conditional
    update), and the reservation becomes ``ISSUED``; the result's
    ``lots_issued`` lists lot, location and quantity. Raises
    ``ReservationNotFound``, ``ReservationAlreadyIssued``,
    ``ReservationCancelled``, ``ReservationExpired`` (also when past its
    expiry but not yet swept), ``LotNotApproved`` (a held lot has expired
    since), ``InsufficientStock`` (the stock was lost meanwhile).
    """
    now = timezone.now()
    today = today or timezone.localdate(now)
    with tenant_context(tenant.pk):
        if operation is not None:
            owned(operation, tenant, ValidationFailed, Operation)
        # The tenant context is the call's savepoint.
        call_function(
            _ISSUE,
            [
                tenant.pk,
                reservation_id,
                None if operation is None else operation.pk,
                "issue",
                request_fingerprint("issue", None),
                actor.user_id,
                actor.api_token_id,
                now,
                today,
            ],
            savepoint=False,
        )
        reservation = Reservation.objects.select_related("warehouse").get(pk=reservation_id)
        result = load_reservation(reservation, created=False)
    result.lots_issued = [
        IssuedLot(lot=a.lot, location=a.location, quantity=a.quantity) for a in result.allocations
    ]
    return result


def api_issue(*, tenant_id: int, token_id: int, key: str | None, reservation_id: int):
    """``POST /api/v1/reservations/{id}/issue`` in one retried statement (``inventory_api_issue``).

    Its answer, fresh or replayed, is ``IssueOut``'s shape; the key's
    fingerprint covers the reservation id, as ``write_endpoint`` fingerprints it.
    """
    kind = "api.reservation_issue"
    params = [
        tenant_id,
        token_id,
        transactions.LOCK_TIMEOUT,
        key,
        kind,
        request_fingerprint(kind, {"reservation_id": reservation_id}),
        key_retention(),
        reservation_id,
        settings.TIME_ZONE,
    ]
    answer = transactions.run_statement(lambda: call_function(_API_ISSUE, params))
    return IdempotentResult(
        status=answer["status"],
        body=answer["body"],
        replayed=answer["replayed"],
        operation_id=answer["operation_id"],
    )


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
        operation = operation_for(operation, tenant=tenant, kind="cancellation")
        Reservation.objects.filter(pk=reservation.pk, status=ReservationStatus.OPEN).update(
            status=ReservationStatus.CANCELLED, cancelled_at=now
        )
        release_allocations(
            tenant_id=tenant.pk,
            reservation_ids=[reservation.pk],
            operation=operation,
            actor=actor,
            occurred_at=now,
            reason="Reservation cancelled",
        )
        reservation.status = ReservationStatus.CANCELLED
        reservation.cancelled_at = now
        return load_reservation(reservation, created=False)

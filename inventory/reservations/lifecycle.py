"""The end of an open reservation: issued (shipped) or cancelled.

Each locks the reservation row first (``inventory.core.locks``), then the
balances it holds, and moves it out of ``OPEN`` with one conditional update,
so it ends once whoever else tries.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from inventory.core import locks
from inventory.core.errors import (
    LotNotApproved,
    ReservationAlreadyIssued,
    ReservationCancelled,
    ReservationExpired,
    ReservationNotFound,
)
from inventory.core.idempotency import operation_for
from inventory.ledger.posting import SYSTEM, Actor, Posting, post_entries
from inventory.models import LedgerKind, Operation, Reservation, ReservationStatus
from inventory.reservations.expiry import release_allocations
from inventory.reservations.requests import IssuedLot, ReservationResult
from inventory.reservations.selectors import load_reservation
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context


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
        operation = operation_for(operation, tenant=tenant, kind="issue")
        result = load_reservation(reservation, created=False)
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

"""The end of an open reservation: issued (shipped) or cancelled.

Each is one database function (``inventory_issue``, ``inventory_cancel``,
migration ``0017``): it locks the reservation row first (the order in
``inventory.core.locks``), then the balances it holds, and moves it out of
``OPEN`` with one conditional update, so it ends once whoever else tries. The
API calls them whole, key and answer included (``api_issue``, ``api_cancel``).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from inventory.core.errors import ValidationFailed
from inventory.core.functions import call_function
from inventory.core.idempotency import request_fingerprint
from inventory.core.validation import owned
from inventory.core.writes import write_by_function
from inventory.ledger.posting import SYSTEM, Actor
from inventory.models import Operation, Reservation
from inventory.reservations.requests import IssuedLot, ReservationResult
from inventory.reservations.selectors import load_reservation
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context


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
    result = _end(
        "inventory_issue",
        "issue",
        tenant=tenant,
        reservation_id=reservation_id,
        actor=actor,
        operation=operation,
        moment=[now, today or timezone.localdate(now)],
    )
    result.lots_issued = [
        IssuedLot(lot=a.lot, location=a.location, quantity=a.quantity) for a in result.allocations
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

    One call of ``inventory_cancel``: it locks the reservation row, then the
    allocated balance rows. The reservation becomes ``CANCELLED`` (also when
    past its expiry but not yet swept: it is released once either way).
    Raises ``ReservationNotFound``, ``ReservationAlreadyIssued``,
    ``ReservationCancelled``, ``ReservationExpired``.
    """
    return _end(
        "inventory_cancel",
        "cancellation",
        tenant=tenant,
        reservation_id=reservation_id,
        actor=actor,
        operation=operation,
        moment=[timezone.now()],
    )


def _end(
    function: str,
    kind: str,
    *,
    tenant: Tenant,
    reservation_id: int,
    actor: Actor,
    operation: Operation | None,
    moment: list,
) -> ReservationResult:
    """Call ``function`` on an open reservation; the reservation as it is after.

    Without ``operation`` the function writes one of ``kind`` with a
    generated key. ``moment``: the function's last arguments (now, and for
    an issue the day lots must be available on).
    """
    params = [
        tenant.pk,
        reservation_id,
        None if operation is None else operation.pk,
        kind,
        request_fingerprint(kind, None),
        actor.user_id,
        actor.api_token_id,
        *moment,
    ]
    with tenant_context(tenant.pk):
        if operation is not None:
            owned(operation, tenant, ValidationFailed, Operation)
        # The tenant context is the call's savepoint.
        placeholders = ", ".join(["%s"] * len(params))
        call_function(f"SELECT {function}({placeholders})", params, savepoint=False)
        reservation = Reservation.objects.select_related("warehouse").get(pk=reservation_id)
        return load_reservation(reservation, created=False)


def api_issue(*, tenant_id: int, token_id: int, key: str | None, reservation_id: int):
    """``POST /api/v1/reservations/{id}/issue`` in one retried statement (``inventory_api_issue``).

    Its answer, fresh or replayed, is ``IssueOut``'s shape; the key's
    fingerprint covers the reservation id, as ``write_endpoint`` fingerprints it.
    """
    return write_by_function(
        "inventory_api_issue",
        tenant_id=tenant_id,
        token_id=token_id,
        key=key,
        kind="api.reservation_issue",
        payload={"reservation_id": reservation_id},
        arguments=[reservation_id, settings.TIME_ZONE],
    )


def api_cancel(*, tenant_id: int, token_id: int, key: str | None, reservation_id: int):
    """``POST /api/v1/reservations/{id}/cancel`` in one retried statement.

    The statement is ``inventory_api_cancel``; its answer, fresh or replayed,
    is ``ReservationOut``'s shape.
    """
    return write_by_function(
        "inventory_api_cancel",
        tenant_id=tenant_id,
        token_id=token_id,
        key=key,
        kind="api.reservation_cancel",
        payload={"reservation_id": reservation_id},
        arguments=[reservation_id],
    )

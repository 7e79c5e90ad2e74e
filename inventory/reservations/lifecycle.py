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

from inventory.core import transactions
from inventory.core.errors import (
    ValidationFailed,
)
from inventory.core.functions import call_function
from inventory.core.idempotency import (
    IdempotentResult,
    key_retention,
    request_fingerprint,
)
from inventory.core.validation import owned
from inventory.ledger.posting import SYSTEM, Actor
from inventory.models import Operation, Reservation
from inventory.reservations.requests import IssuedLot, ReservationResult
from inventory.reservations.selectors import load_reservation
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context

_ISSUE = "SELECT inventory_issue(%s, %s, %s, %s, %s, %s, %s, %s, %s)"
_API_ISSUE = "SELECT inventory_api_issue(%s, %s, %s, %s, %s, %s, %s, %s, %s)"
_CANCEL = "SELECT inventory_cancel(%s, %s, %s, %s, %s, %s, %s, %s)"
_API_CANCEL = "SELECT inventory_api_cancel(%s, %s, %s, %s, %s, %s, %s, %s)"


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

    Its answer, fresh or replayed, is ``IssueOut``'s shape.
    """
    return _api_call(
        _API_ISSUE,
        "api.reservation_issue",
        tenant_id,
        token_id,
        key,
        reservation_id,
        settings.TIME_ZONE,
    )


def _api_call(
    sql: str,
    kind: str,
    tenant_id: int,
    token_id: int,
    key: str | None,
    reservation_id: int,
    *more: object,
) -> IdempotentResult:
    """One API write on a reservation, under the write policy; the key fingerprints the id."""
    params = [
        tenant_id,
        token_id,
        transactions.LOCK_TIMEOUT,
        key,
        kind,
        request_fingerprint(kind, {"reservation_id": reservation_id}),
        key_retention(),
        reservation_id,
        *more,
    ]
    answer = transactions.run_statement(lambda: call_function(sql, params))
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

    One call of ``inventory_cancel``: it locks the reservation row, then the
    allocated balance rows. The reservation becomes ``CANCELLED`` (also when
    past its expiry but not yet swept: it is released once either way).
    Raises ``ReservationNotFound``, ``ReservationAlreadyIssued``,
    ``ReservationCancelled``, ``ReservationExpired``.
    """
    now = timezone.now()
    with tenant_context(tenant.pk):
        if operation is not None:
            owned(operation, tenant, ValidationFailed, Operation)
        # The tenant context is the call's savepoint.
        call_function(
            _CANCEL,
            [
                tenant.pk,
                reservation_id,
                None if operation is None else operation.pk,
                "cancellation",
                request_fingerprint("cancellation", None),
                actor.user_id,
                actor.api_token_id,
                now,
            ],
            savepoint=False,
        )
        reservation = Reservation.objects.select_related("warehouse").get(pk=reservation_id)
        return load_reservation(reservation, created=False)


def api_cancel(*, tenant_id: int, token_id: int, key: str | None, reservation_id: int):
    """``POST /api/v1/reservations/{id}/cancel`` in one retried statement.

    The statement is ``inventory_api_cancel``; its answer, fresh or replayed,
    is ``ReservationOut``'s shape.
    """
    return _api_call(
        _API_CANCEL, "api.reservation_cancel", tenant_id, token_id, key, reservation_id
    )

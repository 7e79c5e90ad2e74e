"""The allocation in the database: calling the PL/pgSQL functions of migration ``0017``.

``allocate`` is what ``reserve_stock`` runs once it has validated its input:
one call of ``inventory_allocate`` does the three passes (see
``inventory.locks``), writes the reservation, its lines and allocations, the
``RESERVE`` entries and their balances, and returns what it wrote.
``api_reserve`` is ``POST /api/v1/reservations`` whole, key included, in one
statement of its own (autocommit): PostgreSQL runs it as one transaction, so
a refusal or a failure leaves nothing behind, and a deadlock, serialization
failure or lock timeout is retried by calling again.

Refusals come back as SQLSTATE ``SY001`` with the domain error's code as the
message and the sentence as the detail (``domain_error``).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection

from inventory import transactions
from inventory.errors import DomainError, error_class
from inventory.idempotency import IdempotentResult, key_retention, request_fingerprint
from inventory.ledger import Actor
from inventory.models import UOM_DECIMAL_PLACES

REFUSED = "SY001"

_ALLOCATE = "SELECT inventory_allocate(%s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
_API_RESERVE = "SELECT inventory_api_reserve(%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s)"
_PLACES = json.dumps(UOM_DECIMAL_PLACES)


def domain_error(error: DatabaseError) -> DomainError | None:
    """The domain error a function refused with, or None for any other database error."""
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) != REFUSED:
        return None
    diagnostic = cause.diag
    return error_class(diagnostic.message_primary)(diagnostic.message_detail or None)


def _call(sql: str, params: Sequence[Any]) -> Any:
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            # Django's backend hands jsonb over as text (JSONField decodes it itself).
            return json.loads(cursor.fetchone()[0])
    except DatabaseError as error:
        refusal = domain_error(error)
        if refusal is None:
            raise
        raise refusal from None


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
    return _call(
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
    params = [
        tenant_id,
        token_id,
        transactions.LOCK_TIMEOUT,
        key,
        kind,
        request_fingerprint(kind, payload),
        key_retention(),
        json.dumps(request),
        _PLACES,
        settings.TIME_ZONE,
    ]
    answer = transactions.run_statement(lambda: _call(_API_RESERVE, params))
    return IdempotentResult(
        status=answer["status"],
        body=answer["body"],
        replayed=answer["replayed"],
        operation_id=answer["operation_id"],
    )

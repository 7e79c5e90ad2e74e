"""Idempotency keys: an operation takes effect at most once.

``run_idempotent`` first inserts the operation row with
``INSERT ... ON CONFLICT DO NOTHING``. The unique index on ``(tenant_id, key)``
makes a concurrent request with the same key wait on that insert until the
first transaction ends:

* the first commits: the second finds the row and replays the stored response
  (or refuses a different body with ``IdempotencyKeyReused``);
* the first rolls back (its service raised a domain error): nothing of it
  remains, the second inserts the row itself and performs the operation.

Failed operations are therefore not stored: a retry after ``INSUFFICIENT_STOCK``
is tried again, which is what a client retrying later wants.

A key is kept for ``settings.IDEMPOTENCY_KEY_RETENTION_HOURS`` (24 at least).
After that the same key is a new request. The lookup does not wait for the
cleanup job: a request whose key is held by an expired operation clears that
key itself (one conditional ``UPDATE``, which a concurrent request with the
same key waits for and then finds nothing to clear) and inserts its own row.
``release_expired_keys`` (a periodic job) clears the expired keys of every
tenant. Clearing sets the key and the stored response to NULL and keeps the
operation row, which ledger entries refer to.

The fingerprint is the SHA-256 of the canonical JSON of ``(kind, payload)``:
keys sorted, no whitespace, numbers written as canonical decimals (so ``10``,
``10.0`` and ``"10"`` are one request). Callers pass the validated body.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, connections, transaction

from inventory.core.errors import Contention, IdempotencyKeyReused, ValidationFailed
from inventory.core.validation import owned
from inventory.models import Operation
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context

MAX_KEY_LENGTH = 255
GENERATED_KEY_PREFIX = "auto:"
# A client's key: printable ASCII (what any HTTP client can send in a header),
# no space at either end (proxies strip them), never the prefix of generated keys.
KEY_PATTERN = r"^(?!auto:)[!-~](?:[ -~]{0,253}[!-~])?$"
_KEY = re.compile(KEY_PATTERN, re.ASCII)
# Exponents up to this are written out in full in a fingerprint (as they always were).
CANONICAL_EXPONENT_LIMIT = 40

_INSERT = """
    INSERT INTO inventory_operation (tenant_id, key, kind, fingerprint, created_at)
    VALUES (%s, %s, %s, %s, now())
    ON CONFLICT (tenant_id, key) DO NOTHING
    RETURNING id, created_at
"""
# Clears one key if its operation is past the retention. A concurrent request
# that cleared it first holds the row lock; this waits, then finds key NULL.
_RELEASE_EXPIRED_KEY = """
    UPDATE inventory_operation
       SET key = NULL, response_status = NULL, response_body = NULL
     WHERE tenant_id = %s AND key = %s AND created_at < now() - %s
"""
# One batch of the cleanup, every tenant (run on the maintenance connection).
# Rows a request is clearing at this moment are skipped, not waited for.
_RELEASE_EXPIRED_KEYS = """
    UPDATE inventory_operation
       SET key = NULL, response_status = NULL, response_body = NULL
     WHERE id IN (
           SELECT id FROM inventory_operation
            WHERE key IS NOT NULL AND created_at < now() - %(retention)s
            ORDER BY created_at
            LIMIT %(limit)s
              FOR UPDATE SKIP LOCKED)
"""
RELEASE_BATCH = 5000
# Insert, find the key expired, clear it, insert again: two rounds suffice; a
# third covers a key cleared by the cleanup job between the insert and the read.
LOOKUP_ATTEMPTS = 3


def key_retention() -> datetime.timedelta:
    """How long a client's key answers with the stored response."""
    return datetime.timedelta(hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS)


@dataclass(frozen=True)
class IdempotentResult:
    """The response of an operation: fresh, or replayed from its first run."""

    status: int
    body: Any
    replayed: bool
    operation_id: int


def _canonical_number(number: Decimal) -> str:
    """The one spelling of a number's value: ``10``, ``10.0`` and ``1E+1`` all read "10".

    Exact, with no decimal context involved: ``normalize()`` would round past
    28 digits (two different numbers, one fingerprint) and overflow on
    ``1E+999999``; writing such an exponent out in full would cost a megabyte.
    Numbers with exponents beyond a few dozen are written in scientific form.
    """
    if not number.is_finite():
        return str(number)
    sign, digits, exponent = number.as_tuple()
    text = "".join(map(str, digits)).lstrip("0")
    if not text:
        return "0"
    stripped = text.rstrip("0")
    exponent += len(text) - len(stripped)
    sign_text = "-" if sign else ""
    if -CANONICAL_EXPONENT_LIMIT <= exponent <= CANONICAL_EXPONENT_LIMIT:
        return sign_text + format(Decimal(f"{stripped}E{exponent}"), "f")
    return f"{sign_text}{stripped}E{exponent}"


def _canonical(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return _canonical_number(Decimal(repr(value)) if isinstance(value, float) else value)
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def request_fingerprint(kind: str, payload: Any) -> str:
    canonical = json.dumps(
        {"kind": kind, "payload": _canonical(payload)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def as_json(body: Any) -> Any:
    """The body exactly as it will be stored and replayed (Decimals become strings)."""
    return json.loads(json.dumps(body, cls=DjangoJSONEncoder))


def key_error(key: object) -> str | None:
    """Why ``key`` cannot be a client's idempotency key, or None when it can."""
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH:
        return f"The idempotency key must be 1 to {MAX_KEY_LENGTH} characters long."
    if key.startswith(GENERATED_KEY_PREFIX):
        return f"Idempotency keys may not start with {GENERATED_KEY_PREFIX!r}."
    if _KEY.fullmatch(key) is None:
        return (
            "The idempotency key must be printable ASCII characters, without a space at either end."
        )
    return None


def validate_key(key: str) -> str:
    message = key_error(key)
    if message is not None:
        raise ValidationFailed(message)
    return key


def new_operation(*, tenant: Tenant, kind: str, payload: Any = None) -> Operation:
    """An operation without a client key (a screen, a job): a generated key, no replay.

    Call inside the service's transaction (tenant context).
    """
    return Operation.objects.create(
        tenant=tenant,
        key=f"{GENERATED_KEY_PREFIX}{uuid.uuid4()}",
        kind=kind,
        fingerprint=request_fingerprint(kind, payload),
    )


def operation_for(operation: Operation | None, *, tenant: Tenant, kind: str) -> Operation:
    """The operation a service writes its ledger entries under.

    ``operation`` when the caller holds one (the idempotency record of
    ``run_idempotent``), which must be ``tenant``'s; else a new one with a
    generated key. Call inside the service's transaction (tenant context).
    """
    if operation is None:
        return new_operation(tenant=tenant, kind=kind)
    return owned(operation, tenant, ValidationFailed, Operation)


def _claim_key(
    *, tenant: Tenant, key: str, kind: str, fingerprint: str
) -> tuple[tuple | None, Operation | None]:
    """Insert the operation row for ``key``: ``(row, None)``, or ``(None, stored)`` to replay.

    A key held by an operation older than the retention is cleared first, so
    the request is new. Raises ``Contention`` if the key keeps changing hands.
    """
    with connection.cursor() as cursor:
        for _attempt in range(LOOKUP_ATTEMPTS):
            cursor.execute(_INSERT, [tenant.id, key, kind, fingerprint])
            row = cursor.fetchone()
            if row is not None:
                return row, None
            cursor.execute(_RELEASE_EXPIRED_KEY, [tenant.id, key, key_retention()])
            if cursor.rowcount:
                continue
            stored = Operation.objects.filter(tenant=tenant, key=key).first()
            if stored is not None:
                return None, stored
    raise Contention()


def release_expired_keys(*, using: str = "maintenance", batch: int = RELEASE_BATCH) -> int:
    """Clear the keys and stored responses of operations past the retention, every tenant.

    The explicit cross-tenant path: runs on the ``maintenance`` connection
    (``BYPASSRLS``), one short transaction per batch of ``batch`` rows, which
    it locks (skipping rows a request holds). The operation rows stay: ledger
    entries refer to them. Returns how many keys it cleared.
    """
    total = 0
    while True:
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(_RELEASE_EXPIRED_KEYS, {"retention": key_retention(), "limit": batch})
            released = cursor.rowcount
        total += released
        if released < batch:
            return total


def _acting_for(tenant: Tenant):
    """The tenant context for the operation: the enclosing one when it already acts for ``tenant``.

    Under the write policy the transaction already acts for the tenant; a
    savepoint would only cost two statements. ``savepoint=False`` still marks
    the whole transaction for rollback when ``perform`` fails, so a caller can
    never commit an operation row without its effect.
    """
    setting = getattr(connection, "stockyard_tenant_setting", None)
    if connection.in_atomic_block and setting is not None and setting[0] == str(tenant.id):
        return transaction.atomic(savepoint=False)
    return tenant_context(tenant.id)


def run_idempotent(
    *,
    tenant: Tenant,
    key: str | None,
    kind: str,
    payload: Any,
    perform: Callable[[Operation], tuple[int, Any]],
) -> IdempotentResult:
    """Run ``perform(operation)`` once per ``(tenant, key)``; replay its response after.

    ``perform`` receives the ``Operation`` (pass it to the service so the ledger
    entries belong to it) and returns ``(http_status, json_body)``; it runs in
    the same transaction as the operation row, so either both commit or
    neither does. With ``key=None`` there is nothing to replay: a generated
    key is used and ``perform`` always runs.

    Raises ``IdempotencyKeyReused`` when the key was used with another kind or
    payload, ``ValidationFailed`` for a malformed key, and whatever ``perform``
    raises (nothing is stored then).
    """
    fingerprint = request_fingerprint(kind, payload)
    with _acting_for(tenant):
        if key is None:
            operation = new_operation(tenant=tenant, kind=kind, payload=payload)
        else:
            validate_key(key)
            row, stored = _claim_key(tenant=tenant, key=key, kind=kind, fingerprint=fingerprint)
            if stored is not None:
                if stored.fingerprint != fingerprint or stored.kind != kind:
                    raise IdempotencyKeyReused()
                return IdempotentResult(
                    status=stored.response_status,
                    body=stored.response_body,
                    replayed=True,
                    operation_id=stored.pk,
                )
            # The row as inserted; reading it back would cost a round trip.
            operation = Operation(
                pk=row[0],
                tenant=tenant,
                key=key,
                kind=kind,
                fingerprint=fingerprint,
                created_at=row[1],
            )
            operation._state.adding = False
            operation._state.db = connection.alias
        status, body = perform(operation)
        body = as_json(body)
        Operation.objects.filter(pk=operation.pk).update(response_status=status, response_body=body)
        return IdempotentResult(status=status, body=body, replayed=False, operation_id=operation.pk)

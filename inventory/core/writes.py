"""The write policy: how every API write and screen action reaches the database.

One transaction per action, opened at the edge (``durable``): it acts for the
tenant and sets short ``lock_timeout`` and ``statement_timeout`` in its first
statement, takes the idempotency key (the operation row and its stored
response), runs the action once per attempt, and is retried whole on a
deadlock, a serialization failure or a lock timeout (``run_in_transaction``).
Everything inside joins that transaction: ``run_idempotent`` adds no
savepoint of its own. When contention outlasts the retries the action raises
``Contention`` (``503 CONTENTION``); a domain error leaves the transaction
with its message. Either way nothing of the action is written.

The API wraps its endpoints with ``inventory.api.core.write_endpoint``, or,
for the writes that are one database function call (reservations), calls
``write_by_function`` from endpoints marked ``statement_write``;
screens call ``write`` or ``write_idempotent`` from views marked
``write_screen`` (outside ``TenantMiddleware``'s transaction).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction

from inventory.core import transactions
from inventory.core.errors import DomainError
from inventory.core.functions import call_function
from inventory.core.idempotency import (
    IdempotentResult,
    key_retention,
    request_fingerprint,
    run_idempotent,
)
from inventory.core.transactions import run_in_transaction
from inventory.models import Operation
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context


def write_idempotent(
    *,
    tenant: Tenant,
    key: str | None,
    kind: str,
    payload: Any,
    perform: Callable[[Operation], tuple[int, Any]],
) -> IdempotentResult:
    """``perform(operation)`` at most once per ``(tenant, key)``, under the write policy."""
    return run_in_transaction(
        functools.partial(
            run_idempotent, tenant=tenant, key=key, kind=kind, payload=payload, perform=perform
        ),
        tenant_id=tenant.pk,
    )


def write_form(
    form,
    *,
    tenant: Tenant,
    kind: str,
    payload: Any,
    perform: Callable[[Operation], tuple[int, Any]],
    error_fields: dict[type, str],
) -> dict | None:
    """A screen form's write, once per its ``idempotency_key``: the answer, or None.

    A refusal (contention too) goes onto the form, next to the field
    ``error_fields`` names for its class (above the form otherwise), and
    nothing is written. The answer carries ``replayed`` when the key had
    already been used, so the screen can say nothing happened twice.
    """
    try:
        outcome = write_idempotent(
            tenant=tenant,
            key=form.cleaned_data["idempotency_key"],
            kind=kind,
            payload=payload,
            perform=perform,
        )
    except DomainError as error:
        form.add_error(error_fields.get(type(error)), error.message)
        return None
    return {**outcome.body, "replayed": outcome.replayed}


def write_by_function(
    call: str,
    *,
    tenant_id: int,
    token_id: int,
    key: str | None,
    kind: str,
    payload: Any,
    arguments: Sequence[Any],
) -> IdempotentResult:
    """An API write that is one database function call, under the write policy.

    ``call`` names a function of migration 0017 taking ``(tenant, token,
    lock_timeout, key, kind, fingerprint, retention, *arguments)``: it acts
    for the tenant with the short ``lock_timeout``, claims the key
    (``inventory_api_begin``) and stores its answer (``inventory_api_answer``)
    in its own transaction, the statement's, which ``run_statement`` retries
    whole. ``payload`` is what the key's fingerprint covers, as
    ``write_idempotent`` fingerprints it.
    """
    placeholders = ", ".join(["%s"] * (7 + len(arguments)))
    params = [
        tenant_id,
        token_id,
        transactions.LOCK_TIMEOUT,
        key,
        kind,
        request_fingerprint(kind, payload),
        key_retention(),
        *arguments,
    ]
    answer = transactions.run_statement(
        lambda: call_function(f"SELECT {call}({placeholders})", params)
    )
    return IdempotentResult(
        status=answer["status"],
        body=answer["body"],
        replayed=answer["replayed"],
        operation_id=answer["operation_id"],
    )


def write[T](service: Callable[..., T], /, *, tenant: Tenant, **arguments: Any) -> T:
    """``service(tenant=tenant, **arguments)`` under the write policy, without a key.

    For actions that are harmless to repeat or refuse a repeat themselves
    (a QC decision on a decided lot is ``LOT_NOT_IN_QUARANTINE``).
    """
    return run_in_transaction(
        functools.partial(service, tenant=tenant, **arguments), tenant_id=tenant.pk
    )


def write_screen(view):
    """Mark a screen that writes: ``TenantMiddleware`` opens no transaction around it.

    The view reads and renders in ``acting_for(request)`` and writes through
    ``write`` or ``write_idempotent``, so its write can open the outermost
    transaction and be retried whole. Apply it outermost (the middleware
    reads the mark from the resolved view).
    """
    return transaction.non_atomic_requests(view)


def acting_for(request):
    """A read-only moment of a ``write_screen`` view in the request's tenant context."""
    return tenant_context(request.tenant.pk, user_id=request.user.pk)

"""One whole transaction with short lock and statement timeouts, retried when PostgreSQL says so.

Callers that own their transaction (API endpoints marked
``non_atomic_requests``, commands, workers) wrap the whole unit of work,
typically a ``run_idempotent`` call or one service, in ``run_in_transaction``.
Services and ``run_idempotent`` nest inside it as savepoints, so the retry
always repeats the entire transaction, never part of one.

Deadlocks (``40P01``), serialization failures (``40001``) and lock timeouts
(``55P03``) are retried a bounded number of times with jittered back-off;
when they persist, or a statement runs out of time (``57014``), the caller
gets ``Contention`` (``503 CONTENTION`` with ``Retry-After``), a clear answer
instead of a server error; nothing of the transaction is written.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction

from inventory.errors import Contention
from warehouse.tenancy import configure_transaction

RETRYABLE = {"40P01", "40001", "55P03"}
TIMED_OUT = "57014"
LOCK_TIMEOUT = "2s"
STATEMENT_TIMEOUT = "15s"


def _sqlstate(error: OperationalError) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


def run_in_transaction[T](
    work: Callable[[], T],
    *,
    attempts: int = 5,
    lock_timeout: str | None = None,
    statement_timeout: str | None = None,
    tenant_id: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> T:
    """Run ``work()`` in a new transaction; retry it on deadlock, serialization or lock timeout.

    The timeouts default to the module's ``LOCK_TIMEOUT`` and ``STATEMENT_TIMEOUT``
    (read at each call, so a deployment or a test may change them). With
    ``tenant_id`` the transaction acts for that tenant from its first
    statement, which sets the timeouts too, and the services ``work`` calls
    for that tenant skip setting it again.
    """
    lock_timeout = lock_timeout or LOCK_TIMEOUT
    statement_timeout = statement_timeout or STATEMENT_TIMEOUT
    connection = connections[using]
    if connection.in_atomic_block:
        raise RuntimeError("run_in_transaction must open the transaction, not join one")
    settings = {"lock_timeout": lock_timeout, "statement_timeout": statement_timeout}
    acting_for = {} if tenant_id is None else {"tenant_id": tenant_id}
    for attempt in range(1, attempts + 1):
        try:
            with (
                transaction.atomic(using=using),
                configure_transaction(settings, using=using, **acting_for),
            ):
                return work()
        except OperationalError as error:
            state = _sqlstate(error)
            if state == TIMED_OUT:
                raise Contention("The operation took too long; try again.") from error
            if state not in RETRYABLE:
                raise
            if attempt == attempts:
                raise Contention() from error
            time.sleep(random.uniform(0.01, 0.05) * 2**attempt)
    raise AssertionError("unreachable")

"""One whole transaction with short lock and statement timeouts, retried when PostgreSQL says so.

This is the core of the write policy (``inventory.core.writes``): every API write
and screen action, and the commands and workers that write, run their whole
unit of work, typically a ``run_idempotent`` call or one service, in
``run_in_transaction``. It opens the outermost transaction (``durable``), so
the retry always repeats the entire transaction, never part of one.

Deadlocks (``40P01``), serialization failures (``40001``) and lock timeouts
(``55P03``) are retried a bounded number of times with jittered back-off;
when they persist, or a statement runs out of time (``57014``), the caller
gets ``Contention`` (``503 CONTENTION`` with ``Retry-After``), a clear answer
instead of a server error; nothing of the transaction is written.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator, Mapping

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction

from config.database import APP_STATEMENT_TIMEOUT
from inventory.core.errors import Contention
from warehouse.tenancy import configure_transaction, tenant_context

RETRYABLE = {"40P01", "40001", "55P03"}
TIMED_OUT = "57014"
LOCK_TIMEOUT = "2s"
STATEMENT_TIMEOUT = APP_STATEMENT_TIMEOUT


def _sqlstate(error: OperationalError) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


def _configure(settings: Mapping[str, str], acting_for: dict, using: str):
    return configure_transaction(settings, using=using, **acting_for)


def _inside_test_case(connection) -> bool:
    """Is every enclosing atomic block one a test case opened around the test?

    Django relaxes ``durable`` the same way: such a test runs the write in a
    savepoint of the test's transaction, where the retry works all the same.
    """
    return all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


@contextlib.contextmanager
def _configure_in_test_case(
    settings: Mapping[str, str], acting_for: dict, using: str
) -> Iterator[None]:
    """``configure_transaction`` for a block nested in a test case's transaction."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(settings)),
            [part for pair in settings.items() for part in pair],
        )
    if not acting_for:
        yield
        return
    with tenant_context(acting_for["tenant_id"], using=using):
        yield


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
    in_test_case = connection.in_atomic_block and _inside_test_case(connection)
    if connection.in_atomic_block and not in_test_case:
        raise RuntimeError("run_in_transaction must open the transaction, not join one")
    settings = {"lock_timeout": lock_timeout, "statement_timeout": statement_timeout}
    acting_for = {} if tenant_id is None else {"tenant_id": tenant_id}
    configure = _configure_in_test_case if in_test_case else _configure

    def attempt() -> T:
        with (
            transaction.atomic(using=using, durable=True),
            configure(settings, acting_for, using),
        ):
            return work()

    return _retried(attempt, attempts)


def _retried[T](attempt: Callable[[], T], attempts: int) -> T:
    """``attempt()`` until it succeeds, retrying what PostgreSQL says may succeed next time."""
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except OperationalError as error:
            state = _sqlstate(error)
            if state == TIMED_OUT:
                raise Contention("The operation took too long; try again.") from error
            if state not in RETRYABLE:
                raise
            if number == attempts:
                raise Contention() from error
            time.sleep(random.uniform(0.01, 0.05) * 2**number)
    raise AssertionError("unreachable")


def run_statement[T](
    work: Callable[[], T], *, attempts: int = 5, using: str = DEFAULT_DB_ALIAS
) -> T:
    """Run ``work()``, one statement that is its own transaction, retried like a transaction.

    For a unit of work that is a single call of a database function (which
    sets its own tenant context and ``lock_timeout``): outside any atomic
    block the statement runs in autocommit, so PostgreSQL makes it one
    transaction and the call costs one round trip, with no ``BEGIN`` or
    ``COMMIT``. ``statement_timeout`` is the connection's (``config.database``).
    Inside a test case's transaction each attempt gets a savepoint instead.
    """
    connection = connections[using]
    if connection.in_atomic_block and not _inside_test_case(connection):
        raise RuntimeError("run_statement must run on its own, not inside a transaction")
    if not connection.in_atomic_block:
        return _retried(work, attempts)

    def attempt() -> T:
        with transaction.atomic(using=using):
            return work()

    return _retried(attempt, attempts)

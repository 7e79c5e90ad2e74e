"""The tenant context: which tenant (and user) the current transaction acts for.

Row-level security policies read ``app.tenant_id`` (and, for a user's own
memberships, ``app.user_id``). Both are set with ``set_config(..., true)``,
which lasts until the end of the current transaction, so a pooled or
persistent connection never carries one request's tenant into the next.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from django.db import DEFAULT_DB_ALIAS, connections, transaction

_SET = (
    "SELECT current_setting('app.tenant_id', true), current_setting('app.user_id', true), "
    "set_config('app.tenant_id', %s, true), set_config('app.user_id', %s, true)"
)
_RESTORE = "SELECT set_config('app.tenant_id', %s, true), set_config('app.user_id', %s, true)"


def _as_setting(value: int | None) -> str:
    return "" if value is None else str(int(value))


@contextlib.contextmanager
def tenant_context(
    tenant_id: int | None, *, user_id: int | None = None, using: str = DEFAULT_DB_ALIAS
) -> Iterator[None]:
    """Run the block in a transaction (or savepoint) acting for ``tenant_id``.

    ``tenant_id=None`` means no tenant: tenant tables show no rows. Nested
    use restores the outer context on exit, because a released savepoint keeps
    transaction-local settings. A nested context for the tenant and user the
    enclosing one already set costs only its savepoint: the connection
    remembers (``stockyard_tenant_setting``) what this module set, and only
    this module sets ``app.tenant_id``.
    """
    connection = connections[using]
    nested = connection.in_atomic_block
    wanted = (_as_setting(tenant_id), _as_setting(user_id))
    enclosing = getattr(connection, "stockyard_tenant_setting", None) if nested else None
    with transaction.atomic(using=using):
        if enclosing == wanted:
            # An enclosing context of this transaction already acts for this
            # tenant and user: the savepoint is all a nested service needs.
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute(_SET, list(wanted))
            previous = cursor.fetchone()[:2]
        connection.stockyard_tenant_setting = wanted
        try:
            yield
        finally:
            connection.stockyard_tenant_setting = enclosing
        if nested and not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute(_RESTORE, [previous[0] or "", previous[1] or ""])


_UNCHANGED = object()


@contextlib.contextmanager
def configure_transaction(
    settings: Mapping[str, str], *, tenant_id=_UNCHANGED, using: str = DEFAULT_DB_ALIAS
) -> Iterator[None]:
    """Set transaction-local ``settings``, and with ``tenant_id`` the tenant context, at once.

    One statement sets them all (``set_config(..., true)``), so a unit of work
    that needs both pays one round trip. Call it first thing in an outermost
    atomic block; the settings last until that block ends. Every
    ``tenant_context`` for the same tenant nested in the block then costs
    only its savepoint (no user: ``app.user_id`` is empty).
    """
    connection = connections[using]
    if not connection.in_atomic_block or connection.savepoint_ids:
        raise RuntimeError("configure_transaction must open an outermost atomic block")
    values = dict(settings)
    wanted = None
    if tenant_id is not _UNCHANGED:
        wanted = (_as_setting(tenant_id), "")
        values["app.tenant_id"], values["app.user_id"] = wanted
    if values:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(values)),
                [part for pair in values.items() for part in pair],
            )
    if wanted is None:
        yield
        return
    enclosing = getattr(connection, "stockyard_tenant_setting", None)
    connection.stockyard_tenant_setting = wanted
    try:
        yield
    finally:
        connection.stockyard_tenant_setting = enclosing


def current_tenant_id(using: str = DEFAULT_DB_ALIAS) -> int | None:
    """The tenant the current transaction acts for, read back from the database."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT nullif(current_setting('app.tenant_id', true), '')::bigint")
        return cursor.fetchone()[0]

"""Calling Stockyard's PL/pgSQL functions: their JSON answer, their refusals as domain errors.

A few hot paths run as one database function (migrations ``0017`` and
``0018``): a reservation, a stock read. Those functions refuse with SQLSTATE
``SY001``, the domain error's code (``inventory.core.errors``) as the
message and the sentence for people as the detail; ``call_function`` raises
the same ``DomainError`` a Python service would have raised.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

from django.db import DatabaseError, connection, transaction

from inventory.core.errors import DomainError, error_class

REFUSED = "SY001"


def domain_error(error: DatabaseError) -> DomainError | None:
    """The domain error a database function refused with, or None for any other error."""
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) != REFUSED:
        return None
    diagnostic = cause.diag
    return error_class(diagnostic.message_primary)(diagnostic.message_detail or None)


def call_function(sql: str, params: Sequence[Any], *, savepoint: bool = True) -> Any:
    """The JSON one database function call answers; its refusal as a domain error.

    Outside a transaction the call is a statement of its own (autocommit).
    Inside one it gets a savepoint, so a refusal leaves the transaction
    usable, unless the caller says it has one already (``savepoint=False``).
    """
    isolated = savepoint and connection.in_atomic_block
    try:
        with transaction.atomic() if isolated else nullcontext(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            # Django's backend hands jsonb over as text (JSONField decodes it itself).
            return json.loads(cursor.fetchone()[0])
    except DatabaseError as error:
        refusal = domain_error(error)
        if refusal is None:
            raise
        raise refusal from None

"""What every router of API v1 shares: error answers, page sizes, and the parsing helpers.

The helpers here run before any transaction opens (``write_endpoint``'s
``payload``) or inside one; none of them writes.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from inventory.api import responses
from inventory.core.errors import DomainError
from inventory.core.quantities import to_decimal
from inventory.ledger.posting import Actor
from warehouse.validators import is_code

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_BIGINT = 2**63 - 1

# Every operation may answer these: a refused token, a malformed parameter, an
# oversized body, a database outage (503 DATABASE_UNAVAILABLE, config.middleware);
# writes also contention that outlasts their retries (503 CONTENTION).
ERRORS = {
    400: responses.ErrorOut,
    401: responses.ErrorOut,
    403: responses.ErrorOut,
    413: responses.ErrorOut,
    422: responses.ErrorOut,
    503: responses.ErrorOut,
}
WRITE_ERRORS = {**ERRORS, 404: responses.ErrorOut, 409: responses.ErrorOut}


def actor_of(request: HttpRequest) -> Actor:
    """Who the ledger says acted: the request's API token."""
    return Actor.token(request.api_token)


def fingerprinted(body, *quantity_fields: str) -> dict[str, Any]:
    """The body as fingerprinted: quantities as decimals, so ``10`` and ``"10.0"`` agree.

    Anything that is not a finite number is refused here (``INVALID_QUANTITY``),
    before any transaction starts.
    """
    payload = body.dict()
    for name in quantity_fields:
        if payload.get(name) is not None:
            payload[name] = to_decimal(payload[name], what=name.replace("_", " "))
    return payload


def could_be_code(value: str, max_length: int) -> bool:
    """Could ``value`` name a row at all? (A NUL would reach PostgreSQL as an error.)"""
    return len(value) <= max_length and is_code(value)


def valid_id(value: int, error: type[DomainError]) -> int:
    """``value`` if it could be a row id (a positive bigint); else ``error``, a not-found."""
    if not 0 < value <= MAX_BIGINT:
        raise error()
    return value

"""The ``NinjaAPI`` of v1: bearer authentication and the error envelope.

Every answer that is not a success is ``{"error": {"code", "message"}}``
with a stable code (``inventory.core.errors`` for the domain, plus
``UNAUTHENTICATED``, ``FORBIDDEN``, ``NOT_FOUND``, ``METHOD_NOT_ALLOWED``
and ``VALIDATION_ERROR`` here).

The API authenticates by bearer token only, never by session: its views are
marked ``tenant_exempt`` and non-atomic, so ``TenantMiddleware`` neither looks
up a signed-in user's tenant nor wraps the request in a transaction. Reads
open a tenant context for the token's tenant; every write is a
``write_endpoint``, under the write policy of ``inventory.core.writes``.
"""

from __future__ import annotations

import functools
import inspect
import logging
import typing
from collections.abc import Callable
from typing import Any

from django.db import DataError, IntegrityError
from django.http import Http404, HttpRequest, JsonResponse
from ninja import Header, NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import BaseModel

from inventory.api import schemas
from inventory.core.errors import DomainError
from inventory.core.idempotency import GENERATED_KEY_PREFIX, MAX_KEY_LENGTH, IdempotentResult
from inventory.core.tokens import find_api_token
from inventory.core.writes import write_idempotent
from inventory.models import ApiToken

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_SCOPE = "read"
WRITE_SCOPE = "write"


IdempotencyKey = Header(
    None,
    alias="Idempotency-Key",
    description=(
        "Optional. A retry with the same key and body returns the first answer. 1 to "
        f"{MAX_KEY_LENGTH} printable ASCII characters, not starting or ending with a space, "
        f"and not starting with {GENERATED_KEY_PREFIX!r} (reserved for keys Stockyard makes)."
    ),
)


class Forbidden(DomainError):
    """The token is valid but lacks the scope this request needs."""

    code = "FORBIDDEN"
    status = 403
    default_message = "This token may not do that."


def error_response(status: int, code: str, message: str, **headers) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


def token_allows(token: ApiToken, scope: str) -> bool:
    """A token without scopes may do everything; otherwise it needs ``scope``."""
    return not token.scopes or scope in token.scopes


class BearerToken(HttpBearer):
    """``Authorization: Bearer <secret>``; sets ``request.api_token`` and ``request.tenant``.

    A token scoped to ``read`` may only use safe methods; ``write`` is needed
    for everything else.
    """

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = find_api_token(token.strip())
        if api_token is None:
            return None
        needed = READ_SCOPE if request.method in SAFE_METHODS else WRITE_SCOPE
        if not token_allows(api_token, needed):
            raise Forbidden(f"This token lacks the {needed!r} scope.")
        request.api_token = api_token
        request.tenant = api_token.tenant
        return api_token


def _api_view(view):
    """``view`` outside ``TenantMiddleware``'s lookup and transaction: the API manages its own.

    A method the endpoint lacks is answered by ninja (405 with ``Allow``) and
    put into the JSON envelope by ``config.middleware.ApiErrorMiddleware``,
    like every other non-JSON error under ``/api/``.
    """
    view.tenant_exempt = True
    view._non_atomic_requests = {"default"}
    return view


class StockyardAPI(NinjaAPI):
    """A ``NinjaAPI`` whose every view manages its own transactions."""

    def _get_urls(self):
        patterns = super()._get_urls()
        for pattern in patterns:
            pattern.callback = _api_view(pattern.callback)
        return patterns

    def get_openapi_operation_id(self, operation) -> str:
        # The endpoint's name (unique across the routers): it stays the same
        # when an endpoint moves between modules.
        return operation.view_func.__name__


def _validation_message(errors: list[dict]) -> str:
    parts = []
    for error in errors[:10]:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload")]
        where = ".".join(location)
        message = str(error.get("msg", "invalid"))
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts) or "The request is not valid."


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        response = JsonResponse(exc.as_body(), status=exc.status)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response["Retry-After"] = str(retry_after)
        return response

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        return error_response(422, "VALIDATION_ERROR", _validation_message(exc.errors))

    @api.exception_handler(AuthenticationError)
    def authentication_error(request, exc: AuthenticationError):
        return error_response(
            401,
            "UNAUTHENTICATED",
            "A valid bearer token is required (Authorization: Bearer <token>).",
            **{"WWW-Authenticate": "Bearer"},
        )

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        if exc.status_code == 400:
            # Ninja's only 400 is a body that is not JSON at all.
            return error_response(422, "VALIDATION_ERROR", "The request body is not valid JSON.")
        return error_response(exc.status_code, "HTTP_ERROR", str(exc))

    @api.exception_handler(Http404)
    def not_found(request, exc: Http404):
        return error_response(404, "NOT_FOUND", "No such resource.")

    def refused_by_database(request, exc: Exception):
        # A backstop: schemas and services validate first, so reaching here is a bug
        # worth a log line, but never a 500 for what a client sent.
        logger.exception("The database refused an API request")
        return error_response(422, "VALIDATION_ERROR", "The database refused this request.")

    api.add_exception_handler(DataError, refused_by_database)
    api.add_exception_handler(IntegrityError, refused_by_database)


def respond(result: IdempotentResult) -> JsonResponse:
    response = JsonResponse(result.body, status=result.status, safe=False)
    if result.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _stored(answer: tuple[int, Any]) -> tuple[int, Any]:
    """An endpoint's ``(status, response schema)`` as the body the operation stores.

    Dumped as ninja dumps a read's answer, so the JSON encoder writes both alike.
    """
    status, body = answer
    if isinstance(body, BaseModel):
        body = body.model_dump()
    return status, body


def _arguments_for(function: Callable, values: dict) -> dict:
    names = inspect.signature(function).parameters
    return {name: value for name, value in values.items() if name in names}


def write_endpoint(kind: str, *, payload: Callable[..., dict]):
    """An API write under the write policy (``inventory.core.writes``), idempotent by its key.

    The endpoint is straight-line code: it takes the request, its parameters
    and a keyword-only ``operation`` (for the ledger entries it writes) and
    returns ``(status, body)``. It runs once per attempt of one retried,
    time-limited transaction that holds the operation row too; the answer
    is stored for a replay with the same ``Idempotency-Key``.

    ``payload`` receives the endpoint's parameters it names and returns what
    the key's fingerprint covers. It runs first, outside any transaction, so
    it is also where malformed input (a quantity that is no number, an id out
    of range) is refused before anything is opened.

    Ninja sees the endpoint's parameters without ``operation`` and with the
    optional ``Idempotency-Key`` header.
    """

    def decorate(endpoint):
        hints = typing.get_type_hints(endpoint, include_extras=True)
        parameters = [
            parameter.replace(annotation=hints.get(parameter.name, parameter.annotation))
            for parameter in inspect.signature(endpoint).parameters.values()
            if parameter.name != "operation"
        ]
        parameters.append(
            inspect.Parameter(
                "idempotency_key",
                inspect.Parameter.KEYWORD_ONLY,
                default=IdempotencyKey,
                annotation=schemas.IdempotencyKeyText,
            )
        )

        @functools.wraps(endpoint)
        def view(request, *, idempotency_key=None, **values):
            fingerprinted = payload(**_arguments_for(payload, values))
            return respond(
                write_idempotent(
                    tenant=request.tenant,
                    key=idempotency_key,
                    kind=kind,
                    payload=fingerprinted,
                    perform=lambda operation: _stored(
                        endpoint(request, operation=operation, **values)
                    ),
                )
            )

        view.__signature__ = inspect.Signature(parameters)
        view.write_kind = kind
        return view

    return decorate


def statement_write(kind: str):
    """Mark an endpoint whose write is one database function call (``run_statement``).

    Such an endpoint is under the write policy all the same: the function sets
    the tenant context and the short ``lock_timeout`` in its own transaction
    (the statement's), claims the ``Idempotency-Key`` of operation ``kind``
    and stores the answer, and the call is retried whole on a deadlock,
    serialization failure or lock timeout, then ``503 CONTENTION``.
    """

    def decorate(view):
        view.write_kind = kind
        return view

    return decorate

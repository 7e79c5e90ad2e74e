"""Answers that no view gives: an unreachable database, and errors under ``/api/``.

``DatabaseOutageMiddleware``: when PostgreSQL cannot be reached or drops the
connection, the answer is ``503`` with ``Retry-After`` instead of a 500, as
JSON (``DATABASE_UNAVAILABLE``) under ``/api/`` and as a friendly page
elsewhere. Lock timeouts, deadlocks and statement timeouts are not outages:
``inventory.core.transactions`` retries those and answers ``CONTENTION``. Nothing
needs a restart afterwards: Django closes the broken connection when the
request ends, and the next request connects afresh.

An outage can strike in a view (most API calls: the token lookup runs in
the view) or in a middleware before it (a screen's session and tenant
lookup). A view's exception reaches ``process_exception``; a middleware's has
already become a 500 by the time it gets here, so the ``got_request_exception``
signal marks the request and the 500 is replaced on the way out.

``ApiErrorMiddleware``: every answer under ``/api/`` is JSON. A body larger
than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused as ``413 PAYLOAD_TOO_LARGE``
before anything reads it, and any other error page (CSRF, 404, 405, 500) is
replaced by the error envelope with the same status.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader

from inventory.api.core import error_response

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
RETRY_AFTER_SECONDS = 5
# SQLSTATEs of a server that is shutting down, starting up or out of connections;
# class 08 is every connection exception.
UNAVAILABLE_STATES = {"57P01", "57P02", "57P03", "53300"}
_OUTAGE_MARK = "_stockyard_database_unavailable"

STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    500: "INTERNAL_ERROR",
}
STATUS_MESSAGES = {
    400: "The request is not valid.",
    403: "This request is not allowed.",
    404: "No such API endpoint.",
    405: "This method is not allowed here.",
    500: "Something went wrong on our side; nothing was changed.",
}


def is_api_request(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def is_database_outage(error: BaseException) -> bool:
    """Could the database not be reached, or did it drop the connection?"""
    if isinstance(error, InterfaceError):
        return True  # "the connection is closed": lost before or during the request
    if not isinstance(error, OperationalError):
        return False
    state = getattr(error.__cause__, "sqlstate", None)
    # No SQLSTATE at all: the client library failed to connect or lost the socket.
    return state is None or state.startswith("08") or state in UNAVAILABLE_STATES


def database_unavailable(request) -> HttpResponse:
    if is_api_request(request):
        response = error_response(
            503,
            "DATABASE_UNAVAILABLE",
            "The database is unavailable for a moment; nothing was changed. Try again shortly.",
        )
    else:
        # No request context: its processors would query the database that is down.
        response = HttpResponse(loader.get_template("errors/503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _mark_outage(sender, request=None, **kwargs):
    error = sys.exc_info()[1]
    if request is not None and error is not None and is_database_outage(error):
        setattr(request, _OUTAGE_MARK, True)


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(_mark_outage, dispatch_uid="stockyard-database-outage")

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _OUTAGE_MARK, False):
            return database_unavailable(request)
        return response

    def process_exception(self, request, exception):
        if is_database_outage(exception):
            logger.warning(
                "Database unavailable for %s %s: %s", request.method, request.path, exception
            )
            return database_unavailable(request)
        return None


class ApiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api_request(request):
            return self.get_response(request)
        refused = self._refuse_oversized_body(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return self._as_envelope(response)
        return response

    def process_exception(self, request, exception):
        if not is_api_request(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return self._too_large()
        if isinstance(exception, TooManyFieldsSent):
            return error_response(400, "BAD_REQUEST", "The request has too many fields.")
        return None

    @staticmethod
    def _refuse_oversized_body(request) -> JsonResponse | None:
        # The same test Django makes when the body is first read, made before anyone reads it.
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isascii() or not declared.isdigit():
            return error_response(400, "BAD_REQUEST", "The Content-Length header is not a number.")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and int(declared) > limit:
            return ApiErrorMiddleware._too_large()
        return None

    @staticmethod
    def _too_large() -> JsonResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return error_response(
            413, "PAYLOAD_TOO_LARGE", f"The request body must be at most {limit:,} bytes."
        )

    @staticmethod
    def _as_envelope(response: HttpResponse) -> JsonResponse:
        status = response.status_code
        code = STATUS_CODES.get(status, "HTTP_ERROR")
        message = STATUS_MESSAGES.get(status, response.reason_phrase or "The request failed.")
        headers = {
            name: response[name]
            for name in ("Allow", "Retry-After", "WWW-Authenticate")
            if response.has_header(name)
        }
        return error_response(status, code, message, **headers)

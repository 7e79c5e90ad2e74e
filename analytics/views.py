"""``POST /admin/refresh-mv``: refresh ``dw.current_stock_mv`` now, for a holder of the admin token.

Not part of the Django admin: no session, no CSRF (the token is the
credential, and a browser never sends it by itself), no tenant. The token is
compared in constant time; a missing, oversized or wrong token, and any
token while ``ADMIN_TOKEN`` is unset, get the same 403.
"""

import hmac

from django.conf import settings
from django.db import OperationalError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from analytics.dw import refresh_current_stock
from warehouse.middleware import tenant_exempt

# Longer than any token worth having; a longer header is refused unread.
MAX_TOKEN_LENGTH = 256
# How long an on-demand refresh waits for one already running before saying so.
REFRESH_LOCK_TIMEOUT = "10s"
LOCK_NOT_AVAILABLE = "55P03"


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _token_matches(given: str) -> bool:
    expected = settings.ADMIN_TOKEN
    if not expected or not given or len(given) > MAX_TOKEN_LENGTH:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


@csrf_exempt
@tenant_exempt
def refresh_materialized_view(request):
    if request.method != "POST":
        response = _error(405, "METHOD_NOT_ALLOWED", "Only POST refreshes the view.")
        response["Allow"] = "POST"
        return response
    if not _token_matches(request.headers.get("X-Admin-Token", "")):
        return _error(403, "FORBIDDEN", "A valid X-Admin-Token header is required.")
    try:
        refresh = refresh_current_stock(lock_timeout=REFRESH_LOCK_TIMEOUT)
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        return _error(409, "REFRESH_IN_PROGRESS", "Another refresh is running; try again later.")
    return JsonResponse(
        {
            "view": "dw.current_stock_mv",
            "refreshed_at": refresh.refreshed_at.isoformat(),
            "duration_ms": refresh.duration_ms,
        }
    )

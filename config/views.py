"""Site-wide views: health check and error pages."""

from django.db import DatabaseError, connections
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from warehouse.middleware import tenant_exempt


@tenant_exempt
@never_cache
@require_GET
def healthz(request):
    """200 when the database answers a query, 503 when it does not."""
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        connections["default"].close_if_unusable_or_obsolete()
        return JsonResponse(
            {"status": "unavailable", "database": "down", "detail": str(error).strip()[:200]},
            status=503,
        )
    return JsonResponse({"status": "ok", "database": "ok"})


def bad_request(request, exception=None):
    return render(request, "errors/400.html", status=400)


def permission_denied(request, exception=None):
    context = {
        "message": str(exception) if exception else "",
        "required_roles": getattr(exception, "role_labels", []),
    }
    return render(request, "errors/403.html", context, status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    # No context processors: the database may be the reason we are here.
    return HttpResponseServerError(loader.get_template("errors/500.html").render())

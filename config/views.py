"""Site-wide views: health check and error pages."""

import logging

from django.db import DatabaseError, connections
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from warehouse.middleware import tenant_exempt

logger = logging.getLogger(__name__)


@tenant_exempt
@never_cache
@require_GET
def healthz(request):
    """200 when the database answers a query, 503 when it does not.

    Anyone may call it (load balancers do), so the answer says only whether
    the service is up; why it is not (the database error, which names hosts
    and socket paths) goes to the server's log.
    """
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("health check: the database did not answer")
        connections["default"].close_if_unusable_or_obsolete()
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


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

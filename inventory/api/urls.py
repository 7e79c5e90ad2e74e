"""``/api/``: version 1, and a JSON 404 for every other path under it."""

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from inventory.api import api
from inventory.api.core import error_response
from warehouse.middleware import tenant_exempt


# Bearer-only like the API itself: no CSRF check (a POST would answer 403 HTML).
@csrf_exempt
@tenant_exempt
def not_found(request, rest=""):
    return error_response(404, "NOT_FOUND", "No such API endpoint.")


urlpatterns = [
    path("v1/", api.urls),
    re_path(r"^(?P<rest>.*)$", not_found),
]

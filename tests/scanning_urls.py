"""The site's URLs plus stand-ins for the pages a scan opens, for tests of the scan box.

The product, bin and lot pages belong to other areas. Where they exist, the
real ones come first and win; the stand-ins answer only where they do not.
"""

from django.http import HttpResponse
from django.urls import URLResolver, include, path

from config import urls as site_urls
from inventory import urls as inventory_urls


def stand_in(request, **kwargs):
    return HttpResponse(f"stand-in page {kwargs}")


STAND_INS = [
    path("stand-in/products/<int:product_id>/", stand_in, name="product"),
    path("stand-in/bins/<int:location_id>/", stand_in, name="bin"),
    path("stand-in/lots/<int:lot_id>/", stand_in, name="lot"),
]


def _is_inventory(pattern) -> bool:
    return isinstance(pattern, URLResolver) and pattern.namespace == "inventory"


urlpatterns = [pattern for pattern in site_urls.urlpatterns if not _is_inventory(pattern)] + [
    path("", include((inventory_urls.urlpatterns + STAND_INS, "inventory"))),
]

handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500

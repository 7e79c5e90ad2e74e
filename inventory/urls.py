from django.urls import include, path

from inventory import views

app_name = "inventory"

# Each area's screens live with the area; their URL names share this namespace.
urlpatterns = [
    path("receive/", views.receive, name="receive"),
    path("qc/", views.qc_queue, name="qc-queue"),
    path("qc/history/", views.qc_history, name="qc-history"),
    path("qc/<int:lot_id>/decide/", views.qc_decide, name="qc-decide"),
    path("qc/<int:lot_id>/reverse/", views.qc_reverse, name="qc-reverse"),
    path("stock/", views.stock, name="stock"),
    path("orders/", include("inventory.orders.urls")),
    path("", include("inventory.stock.urls")),
    path("products/", include("inventory.catalog.urls")),
    path("lots/", include("inventory.lots.urls")),
    path("counts/", include("inventory.counts.urls")),
    path("scan/", include("inventory.scanning.urls")),
]

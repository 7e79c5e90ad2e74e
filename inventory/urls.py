from django.urls import path

from inventory import views

app_name = "inventory"

urlpatterns = [
    path("receive/", views.receive, name="receive"),
    path("qc/", views.qc_queue, name="qc-queue"),
    path("qc/<int:lot_id>/decide/", views.qc_decide, name="qc-decide"),
    path("qc/<int:lot_id>/reverse/", views.qc_reverse, name="qc-reverse"),
    path("stock/", views.stock, name="stock"),
]

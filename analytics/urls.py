from django.urls import path

from analytics import views

urlpatterns = [
    path("admin/refresh-mv", views.refresh_materialized_view, name="dw-refresh"),
]

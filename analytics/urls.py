from django.urls import include, path

from analytics import views

urlpatterns = [
    path("admin/refresh-mv", views.refresh_materialized_view, name="dw-refresh"),
    path("", include("analytics.web.urls")),
]

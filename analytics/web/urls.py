"""Addresses of the analytics screens, namespaced ``analytics:``.

Each screen module lists its own routes; the dashboard is ``/reports/``.
"""

from django.urls import path

from analytics.web import dashboard, reorder_rules, reports

app_name = "analytics"

urlpatterns = [
    path("reports/", dashboard.dashboard, name="dashboard"),
    *reports.urlpatterns,
    *reorder_rules.urlpatterns,
]

"""Screens of this area (included by inventory.urls in the inventory namespace)."""

from django.urls import path

from inventory.lots import views

urlpatterns = [
    path("trace/", views.trace, name="trace"),
    path("trace/customer.csv", views.customer_trace_csv, name="customer-trace-csv"),
    path("<int:lot_id>/", views.lot, name="lot"),
    path("<int:lot_id>/trace.csv", views.lot_trace_csv, name="lot-trace-csv"),
]

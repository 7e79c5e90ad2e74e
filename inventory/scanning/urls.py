"""Screens of this area (included by inventory.urls in the inventory namespace)."""

from django.urls import path

from inventory.scanning import views

urlpatterns = [
    path("", views.scan, name="scan"),
    path("parse/", views.scan_parse, name="scan-parse"),
]

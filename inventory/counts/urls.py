"""Screens of this area (included by inventory.urls in the inventory namespace)."""

urlpatterns = []

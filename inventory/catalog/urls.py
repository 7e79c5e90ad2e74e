"""Screens of this area (included by inventory.urls in the inventory namespace)."""

from django.urls import path

from inventory.catalog import views

urlpatterns = [
    path("", views.products, name="products"),
    path("<int:product_id>/", views.product, name="product"),
]

"""Screens of this area (included by inventory.urls in the inventory namespace)."""

from django.urls import path

from inventory.stock import views

urlpatterns = [
    path("put-away/", views.put_away, name="put-away"),
    path("moves/", views.move, name="move"),
    path("bins/<int:location_id>/", views.bin_detail, name="bin"),
    path("adjustments/", views.adjustments, name="adjustments"),
]

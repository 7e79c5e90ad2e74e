"""Screens of this area (included by inventory.urls in the inventory namespace)."""

from django.urls import path

from inventory.orders import views

urlpatterns = [
    path("", views.order_list, name="orders"),
    path("new/", views.order_create, name="order-create"),
    path("<int:order_id>/", views.order_detail, name="order"),
    path("<int:order_id>/allocate/", views.order_allocate, name="order-allocate"),
    path("<int:order_id>/start-picking/", views.order_start_picking, name="order-start-picking"),
    path("<int:order_id>/ship/", views.order_ship, name="order-ship"),
    path("<int:order_id>/cancel/", views.order_cancel, name="order-cancel"),
    path("<int:order_id>/pick/", views.pick, name="pick"),
]

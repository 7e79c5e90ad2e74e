from django.urls import path

from warehouse import views

app_name = "warehouse"

urlpatterns = [
    path("tenant/switch/", views.switch_tenant, name="switch-tenant"),
    path("warehouses/", views.warehouse_list, name="list"),
    path("team/", views.team, name="team"),
]

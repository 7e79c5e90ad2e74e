from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config import views
from warehouse.forms import SignInForm
from warehouse.middleware import tenant_exempt
from warehouse.views import home

urlpatterns = [
    path("", home, name="home"),
    path(
        "login/",
        tenant_exempt(
            auth_views.LoginView.as_view(
                template_name="registration/login.html",
                authentication_form=SignInForm,
                redirect_authenticated_user=True,
            )
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("warehouse.urls")),
    path("", include("inventory.urls")),
    path("", include("analytics.urls")),  # /admin/refresh-mv, before the Django admin
    path("admin/", admin.site.urls),
    path("api/", include("inventory.api.urls")),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"

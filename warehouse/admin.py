"""Django admin for tenants, users and memberships.

Admin requests run in the current tenant's context like every other page, so
tenant-owned rows (memberships, warehouses, bins) are the current tenant's
only. Tenants themselves, being global, are for superusers.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from warehouse.models import Location, Membership, Tenant, Warehouse

User = get_user_model()

admin.site.site_header = "Stockyard administration"
admin.site.site_title = "Stockyard admin"
admin.site.index_title = "Tenants, people and sites"


class TenantScopedAdmin(admin.ModelAdmin):
    """Fills in the current tenant on new rows and hides the field."""

    exclude = ("tenant",)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.tenant = request.tenant
        super().save_model(request, obj, form, change)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(tenant=request.tenant)

    def has_module_permission(self, request):
        return request.tenant is not None and super().has_module_permission(request)


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_active", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def has_module_permission(self, request):
        return request.user.is_superuser

    has_view_permission = has_add_permission = has_change_permission = (
        lambda self, request, obj=None: request.user.is_superuser
    )
    has_delete_permission = lambda self, request, obj=None: False  # noqa: E731


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("role",)
    verbose_name_plural = "Role in the current tenant"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(tenant=request.tenant)


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    list_display = ("user", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__first_name", "user__last_name")
    autocomplete_fields = ("user",)


class LocationInline(admin.TabularInline):
    model = Location
    extra = 0
    exclude = ("tenant",)


@admin.register(Warehouse)
class WarehouseAdmin(TenantScopedAdmin):
    list_display = ("code", "name", "time_zone", "is_active")
    search_fields = ("code", "name")
    inlines = [LocationInline]

    def save_formset(self, request, form, formset, change):
        for location in formset.save(commit=False):
            location.tenant = request.tenant
            location.save()
        for location in formset.deleted_objects:
            location.delete()
        formset.save_m2m()


admin.site.unregister(User)


@admin.register(User)
class StockyardUserAdmin(UserAdmin):
    """Superusers see every user; tenant admins see the members of their tenant."""

    def get_queryset(self, request):
        users = super().get_queryset(request)
        if request.user.is_superuser:
            return users
        return users.filter(memberships__tenant=request.tenant).distinct()

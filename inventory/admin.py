"""Django admin for the catalog, lots and API tokens of the current tenant.

Stock itself is not editable here: ledger entries and balances change only
through the services. A new API token's secret is shown once, in the message
after saving; only its hash is kept.
"""

from django.contrib import admin, messages

from inventory.models import ApiToken, Lot, Product
from inventory.tokens import new_secret
from warehouse.admin import TenantScopedAdmin


@admin.register(Product)
class ProductAdmin(TenantScopedAdmin):
    list_display = ("sku", "name", "uom", "qc_required", "shelf_life_days", "is_active")
    list_filter = ("qc_required", "is_active", "uom")
    search_fields = ("sku", "name")


@admin.register(Lot)
class LotAdmin(TenantScopedAdmin):
    """Read-only: lots are created by receipts and decided by QC services."""

    list_display = ("code", "product", "qc_status", "expires_on", "received_at")
    list_filter = ("qc_status",)
    search_fields = ("code", "product__sku")
    list_select_related = ("product",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(TenantScopedAdmin):
    list_display = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    fields = ("name", "scopes", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at")

    def save_model(self, request, obj, form, change):
        if not change:
            secret = new_secret(obj)
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if not change:
            messages.warning(request, f"Token secret (shown only now, copy it): {secret}")

    def has_delete_permission(self, request, obj=None):
        return False

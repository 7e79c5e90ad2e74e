"""Django admin for the current tenant: catalog, lots, reservations, orders, API tokens.

Stock itself is not editable here: ledger entries and balances change only
through the services, so lots, reservations and orders are read-only. A new
API token's secret is shown once, in the message after saving; only its hash
is kept.
"""

import json

from django import forms
from django.contrib import admin, messages

from inventory.api.core import READ_SCOPE, WRITE_SCOPE
from inventory.core.tokens import new_secret
from inventory.models import (
    MAX_ATTRIBUTES_SIZE,
    MAX_SHELF_LIFE_DAYS,
    Allocation,
    ApiToken,
    Lot,
    Order,
    OrderLine,
    Product,
    Reservation,
    ReservationLine,
)
from warehouse.admin import TenantOwnedAdminForm, TenantScopedAdmin
from warehouse.validators import normalize_gtin

GTIN_HELP = "A GTIN has 8, 12, 13 or 14 digits ending in a valid check digit."


class ShownJSONField(forms.JSONField):
    """A JSON field that can always show back what was typed.

    A value holding an unpaired surrogate (``"\\ud800"``) parses, but Django
    would show it back raw, and the page could not be encoded; it is shown
    escaped instead.
    """

    def prepare_value(self, value):
        text = super().prepare_value(value)
        try:
            text.encode()
        except UnicodeEncodeError:
            return json.dumps(value, cls=self.encoder)
        return text


class ProductAdminForm(TenantOwnedAdminForm):
    class Meta:
        field_classes = {"attributes": ShownJSONField}
        help_texts = {"gtin": "The barcode number (EAN/UPC/GTIN); empty for none. " + GTIN_HELP}

    def clean_shelf_life_days(self):
        days = self.cleaned_data["shelf_life_days"]
        # Expiry dates are computed from it; a huge value overflows the date.
        if days is not None and not 1 <= days <= MAX_SHELF_LIFE_DAYS:
            raise forms.ValidationError(
                f"The shelf life must be 1 to {MAX_SHELF_LIFE_DAYS} days.", code="shelf_life"
            )
        return days

    def clean_gtin(self):
        # Typed or scanned as 8, 12, 13 or 14 digits; stored as 14.
        gtin = self.cleaned_data["gtin"].strip()
        if not gtin:
            return ""
        normalized = normalize_gtin(gtin)
        if normalized is None:
            raise forms.ValidationError(GTIN_HELP, code="invalid_gtin")
        return normalized

    def clean_attributes(self):
        attributes = self.cleaned_data["attributes"]
        if attributes is None:
            return {}
        if not isinstance(attributes, dict):
            raise forms.ValidationError(
                'The attributes must be a JSON object, such as {"colour": "red"}.',
                code="attributes",
            )
        try:
            # What jsonb can store: no NaN or Infinity, no unpaired surrogates.
            text = json.dumps(attributes, ensure_ascii=False, allow_nan=False)
            text.encode()
        except ValueError:
            raise forms.ValidationError(
                "The attributes may hold only plain JSON: no NaN, Infinity or broken characters.",
                code="attributes",
            ) from None
        if len(text) > MAX_ATTRIBUTES_SIZE:
            raise forms.ValidationError(
                f"The attributes may be at most {MAX_ATTRIBUTES_SIZE} characters of JSON.",
                code="attributes",
            )
        if "\\u0000" in text:
            # PostgreSQL's jsonb has no NUL character.
            raise forms.ValidationError(
                "The attributes may not contain NUL characters.", code="attributes"
            )
        return attributes


@admin.register(Product)
class ProductAdmin(TenantScopedAdmin):
    form = ProductAdminForm
    list_display = ("sku", "name", "gtin", "uom", "qc_required", "shelf_life_days", "is_active")
    list_filter = ("qc_required", "is_active", "uom")
    search_fields = ("sku", "name", "=gtin")


class ReadOnly:
    """No adding, changing or deleting: these rows change only through the services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Lot)
class LotAdmin(ReadOnly, TenantScopedAdmin):
    """Lots are created by receipts and decided by QC services."""

    list_display = ("code", "product", "qc_status", "expires_on", "received_at")
    list_filter = ("qc_status",)
    search_fields = ("code", "product__sku")
    list_select_related = ("product",)


class ReservationLineInline(ReadOnly, admin.TabularInline):
    model = ReservationLine
    fields = ("product", "quantity", "allocated")
    extra = 0


class AllocationInline(ReadOnly, admin.TabularInline):
    model = Allocation
    fk_name = "reservation"
    fields = ("line", "lot", "location", "quantity")
    extra = 0


@admin.register(Reservation)
class ReservationAdmin(ReadOnly, TenantScopedAdmin):
    """Reservations with what they hold, lot by lot; they change through the API only."""

    list_display = ("id", "reference", "warehouse", "status", "expires_at", "created_at")
    list_filter = ("status", "warehouse")
    search_fields = ("reference",)
    list_select_related = ("warehouse",)
    date_hierarchy = "created_at"
    inlines = (ReservationLineInline, AllocationInline)


class OrderLineInline(ReadOnly, admin.TabularInline):
    model = OrderLine
    fields = ("product", "quantity")
    extra = 0


@admin.register(Order)
class OrderAdmin(ReadOnly, TenantScopedAdmin):
    list_display = ("reference", "customer", "warehouse", "status", "reservation", "created_at")
    list_filter = ("status", "warehouse")
    search_fields = ("reference", "customer")
    list_select_related = ("warehouse", "reservation")
    date_hierarchy = "created_at"
    inlines = (OrderLineInline,)


class ApiTokenAdminForm(TenantOwnedAdminForm):
    class Meta:
        field_classes = {"scopes": ShownJSONField}

    def clean_scopes(self):
        scopes = self.cleaned_data["scopes"]
        if scopes is None:
            return []
        known = (READ_SCOPE, WRITE_SCOPE)
        # The API tests ``scope in token.scopes``: anything but a list of the
        # known scopes would either fail there or match by accident.
        if not isinstance(scopes, list) or any(scope not in known for scope in scopes):
            raise forms.ValidationError(
                f'The scopes must be a JSON list of {" and ".join(known)}, such as ["read"], '
                "or empty for every scope.",
                code="scopes",
            )
        return sorted(set(scopes), key=known.index)


@admin.register(ApiToken)
class ApiTokenAdmin(TenantScopedAdmin):
    form = ApiTokenAdminForm
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

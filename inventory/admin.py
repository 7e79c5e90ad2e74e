"""Django admin for the inventory app: API tokens (tenant-scoped)."""

import secrets

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from inventory.api.core import READ_SCOPE, WRITE_SCOPE
from inventory.models import ApiToken
from inventory.tokens import SECRET_PREFIX, hash_secret
from warehouse.admin import TenantScopedAdmin


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(READ_SCOPE, "Read"), (WRITE_SCOPE, "Write")],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Leave both unticked for a token that may read and write.",
    )

    class Meta:
        model = ApiToken
        fields = ("name", "scopes")


@admin.register(ApiToken)
class ApiTokenAdmin(TenantScopedAdmin):
    """Tokens of the current tenant. The secret is shown once, in a message, on creation."""

    form = ApiTokenForm
    list_display = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    search_fields = ("name", "prefix")
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        secret = None
        if not change:
            secret = SECRET_PREFIX + secrets.token_urlsafe(32)
            obj.prefix = secret[:10]
            obj.secret_hash = hash_secret(secret)
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if secret is not None:
            messages.warning(
                request,
                f"The secret of API token “{obj.name}” is {secret} — copy it now, "
                "it is not shown again.",
            )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {revoked} token(s).")

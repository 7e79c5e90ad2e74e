"""Writes on tenants and memberships."""

from __future__ import annotations

from django.utils import timezone

from warehouse.models import Membership
from warehouse.tenancy import tenant_context


def record_tenant_use(*, membership: Membership) -> None:
    """Stamp ``membership`` as the user's most recently used tenant.

    Runs in the membership's own tenant context: row-level security lets a
    request write memberships of the tenant it acts for only, and the switch
    that calls this still acts for the tenant being left.
    """
    with tenant_context(membership.tenant_id, user_id=membership.user_id):
        Membership.objects.filter(pk=membership.pk).update(last_used_at=timezone.now())

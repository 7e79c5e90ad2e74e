"""Reads for the tenant and warehouse screens (row-level security scopes them)."""

from django.db.models import Count, Q

from warehouse.models import Location, Membership, Warehouse


def warehouses_with_bin_counts():
    return Warehouse.objects.annotate(
        bin_count=Count("locations", filter=Q(locations__is_active=True))
    )


def bins():
    """Every bin with its warehouse (one query, whatever the number of warehouses)."""
    return Location.objects.select_related("warehouse")


def team_members(tenant):
    return (
        Membership.objects.filter(tenant=tenant)
        .select_related("user")
        .order_by("role", "user__username")
    )

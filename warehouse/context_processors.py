from warehouse.navigation import items_for


def tenancy(request):
    nav_items = items_for(request)
    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_membership": getattr(request, "membership", None),
        "memberships": getattr(request, "memberships", []),
        "nav_items": nav_items,
        "nav_has_more": any(item["more"] for item in nav_items),
    }

"""The main navigation: which entries each role sees.

The floor's daily screens sit in the bar; the rarer ones (``more=True``:
reports, traces, adjustments, the warehouses and the team) in its "More" menu, so
the bar keeps one line on a laptop.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from warehouse.models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    icon: str
    roles: tuple[str, ...] = ()  # empty: every member
    more: bool = False  # in the "More" menu rather than in the bar

    def visible_to(self, membership) -> bool:
        return membership is not None and (not self.roles or membership.has_role(*self.roles))


NAVIGATION = [
    NavItem("Home", "home", "house"),
    NavItem(
        "Receive", "inventory:receive", "box-arrow-in-down", roles=(Role.OPERATOR, Role.MANAGER)
    ),
    NavItem(
        "Put away", "inventory:put-away", "arrow-left-right", roles=(Role.OPERATOR, Role.MANAGER)
    ),
    NavItem("Orders", "inventory:orders", "receipt", roles=(Role.OPERATOR, Role.MANAGER)),
    NavItem("Counts", "inventory:counts", "list-check", roles=(Role.OPERATOR, Role.MANAGER)),
    NavItem("QC queue", "inventory:qc-queue", "clipboard-check", roles=(Role.QC, Role.MANAGER)),
    NavItem("Stock", "inventory:stock", "boxes"),
    NavItem("Products", "inventory:products", "upc-scan"),
    NavItem("Reports", "analytics:dashboard", "graph-up", roles=(Role.MANAGER,), more=True),
    NavItem("Trace", "inventory:trace", "diagram-3", roles=(Role.QC, Role.MANAGER), more=True),
    NavItem("Adjust", "inventory:adjustments", "sliders", roles=(Role.MANAGER,), more=True),
    NavItem("Warehouses", "warehouse:list", "buildings", more=True),
    NavItem("Team", "warehouse:team", "people", roles=(Role.MANAGER, Role.ADMIN), more=True),
]


def items_for(request) -> list[dict]:
    membership = getattr(request, "membership", None)
    path = request.path
    items = []
    for item in NAVIGATION:
        if not item.visible_to(membership):
            continue
        url = reverse(item.url_name)
        active = path == url if url == "/" else path.startswith(url)
        items.append(
            {
                "label": item.label,
                "url": url,
                "icon": item.icon,
                "active": active,
                "more": item.more,
            }
        )
    return items

"""The manager dashboard at ``/reports/``: five cards, each a link into its report.

A plain member view: ``TenantMiddleware`` runs it in the tenant's context
and every figure is read by ``analytics.web.dashboard_cards`` in a handful
of queries, whatever the size of the tenant.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from analytics.reports import report_connection
from analytics.web import dashboard_cards as cards
from inventory.templatetags.stock import moment
from warehouse.access import role_required
from warehouse.models import Role
from warehouse.tenancy import tenant_context

MANAGERS = (Role.MANAGER,)  # admins too: they hold every role

# One line each on what a report answers, in the order a manager asks.
REPORTS = [
    (
        "analytics:valuation",
        "Valuation",
        "What is the stock worth, per warehouse, today or on a past day?",
    ),
    ("analytics:aging", "Aging", "How old is the stock, and how much of it expires soon?"),
    ("analytics:abc", "ABC", "Which products carry most of the consumption value?"),
    ("analytics:turnover", "Turnover", "How often does each product's stock turn over?"),
    ("analytics:demand", "Demand", "How much of a product goes out per day, on a rolling average?"),
    ("analytics:history", "Stock history", "How much of a product was on hand on each day?"),
    ("analytics:stock-outs", "Stock-outs", "Which products ran out, and for how many days?"),
    (
        "analytics:low-stock",
        "Low stock",
        "Which products are below their reorder point, and by how much?",
    ),
]


def freshness_text(freshness) -> str:
    """When the stock figures were computed, or that they have not been yet."""
    every = settings.DW_REFRESH_MINUTES
    period = "every minute" if every == 1 else f"every {every} minutes"
    if freshness is None:
        return (
            "The stock figures have not been computed yet: the refresh job fills them "
            f"within {every} minute{'s' if every != 1 else ''} of starting, then {period}."
        )
    refreshed = timezone.localtime(freshness.refreshed_at)
    shown = (
        refreshed.strftime("%H:%M")
        if refreshed.date() == timezone.localdate()
        else moment(refreshed)
    )
    return f"Stock figures as of {shown}, refreshed {period}."


def _quarantine_link(membership) -> str:
    # The QC queue is where quarantined value turns into stock that can be sold;
    # a viewer who may not work it (none today: managers may) gets the aging report.
    if membership.has_role(Role.QC, Role.MANAGER):
        return reverse("inventory:qc-queue")
    return reverse("analytics:aging")


@role_required(*MANAGERS)
def dashboard(request):
    """Stock value, lots expiring soon, quarantined value, stock-outs, A-items to reorder."""
    tenant = request.tenant
    today = timezone.localdate()
    # One tenant context on the report connection for every card: each selector's
    # own context for the same tenant then costs only its savepoint.
    with tenant_context(tenant.pk, using=report_connection()):
        value = cards.stock_value(tenant=tenant)
        lots = cards.lot_figures(tenant=tenant, today=today)
        a_items = cards.a_items_below_reorder_point(tenant=tenant, today=today)
        stock_outs = cards.stock_outs_this_week(tenant=tenant, today=today)
    history = reverse("analytics:history")
    context = {
        "value": value,
        "freshness_text": freshness_text(value.freshness),
        "lots": lots,
        "stock_outs": stock_outs,
        "a_items": a_items,
        "a_item_links": [(sku, f"{history}?{urlencode({'sku': sku})}") for sku in a_items.skus],
        "expiry_days": cards.EXPIRY_DAYS,
        # The aging report's expiry section (its anchor on the report screen).
        "expiring_url": f"{reverse('analytics:aging')}#chart-expiry-title",
        "quarantine_url": _quarantine_link(request.membership),
        "stock_outs_url": f"{reverse('analytics:stock-outs')}?days={cards.STOCK_OUT_DAYS}",
        "reports": [(reverse(name), label, question) for name, label, question in REPORTS],
    }
    return render(request, "analytics/dashboard.html", context)

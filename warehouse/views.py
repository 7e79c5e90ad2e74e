import functools

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from inventory.core.errors import Contention
from inventory.core.transactions import run_in_transaction
from inventory.core.writes import write_screen
from inventory.web.tables import configure_table, render_region
from warehouse.access import member_required, role_required
from warehouse.forms import SwitchTenantForm
from warehouse.home import cards_for
from warehouse.middleware import SESSION_KEY, htmx_sign_in_redirect
from warehouse.models import Role
from warehouse.selectors import bins, team_members, warehouses_with_bin_counts
from warehouse.services import record_tenant_use
from warehouse.tables import BinFilter, BinTable, TeamTable, WarehouseTable


@member_required
def home(request):
    """What needs doing now, as cards for the member's role."""
    return render(request, "warehouse/home.html", {"cards": cards_for(request.membership)})


@write_screen
@require_POST
@member_required
def switch_tenant(request):
    """Switch to another tenant of the user's; the stamp is a write under the write policy."""
    form = SwitchTenantForm(request.POST)
    target = form.cleaned_data["tenant"] if form.is_valid() else None
    membership = next((m for m in request.memberships if m.tenant_id == target), None)
    if membership is None:
        messages.error(request, "You are not a member of that tenant.")
        return redirect("home")
    try:
        run_in_transaction(
            functools.partial(record_tenant_use, membership=membership),
            tenant_id=membership.tenant_id,
        )
    except Contention as failure:
        messages.error(request, f"Not switched: {failure.message}")
        return redirect("home")
    request.session[SESSION_KEY] = membership.tenant_id
    messages.success(
        request, f"Switched to {membership.tenant.name} as {membership.get_role_display()}."
    )
    next_url = form.cleaned_data.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    return redirect(next_url or "home")


@member_required
def warehouse_list(request):
    """The tenant's warehouses, and their bins filtered by warehouse and code."""
    bin_filter = BinFilter(request.GET or None, queryset=bins())
    status = 200
    if bin_filter.is_bound and not bin_filter.is_valid():
        status = 422  # a hand-edited link: say so beside the field, list nothing
        bin_rows = bins().none()
    else:
        bin_rows = bin_filter.qs
    context = {
        "warehouses": configure_table(request, WarehouseTable(warehouses_with_bin_counts())),
        "bins": configure_table(request, BinTable(bin_rows)),
        "filter": bin_filter,
    }
    region = "bins-table" if request.htmx and request.htmx.target == "bins-table" else None
    return render_region(
        request,
        "warehouse/warehouse_list.html",
        region or "warehouses-table",
        context,
        status=status,
    )


@role_required(Role.MANAGER, Role.ADMIN)
def team(request):
    table = configure_table(request, TeamTable(team_members(request.tenant)))
    return render_region(request, "warehouse/team.html", "team-table", {"table": table})


def csrf_failure(request, reason=""):
    """A form sent with a missing or stale CSRF token (``CSRF_FAILURE_VIEW``).

    This mostly means the session ended or was replaced in another tab since
    the page was loaded. An htmx request leaves the page: to sign in when the
    user is signed out, otherwise a reload that brings a fresh token; htmx
    would swap neither a 403 page nor anything else into the page. A plain
    form gets the 403 page saying what to do. Nothing was written either way.
    """
    if request.headers.get("HX-Request"):
        if not request.user.is_authenticated:
            return htmx_sign_in_redirect(request)
        response = HttpResponse(status=403)
        response["HX-Refresh"] = "true"
        return response
    message = (
        "This form was sent from a page that has expired, usually because you signed out "
        "or signed in again in another tab. Nothing was saved. Reload the page and try again."
    )
    return render(request, "errors/403.html", {"message": message}, status=403)

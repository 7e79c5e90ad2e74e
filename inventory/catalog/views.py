"""Product screens: the product list and search, and the product page.

Read-only: they run in the request's tenant transaction (``TenantMiddleware``),
so another tenant's product answers 404 like a missing one.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from inventory.catalog.filters import HistoryFilter, ProductSearchForm
from inventory.catalog.selectors import (
    find_products,
    get_product,
    open_reservations_of,
    product_by_code,
    product_holdings,
    stock_by_warehouse,
)
from inventory.catalog.tables import (
    HistoryTable,
    HoldingsTable,
    OpenReservationsTable,
    ProductTable,
)
from inventory.core.errors import NotFound
from inventory.ledger.history import product_history
from inventory.stock.selectors import stock_summary
from inventory.web.access import can_trace as may_trace
from inventory.web.tables import configure_table, render_region
from warehouse.access import member_required


def can_trace(request) -> bool:
    return may_trace(request.membership)


@member_required
def products(request):
    """The catalog, searchable; a scanned or typed exact SKU or GTIN opens its product."""
    form = ProductSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    if query:
        product = product_by_code(query)
        if product is not None:
            url = reverse("inventory:product", args=[product.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    table = ProductTable(find_products(query) if form.is_valid() else find_products().none())
    if form.is_valid() and not query:
        table.empty_text = "No products yet. Products are added in the admin, under Catalog."
    configure_table(request, table)
    return render_region(
        request,
        "inventory/catalog/products.html",
        "product-table",
        {"form": form, "table": table, "query": query},
        status=200 if form.is_valid() else 422,
    )


def _product_or_404(product_id):
    try:
        return get_product(product_id)
    except NotFound:
        raise Http404("No such product.") from None


@member_required
def product(request, product_id: int):
    """A product: what it is, where its stock is, who holds it, and every movement."""
    product = _product_or_404(product_id)
    history = HistoryFilter(request.GET or None, queryset=product_history(product))
    status = 422 if history.is_bound and history.errors else 200
    table = HistoryTable(history.qs, uom=product.uom, can_trace=can_trace(request))
    configure_table(request, table, lazy=True)
    holdings = HoldingsTable(
        product_holdings(product), uom=product.uom, can_trace=can_trace(request)
    )
    configure_table(request, holdings)
    reservations = OpenReservationsTable(open_reservations_of(product), uom=product.uom)
    configure_table(request, reservations)
    context = {
        "product": product,
        "history": history,
        "table": table,
        "holdings": holdings,
        "reservations": reservations,
    }
    # Each table pages and sorts in place; the page around them is read only for the page.
    region = request.htmx.target if request.htmx else None
    if region in ("history-table", "holdings-table", "reservations-table"):
        return render_region(
            request, "inventory/catalog/product.html", region, context, status=status
        )
    context.update(
        summary=stock_summary(product=product),
        warehouses=stock_by_warehouse(product),
        can_trace=can_trace(request),
    )
    return render(request, "inventory/catalog/product.html", context, status=status)

"""Reads of the ledger: its entries, newest first.

Call inside a tenant context (row-level security scopes them).
"""

from __future__ import annotations

import datetime

from django.db.models import QuerySet

from inventory.models import LedgerEntry, Product
from warehouse.models import Warehouse


def ledger_entries(
    *,
    product: Product | None = None,
    since: datetime.datetime | None = None,
    kind: str | None = None,
    warehouse: Warehouse | None = None,
) -> QuerySet[LedgerEntry]:
    """Ledger entries, newest first (paginate the result)."""
    entries = LedgerEntry.objects.select_related("product", "lot", "location", "warehouse")
    if product is not None:
        entries = entries.filter(product=product)
    if warehouse is not None:
        entries = entries.filter(warehouse=warehouse)
    if since is not None:
        entries = entries.filter(occurred_at__gte=since)
    if kind is not None:
        entries = entries.filter(kind=kind)
    return entries.order_by("-occurred_at", "-id")

"""Stock reads: on hand, reserved, available and where the rest is, per product and warehouse.

Available counts approved, unexpired lots only, less what is reserved of
them; what reservations past their expiry still hold counts as available
(the next allocation, or the sweep, releases it).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from inventory.catalog.selectors import code_key, search_products
from inventory.core.errors import ProductNotFound, WarehouseNotFound
from inventory.core.quantities import ZERO_QUANTITY
from inventory.core.validation import owned
from inventory.models import Allocation, Balance, Product, QcStatus
from warehouse.models import Tenant, Warehouse
from warehouse.tenancy import tenant_context


@dataclass(frozen=True)
class StockSummary:
    """Stock of one product, in one warehouse or all of them.

    ``on_hand`` counts every lot; ``available`` only approved, unexpired lots,
    less what is reserved of them; ``quarantined``, ``rejected`` and
    ``expired`` say where the rest is.
    """

    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    quarantined: Decimal
    rejected: Decimal
    expired: Decimal


def stock_totals(today: datetime.date) -> dict:
    """Aggregates over balances: on hand, reserved, available and where the rest is.

    Available counts approved, unexpired lots only, less what is reserved of
    them; expired counts approved lots past their expiry, less what
    reservations still hold of them (that stays reserved until released).
    Reservations only ever hold approved lots, so the parts add up:
    ``on_hand = available + reserved + quarantined + rejected + expired``.
    Aggregate aliases may not shadow the fields they sum, hence the
    ``total_`` prefix.
    """
    unexpired = Q(lot__expires_on__isnull=True) | Q(lot__expires_on__gte=today)
    approved = Q(lot__qc_status=QcStatus.APPROVED)
    return {
        "total_on_hand": Coalesce(Sum("on_hand"), ZERO_QUANTITY),
        "total_reserved": Coalesce(Sum("reserved"), ZERO_QUANTITY),
        "total_available": Coalesce(
            Sum(F("on_hand") - F("reserved"), filter=approved & unexpired), ZERO_QUANTITY
        ),
        "total_quarantined": Coalesce(
            Sum("on_hand", filter=Q(lot__qc_status=QcStatus.QUARANTINE)), ZERO_QUANTITY
        ),
        "total_rejected": Coalesce(
            Sum("on_hand", filter=Q(lot__qc_status=QcStatus.REJECTED)), ZERO_QUANTITY
        ),
        "total_expired": Coalesce(
            Sum(F("on_hand") - F("reserved"), filter=approved & ~unexpired), ZERO_QUANTITY
        ),
    }


def stock_summary(
    *,
    product: Product,
    warehouse: Warehouse | None = None,
    today: datetime.date | None = None,
    tenant: Tenant | None = None,
) -> StockSummary:
    """On hand, reserved, available, quarantined (and rejected, expired) of ``product``.

    In ``warehouse``, or summed over every warehouse when it is None.
    Available counts only approved lots not expired on ``today`` (default:
    today), less what is reserved of them. Reads only. With ``tenant`` it
    opens that tenant's context itself and answers ``ProductNotFound`` or
    ``WarehouseNotFound`` for another tenant's objects; without it, call it
    inside a tenant context.
    """
    if tenant is not None:
        owned(product, tenant, ProductNotFound, Product)
        if warehouse is not None:
            owned(warehouse, tenant, WarehouseNotFound, Warehouse)
        with tenant_context(tenant.pk):
            return stock_summary(product=product, warehouse=warehouse, today=today)
    today = today or timezone.localdate()
    balances = Balance.objects.filter(product=product)
    if warehouse is not None:
        balances = balances.filter(warehouse=warehouse)
    totals = balances.aggregate(**stock_totals(today))
    summary = {name.removeprefix("total_"): value for name, value in totals.items()}
    overdue = expired_holds(product=product, warehouse=warehouse, today=today)
    if overdue:
        # Holds of reservations past their expiry are free already: the next
        # allocation (or the sweep) releases them.
        summary["reserved"] -= overdue
        summary["available"] += overdue
    return StockSummary(**summary)


def overdue_allocations(today: datetime.date) -> QuerySet[Allocation]:
    """Allocations of open reservations past their expiry, in approved lots unexpired on ``today``.

    Their stock is free already: the next allocation (or the sweep) releases it.
    """
    return Allocation.objects.filter(
        reservation__status="OPEN",
        reservation__expires_at__lte=timezone.now(),
        lot__qc_status=QcStatus.APPROVED,
    ).filter(Q(lot__expires_on__isnull=True) | Q(lot__expires_on__gte=today))


def expired_holds(
    *, product: Product, warehouse: Warehouse | None, today: datetime.date
) -> Decimal:
    """What open reservations past their expiry still hold of approved, unexpired lots."""
    allocations = overdue_allocations(today).filter(line__product=product)
    if warehouse is not None:
        allocations = allocations.filter(reservation__warehouse=warehouse)
    return allocations.aggregate(total=Coalesce(Sum("quantity"), ZERO_QUANTITY))["total"]


def stock_overview(
    *,
    query: str = "",
    warehouse: Warehouse | None = None,
    today: datetime.date | None = None,
    limit: int = 500,
) -> list[dict]:
    """Stock per product and warehouse for the stock screen, by SKU (at most ``limit`` rows).

    Rows carry ``total_on_hand``, ``total_reserved``, ``total_available``
    (approved, unexpired, less reserved), ``total_quarantined``,
    ``total_rejected`` and ``total_expired``, the same numbers as
    ``stock_summary`` (they add up to on hand); ``query``
    narrows to products matching it in full text or by SKU prefix. As in
    ``stock_summary``, what reservations past their expiry still hold counts
    as available, not reserved: the next allocation (or the sweep) frees it.
    """
    today = today or timezone.localdate()
    balances = Balance.objects.all()
    if warehouse is not None:
        balances = balances.filter(warehouse=warehouse)
    if query:
        matching = search_products(query, limit=500).values("pk")
        prefix = code_key(query)
        by_sku = Q(pk__in=[])
        if prefix:
            # A byte range on the C-collated key (codes are below "~"), not
            # ILIKE: range comparisons are LEAKPROOF, so the index serves them.
            by_sku = Q(product__sku_key__gte=prefix, product__sku_key__lt=prefix + "\x7f")
        balances = balances.filter(Q(product__in=matching) | by_sku)
    rows = list(
        balances.values(
            "product_id",
            "warehouse_id",
            "product__sku",
            "product__name",
            "product__uom",
            "warehouse__code",
        )
        .annotate(**stock_totals(today))
        .order_by("product__sku", "warehouse__code")[:limit]
    )
    overdue = (
        overdue_allocations(today)
        .filter(line__product_id__in={row["product_id"] for row in rows})
        .values("line__product_id", "reservation__warehouse_id")
        .annotate(total=Sum("quantity"))
    )
    freed = {
        (hold["line__product_id"], hold["reservation__warehouse_id"]): hold["total"]
        for hold in overdue
    }
    for row in rows:
        if amount := freed.get((row["product_id"], row["warehouse_id"])):
            row["total_reserved"] -= amount
            row["total_available"] += amount
    return rows

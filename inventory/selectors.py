"""Reads of the inventory domain (row-level security scopes every one to the tenant).

Lookups raise the domain ``NotFound`` errors, so a missing row and another
tenant's row answer the same. Call them inside a tenant context.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.db.models import (
    BigIntegerField,
    BooleanField,
    DecimalField,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from inventory.errors import LocationNotFound, LotNotFound, ProductNotFound, WarehouseNotFound
from inventory.models import (
    Allocation,
    Balance,
    LedgerEntry,
    Lot,
    Product,
    QcDecision,
    QcStatus,
)
from warehouse.models import Location, LocationKind, Warehouse

_ZERO = Value(Decimal("0.000"), output_field=DecimalField(max_digits=18, decimal_places=3))
# Either stemmed (names) or verbatim (SKUs, codes) words may match.
_QUERY = "(websearch_to_tsquery('english', %s) || websearch_to_tsquery('simple', %s))"


def code_key(code: object) -> str | None:
    """The stored lookup key a code would have (``lower(code)``), or None if no code can match.

    Codes are ASCII (``warehouse.validators.CodeValidator``). Python's and
    PostgreSQL's ``lower()`` agree on ASCII, not beyond it (the Kelvin sign
    lowers to ``k`` in Python only), so anything else matches nothing.
    """
    key = str(code).strip()
    # Printable ASCII only: a NUL would also be refused by PostgreSQL itself.
    if not (key.isascii() and key.isprintable()):
        return None
    return key.lower()


def get_product_by_sku(sku: str) -> Product:
    try:
        return Product.objects.get(sku_key=code_key(sku))
    except Product.DoesNotExist:
        raise ProductNotFound(f"No product with SKU {sku!r}.") from None


def get_warehouse_by_code(code: str) -> Warehouse:
    try:
        return Warehouse.objects.get(code_key=code_key(code))
    except Warehouse.DoesNotExist:
        raise WarehouseNotFound(f"No warehouse with code {code!r}.") from None


def get_location_by_code(warehouse: Warehouse, code: str) -> Location:
    location = Location.objects.filter(warehouse=warehouse, code_key=code_key(code), is_active=True)
    try:
        return location.select_related("warehouse").get()
    except Location.DoesNotExist:
        raise LocationNotFound(f"No location {code!r} in warehouse {warehouse.code}.") from None


def default_receiving_location(warehouse: Warehouse) -> Location:
    """The warehouse's first active receiving bin by pick sequence, then code."""
    location = (
        Location.objects.filter(warehouse=warehouse, kind=LocationKind.RECEIVING, is_active=True)
        .order_by("pick_sequence", "code", "id")
        .first()
    )
    if location is None:
        raise LocationNotFound(f"Warehouse {warehouse.code} has no receiving location.")
    return location


def get_lot(lot_id: int) -> Lot:
    try:
        return Lot.objects.select_related("product").get(pk=int(lot_id))
    except (Lot.DoesNotExist, ValueError, TypeError, OverflowError):
        raise LotNotFound(f"No lot {lot_id}.") from None


def get_lot_by_code(product: Product, code: str) -> Lot:
    lot = Lot.objects.filter(product=product, code_key=code_key(code))
    try:
        return lot.select_related("product").get()
    except Lot.DoesNotExist:
        raise LotNotFound(f"Product {product.sku} has no lot {code!r}.") from None


class _IsAnyOf(Func):
    """``column = ANY(array)``: one LEAKPROOF comparison per element (``int8eq`` for ids)."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def _matching(function: str, *params) -> _IsAnyOf:
    """``id = ANY(ARRAY(SELECT product_id FROM function(...)))``.

    The functions (migrations ``inventory 0015`` and ``0016``) match with their GIN indexes
    outside row-level security and return only ids of the current tenant;
    comparing ``id`` with them is ``int8eq``, LEAKPROOF, so the primary key
    serves it under the policy, where ``@@`` and ``@>`` could only be filters.
    """
    placeholders = ", ".join(["%s"] * len(params))
    ids = RawSQL(
        f"ARRAY(SELECT product_id FROM {function}({placeholders}))",
        params,
        output_field=ArrayField(BigIntegerField()),
    )
    return _IsAnyOf(F("pk"), ids)


def search_products(query: str, *, limit: int = 50) -> QuerySet[Product]:
    """Active products matching ``query`` (web-search syntax), best match first.

    Of a tenant with more than 1,000 matches (a word in most products), only
    the first 1,000 by SKU are ranked: the time stays bounded whatever the
    catalog's size (migration ``inventory 0016`` says why).
    """
    if "\x00" in query:
        # PostgreSQL refuses NUL in text; no product's words contain one.
        return Product.objects.none()
    rank = RawSQL(f"ts_rank(search_vector, {_QUERY})", [query, query], output_field=FloatField())
    return (
        Product.objects.active()
        .filter(_matching("inventory_product_search", query, limit))
        .annotate(rank=rank)
        .order_by("-rank", "sku")[:limit]
    )


def products_with_attributes(attributes: dict, *, limit: int = 50) -> QuerySet[Product]:
    """Active products whose attributes contain ``attributes`` (JSON containment), by SKU."""
    if not attributes:
        # Everything contains {}: no index would help, and the list by SKU is the answer.
        return Product.objects.active().order_by("sku")[:limit]
    wanted = json.dumps(attributes)
    return (
        Product.objects.active()
        .filter(_matching("inventory_product_attribute_match", wanted, limit))
        .order_by("sku")[:limit]
    )


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
        "total_on_hand": Coalesce(Sum("on_hand"), _ZERO),
        "total_reserved": Coalesce(Sum("reserved"), _ZERO),
        "total_available": Coalesce(
            Sum(F("on_hand") - F("reserved"), filter=approved & unexpired), _ZERO
        ),
        "total_quarantined": Coalesce(
            Sum("on_hand", filter=Q(lot__qc_status=QcStatus.QUARANTINE)), _ZERO
        ),
        "total_rejected": Coalesce(
            Sum("on_hand", filter=Q(lot__qc_status=QcStatus.REJECTED)), _ZERO
        ),
        "total_expired": Coalesce(
            Sum(F("on_hand") - F("reserved"), filter=approved & ~unexpired), _ZERO
        ),
    }


def stock_summary(
    *,
    product: Product,
    warehouse: Warehouse | None = None,
    today: datetime.date | None = None,
) -> StockSummary:
    """Sum the balances of ``product`` (in ``warehouse``, or everywhere)."""
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
    return allocations.aggregate(total=Coalesce(Sum("quantity"), _ZERO))["total"]


def movements(
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


def quarantine_queue() -> QuerySet[Lot]:
    """Lots waiting for a QC decision, oldest receipt first, with their stock."""
    return (
        Lot.objects.filter(qc_status=QcStatus.QUARANTINE)
        .select_related("product")
        .annotate(on_hand=Coalesce(Sum("balances__on_hand"), _ZERO))
        .order_by("received_at", "id")
    )


def lot_on_hand(lot: Lot) -> Decimal:
    """What is on hand of ``lot`` over all its bins."""
    return Balance.objects.filter(lot_id=lot.pk).aggregate(total=Coalesce(Sum("on_hand"), _ZERO))[
        "total"
    ]


def recent_qc_decisions(limit: int = 10) -> list[QcDecision]:
    """The latest QC decisions and reversals, newest first.

    ``is_reversible`` marks the rows that still say what the lot's status is:
    the lot's latest entry, and a decision (approved or rejected) rather than
    a return to quarantine.
    """
    latest = (
        QcDecision.objects.filter(lot_id=OuterRef("lot_id"))
        .order_by("-decided_at", "-id")
        .values("id")[:1]
    )
    decisions = list(
        QcDecision.objects.select_related("lot", "lot__product", "decided_by", "decided_by_token")
        .annotate(latest_id=Subquery(latest))
        .order_by("-decided_at", "-id")[:limit]
    )
    for decision in decisions:
        decision.is_reversible = (
            decision.pk == decision.latest_id
            and decision.status != QcStatus.QUARANTINE
            and decision.lot.qc_status == decision.status
        )
    return decisions

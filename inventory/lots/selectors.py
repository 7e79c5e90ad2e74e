"""Reads of lots and their QC: lookups, the quarantine queue, the decision history.

Call inside a tenant context (row-level security scopes every one).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from inventory.catalog.selectors import code_key
from inventory.core.errors import LotNotFound
from inventory.core.quantities import ZERO_QUANTITY
from inventory.models import Balance, Lot, Product, QcDecision, QcStatus


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


def lot_on_hand_total() -> Coalesce:
    """A lot's stock over every bin, as a subquery per lot (for ``annotate``).

    A subquery rather than a join and GROUP BY, so the lots themselves are
    still found through their own index (the quarantine queue, a lot code).
    """
    on_hand = (
        Balance.objects.filter(lot_id=OuterRef("pk"))
        .values("lot_id")
        .annotate(total=Sum("on_hand"))
        .values("total")
    )
    return Coalesce(Subquery(on_hand), ZERO_QUANTITY)


def lot_warehouse_code() -> Subquery:
    """The code of the warehouse a lot was received into, as a subquery per lot.

    A lot is received into one warehouse and moves between its bins, so its
    balances name one warehouse; the first code keeps the answer single if
    that ever changes. Read from the lot's balances (``balance_tenant_lot_location_key``)
    rather than the partitioned ledger.
    """
    return Subquery(
        Balance.objects.filter(lot_id=OuterRef("pk"))
        .order_by("warehouse__code")
        .values("warehouse__code")[:1]
    )


def quarantine_queue() -> QuerySet[Lot]:
    """Lots waiting for a QC decision, oldest receipt first, with their stock and warehouse.

    The stock and the warehouse are subqueries per lot rather than joins and
    GROUP BY, so counting the queue (its waiting badge, its pages) reads the
    lots alone, from the partial index of quarantined lots.
    """
    return (
        Lot.objects.filter(qc_status=QcStatus.QUARANTINE)
        .select_related("product")
        .annotate(on_hand=lot_on_hand_total(), warehouse_code=lot_warehouse_code())
        .order_by("received_at", "id")
    )


def queue_lot(lot_id: int) -> Lot:
    """One lot as a row of the quarantine queue, whatever its status is now (a decided row)."""
    lots = Lot.objects.select_related("product").annotate(
        on_hand=lot_on_hand_total(), warehouse_code=lot_warehouse_code()
    )
    try:
        return lots.get(pk=int(lot_id))
    except (Lot.DoesNotExist, ValueError, TypeError, OverflowError):
        raise LotNotFound(f"No lot {lot_id}.") from None


def lot_on_hand(lot: Lot) -> Decimal:
    """What is on hand of ``lot`` over all its bins."""
    return Balance.objects.filter(lot_id=lot.pk).aggregate(
        total=Coalesce(Sum("on_hand"), ZERO_QUANTITY)
    )["total"]


def qc_decision_history() -> QuerySet[QcDecision]:
    """Every QC decision and reversal, newest first, with who made it and its lot.

    ``is_reversible`` marks the rows that still say what the lot's status is:
    the lot's latest entry, and a decision (approved or rejected) rather than
    a return to quarantine. It is a subquery per row shown, so a page costs
    the same however long the history is.
    """
    latest = (
        QcDecision.objects.filter(lot_id=OuterRef("lot_id"))
        .order_by("-decided_at", "-id")
        .values("id")[:1]
    )
    is_reversible = (
        Q(pk=Subquery(latest)) & ~Q(status=QcStatus.QUARANTINE) & Q(lot__qc_status=F("status"))
    )
    return (
        QcDecision.objects.select_related("lot", "lot__product", "decided_by", "decided_by_token")
        .annotate(is_reversible=ExpressionWrapper(is_reversible, output_field=BooleanField()))
        .order_by("-decided_at", "-id")
    )


def recent_qc_decisions(limit: int = 10) -> list[QcDecision]:
    """The latest ``limit`` QC decisions and reversals, newest first (``qc_decision_history``)."""
    return list(qc_decision_history()[:limit])


# -- the lot trace -----------------------------------------------------------

# Lots sharing one code across products: a recall lists them all, up to this.
MAX_LOTS_PER_CODE = 50


def lots_with_code(code: str) -> QuerySet[Lot]:
    """Every lot with ``code`` (any letter case), whatever its product, by SKU.

    Compares the stored ``code_key`` (``lot_trace_code_idx``).
    """
    key = code_key(code)
    if not key:
        return Lot.objects.none()
    return (
        Lot.objects.filter(code_key=key)
        .select_related("product")
        .annotate(on_hand=lot_on_hand_total())
        .order_by("product__sku", "id")[:MAX_LOTS_PER_CODE]
    )


def lot_bins(lot: Lot) -> QuerySet[Balance]:
    """Where ``lot`` still is: its balances with stock, by warehouse and bin."""
    return (
        Balance.objects.filter(lot_id=lot.pk, on_hand__gt=0)
        .select_related("location", "warehouse")
        .order_by("warehouse__code", "location__code")
    )


def lot_decisions(lot: Lot) -> QuerySet[QcDecision]:
    """The QC decisions and reversals of ``lot``, oldest first."""
    return (
        QcDecision.objects.filter(lot_id=lot.pk)
        .select_related("decided_by", "decided_by_token")
        .order_by("decided_at", "id")
    )

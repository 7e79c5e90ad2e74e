"""Reads of lots and their QC: lookups, the quarantine queue, the decision history.

Call inside a tenant context (row-level security scopes every one).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery, Sum
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


def quarantine_queue() -> QuerySet[Lot]:
    """Lots waiting for a QC decision, oldest receipt first, with their stock.

    The stock is a subquery per lot rather than a join and GROUP BY, so
    counting the queue (its waiting badge, its pages) reads the lots alone,
    from the partial index of quarantined lots.
    """
    return (
        Lot.objects.filter(qc_status=QcStatus.QUARANTINE)
        .select_related("product")
        .annotate(on_hand=lot_on_hand_total())
        .order_by("received_at", "id")
    )


def lot_on_hand(lot: Lot) -> Decimal:
    """What is on hand of ``lot`` over all its bins."""
    return Balance.objects.filter(lot_id=lot.pk).aggregate(
        total=Coalesce(Sum("on_hand"), ZERO_QUANTITY)
    )["total"]


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

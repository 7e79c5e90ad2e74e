"""Reads of the count screens: the list, the counting sheet (blind) and the review."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from inventory.counts.errors import CountNotFound
from inventory.counts.services import difference_value
from inventory.models import Balance, CountLine, CountLocation, CountSession, CountStatus


def get_count(session_id) -> CountSession:
    try:
        return CountSession.objects.select_related("warehouse", "product", "created_by").get(
            pk=int(session_id)
        )
    except (CountSession.DoesNotExist, ValueError, TypeError, OverflowError):
        raise CountNotFound(f"No count {session_id}.") from None


def _count_of(model, **conditions) -> Subquery:
    """How many rows of ``model`` belong to the outer session (one subquery per column)."""
    rows = (
        model.objects.filter(session=OuterRef("pk"), **conditions)
        .order_by()
        .values("session")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def count_sessions() -> QuerySet[CountSession]:
    """Counts newest first, with how many lines they have, how many are counted, and their bins.

    The numbers are correlated subqueries, so a page of counts is one query
    however many counts and lines there are.
    """
    return CountSession.objects.select_related("warehouse", "product", "created_by").annotate(
        line_total=_count_of(CountLine),
        lines_counted=_count_of(CountLine, counted_quantity__isnull=False),
        bin_total=_count_of(CountLocation),
    )


def count_bins(session: CountSession) -> list[str]:
    """The codes of the bins a bin count covers, in walking order."""
    return list(
        CountLocation.objects.filter(session=session)
        .order_by("location__pick_sequence", "location__code")
        .values_list("location__code", flat=True)
    )


def counting_lines(session: CountSession) -> QuerySet[CountLine]:
    """The lines to count, in walking order: bin, then product, then lot.

    Blind: nothing here reads a balance, so the counting screen has no
    expected quantity to show even by mistake.
    """
    return (
        CountLine.objects.filter(session=session)
        .select_related("location", "lot", "product", "counted_by")
        .order_by("location__pick_sequence", "location__code", "product__sku", "lot__code", "id")
    )


def count_progress(session: CountSession) -> dict:
    return CountLine.objects.filter(session=session).aggregate(
        total=Count("pk"), counted=Count("pk", filter=Q(counted_quantity__isnull=False))
    )


@dataclass
class ReviewLine:
    line: CountLine
    expected: Decimal
    counted: Decimal | None
    difference: Decimal | None
    value: Decimal | None

    @property
    def is_matching(self) -> bool:
        return self.difference == 0


@dataclass
class CountReview:
    lines: list[ReviewLine]
    gain_value: Decimal
    loss_value: Decimal
    total_value: Decimal  # gains and losses both counted: what approval is judged on
    threshold: Decimal
    is_posted: bool

    @property
    def needs_approval(self) -> bool:
        return self.total_value > self.threshold

    @property
    def differing(self) -> int:
        return sum(1 for line in self.lines if line.difference)


def count_review(session: CountSession, *, threshold: Decimal) -> CountReview:
    """Each line's expected and counted quantity, difference and its value at lot cost.

    Before posting, expected is the balance now (what posting would compare
    with); a posted count shows what it was posted against.
    """
    is_posted = session.status == CountStatus.POSTED
    lines = counting_lines(session)
    if not is_posted:
        on_hand = Balance.objects.filter(lot=OuterRef("lot"), location=OuterRef("location"))
        lines = lines.annotate(
            on_hand=Coalesce(
                Subquery(on_hand.values("on_hand")[:1]),
                Decimal(0),
                output_field=DecimalField(max_digits=18, decimal_places=3),
            )
        )
    rows = []
    gains = losses = Decimal(0)
    for line in lines:
        expected = line.expected_quantity if is_posted else line.on_hand
        counted = line.counted_quantity
        difference = value = None
        if counted is not None and expected is not None:
            difference = counted - expected
            value = difference_value(difference, line.lot.unit_cost)
            if value > 0:
                gains += value
            else:
                losses += -value
        rows.append(ReviewLine(line, expected, counted, difference, value))
    return CountReview(
        lines=rows,
        gain_value=gains,
        loss_value=losses,
        total_value=gains + losses,
        threshold=threshold,
        is_posted=is_posted,
    )

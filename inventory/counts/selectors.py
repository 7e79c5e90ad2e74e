"""Reads of the count screens: the list, the counting sheet (blind) and the review."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from inventory.counts.errors import CountNotFound
from inventory.counts.services import difference_value
from inventory.models import (
    QUANTITY_DIGITS,
    QUANTITY_PLACES,
    Balance,
    CountLine,
    CountLocation,
    CountSession,
    CountStatus,
)

QUANTITY = DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)


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


# Walking order: bin by pick sequence, then product, then lot. ``counting_lines``
# sorts by these and ``walking_position`` numbers the lines by the same columns,
# so a position always falls on the page that shows its line.
WALKING_ORDER = ("location__pick_sequence", "location__code", "product__sku", "lot__code", "id")


def counting_lines(session: CountSession) -> QuerySet[CountLine]:
    """The lines to count, in walking order: bin, then product, then lot.

    Blind: nothing here reads a balance, so the counting screen has no
    expected quantity to show even by mistake.
    """
    return (
        CountLine.objects.filter(session=session)
        .select_related("location", "lot", "product", "counted_by")
        .order_by(*WALKING_ORDER)
    )


def walking_position(session: CountSession, *, line_id: int | None = None) -> int | None:
    """The place (from 1) in walking order of line ``line_id``, or of the first line not counted.

    ``None`` when there is no such line (every line counted). One query
    whatever the number of lines: a window numbers them in the order of
    ``WALKING_ORDER`` and the wanted one is picked from the numbered rows.
    """
    wanted = "walked.id = %s" if line_id is not None else "walked.counted_quantity IS NULL"
    sql = f"""
        SELECT walked.position FROM (
            SELECT line.id, line.counted_quantity,
                   row_number() OVER (ORDER BY location.pick_sequence, location.code,
                                               product.sku, lot.code, line.id) AS position
              FROM inventory_countline line
              JOIN warehouse_location location ON location.id = line.location_id
              JOIN inventory_product product ON product.id = line.product_id
              JOIN inventory_lot lot ON lot.id = line.lot_id
             WHERE line.session_id = %s
        ) walked
        WHERE {wanted}
        ORDER BY walked.position
        LIMIT 1
    """
    parameters = [session.pk] if line_id is None else [session.pk, line_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        row = cursor.fetchone()
    return row[0] if row else None


def count_progress(session: CountSession) -> dict:
    """How many lines the whole count has and how many are counted (never what they hold)."""
    return CountLine.objects.filter(session=session).aggregate(
        total=Count("pk"), counted=Count("pk", filter=Q(counted_quantity__isnull=False))
    )


def review_lines(session: CountSession) -> QuerySet[CountLine]:
    """The lines of a count beside the books: ``expected``, ``variance``, ``variance_value``.

    Before posting, expected is the balance now (what posting would compare
    with); a posted count shows what it was posted against. ``variance`` is
    counted minus expected (null while a line has no count) and
    ``variance_value`` its worth at the lot's cost, unrounded: the database
    sorts and pages by them, so a page costs the same whatever the count holds.
    """
    if session.status == CountStatus.POSTED:
        expected = F("expected_quantity")
    else:
        on_hand = Balance.objects.filter(lot=OuterRef("lot"), location=OuterRef("location"))
        expected = Coalesce(
            Subquery(on_hand.values("on_hand")[:1]), Decimal(0), output_field=QUANTITY
        )
    return (
        counting_lines(session)
        .annotate(expected=expected)
        .annotate(
            variance=ExpressionWrapper(
                F("counted_quantity") - F("expected"), output_field=QUANTITY
            ),
        )
        .annotate(
            variance_value=ExpressionWrapper(
                F("variance") * F("lot__unit_cost"), output_field=DecimalField()
            )
        )
    )


@dataclass
class CountReview:
    """The totals of a count's differences, over every line (the table pages the lines)."""

    line_total: int
    differing: int
    gain_value: Decimal
    loss_value: Decimal
    total_value: Decimal  # gains and losses both counted: what approval is judged on
    threshold: Decimal
    is_posted: bool

    @property
    def needs_approval(self) -> bool:
        return self.total_value > self.threshold


def count_review(session: CountSession, *, threshold: Decimal) -> CountReview:
    """How many lines differ and what the differences are worth, gains and losses apart.

    Each line's value is rounded to the cent by ``difference_value`` and summed
    here, as posting does, so the total judged against the approval limit on
    this screen is the one posting will judge. One query of two numbers a line.
    """
    gains = losses = Decimal(0)
    line_total = differing = 0
    rows = review_lines(session).order_by().values_list("variance", "lot__unit_cost")
    for variance, unit_cost in rows:
        line_total += 1
        if variance is None:
            continue
        if variance:
            differing += 1
        value = difference_value(variance, unit_cost)
        if value > 0:
            gains += value
        else:
            losses += -value
    return CountReview(
        line_total=line_total,
        differing=differing,
        gain_value=gains,
        loss_value=losses,
        total_value=gains + losses,
        threshold=threshold,
        is_posted=session.status == CountStatus.POSTED,
    )

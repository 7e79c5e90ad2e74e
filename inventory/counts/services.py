"""Cycle counts: start a count, save what is counted, submit, post or cancel.

A count moves ``OPEN -> SUBMITTED -> POSTED`` (or to ``CANCELLED``), and
each move is one conditional ``UPDATE`` of the session row in the status it
leaves: two people pressing the same button (a double click, two managers)
move it once, and the second is told what happened.

Saving a line takes a shared lock on the session row and checks that it is
still open. Shared locks do not block each other, so several counters save
lines of one count at once; a submit's ``UPDATE`` waits for the saves in
flight and every later save finds the count submitted, so nothing is counted
into a count that is already in review.

Posting computes each difference against the balance at posting time, under
the balance row locks that ``post_count`` takes: stock that moved between
counting and posting (a pick, a receipt) is not counted twice; the count
states what is on the shelf now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from inventory.core.errors import (
    LocationNotFound,
    LotNotFound,
    ProductNotFound,
    ValidationFailed,
    WarehouseNotFound,
)
from inventory.core.idempotency import operation_for
from inventory.core.locks import lock_balances
from inventory.core.quantities import parse_quantity
from inventory.core.validation import owned, owned_location
from inventory.counts.errors import (
    CountIncomplete,
    CountLineNotFound,
    CountNeedsApproval,
    CountNotFound,
    CountNotInReview,
    CountNotOpen,
    CountOverlaps,
    LotAlreadyOnCount,
)
from inventory.ledger.posting import Actor
from inventory.models import (
    Balance,
    CountLine,
    CountLocation,
    CountSession,
    CountStatus,
    Lot,
    Product,
)
from inventory.stock.counts import CountLine as CountedLine
from inventory.stock.counts import post_count
from warehouse.models import Location, Membership, Role, Tenant, Warehouse
from warehouse.tenancy import tenant_context

# A bin count names its bins one by one (codes typed or scanned): a bound on
# what one request may ask for.
MAX_COUNT_BINS = 100
CENT = Decimal("0.01")
# Counts that still claim their bins (or product): a second count of them waits.
ACTIVE_STATUSES = (CountStatus.OPEN, CountStatus.SUBMITTED)
# First key of the two-key transaction advisory lock on starting counts in a warehouse.
COUNT_START_NAMESPACE = 0x4354  # "CT"


def difference_value(difference: Decimal, unit_cost: Decimal) -> Decimal:
    """What a difference is worth at the lot's unit cost, to the cent (a loss is negative)."""
    return (difference * unit_cost).quantize(CENT)


def start_count(
    *,
    tenant: Tenant,
    warehouse: Warehouse,
    user,
    locations: Sequence[Location] = (),
    product: Product | None = None,
) -> CountSession:
    """Open a count of some bins of ``warehouse``, or of one product in it.

    Creates the session, its bins (a bin count) and one line per lot with
    stock in the scope now; the quantities are not copied (the count is
    blind, and posting reads the balances then). Starts in one warehouse
    take turns (see ``_refuse_overlap``). Raises ``CountOverlaps`` (a bin or
    the product is in a count open or in review), ``ValidationFailed``
    (neither or both scopes, too many bins),
    ``WarehouseNotFound``, ``LocationNotFound``, ``ProductNotFound``.
    """
    owned(warehouse, tenant, WarehouseNotFound, Warehouse)
    if bool(locations) == (product is not None):
        raise ValidationFailed("Count either some bins or one product.")
    if len(locations) > MAX_COUNT_BINS:
        raise ValidationFailed(f"Count at most {MAX_COUNT_BINS} bins at once.")
    for location in locations:
        owned_location(location, warehouse, tenant)
    if product is not None:
        owned(product, tenant, ProductNotFound, Product)
    location_ids = sorted({location.pk for location in locations})
    with tenant_context(tenant.pk):
        _refuse_overlap(warehouse, location_ids, product)
        session = CountSession.objects.create(
            tenant=tenant, warehouse=warehouse, product=product, created_by=user
        )
        balances = Balance.objects.filter(warehouse=warehouse, on_hand__gt=0)
        if product is not None:
            balances = balances.filter(product=product)
        else:
            CountLocation.objects.bulk_create(
                CountLocation(tenant=tenant, session=session, location_id=location_id)
                for location_id in location_ids
            )
            balances = balances.filter(location_id__in=location_ids)
        CountLine.objects.bulk_create(
            CountLine(
                tenant=tenant,
                session=session,
                location_id=balance.location_id,
                lot_id=balance.lot_id,
                product_id=balance.product_id,
            )
            for balance in balances.order_by("location_id", "lot_id")
        )
        return session


def _refuse_overlap(warehouse: Warehouse, location_ids: list[int], product: Product | None):
    """Refuse a count of bins (or a product) that an open or in-review count already covers.

    Two counts of one shelf would each post their own truth. Starts in one
    warehouse take turns (a transaction advisory lock on the warehouse, held
    to commit), so two starts at once cannot both miss each other.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [COUNT_START_NAMESPACE, int(warehouse.pk) & 0x7FFFFFFF],
        )
    active = CountSession.objects.filter(warehouse=warehouse, status__in=ACTIVE_STATUSES)
    if product is not None:
        clash = active.filter(product=product).order_by("pk").first()
        if clash is not None:
            raise CountOverlaps(
                f"{product.sku} is already being counted in count {clash.pk}: "
                "finish or cancel that count first."
            )
        return
    clash = (
        CountLocation.objects.filter(session__in=active, location_id__in=location_ids)
        .select_related("location")
        .order_by("session_id", "location__code")
        .first()
    )
    if clash is not None:
        raise CountOverlaps(
            f"Bin {clash.location.code} is already being counted in count {clash.session_id}: "
            "finish or cancel that count first."
        )


def _hold_open(session: CountSession) -> None:
    """Share-lock the session row and insist it is still being counted.

    ``FOR SHARE``: savers do not wait for each other, while a submit or a
    cancel (an ``UPDATE`` of the row) waits for them and they for it.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status FROM inventory_countsession WHERE id = %s FOR SHARE", [session.pk]
        )
        row = cursor.fetchone()
    if row is None:
        raise CountNotFound()
    if row[0] != CountStatus.OPEN:
        raise CountNotOpen(_closed_message(session.pk, row[0]))


def _closed_message(session_id: int, status: str) -> str:
    label = CountStatus(status).label.lower()
    return f"Count {session_id} is {label}; nothing more can be counted into it."


def _counted(value, product: Product) -> Decimal:
    return parse_quantity(
        value, places=product.quantity_places, allow_zero=True, what="counted quantity"
    )


def save_count_line(
    *, tenant: Tenant, session: CountSession, line_id: int, quantity, user
) -> CountLine:
    """Record what was counted on one line (again: the last count of a line wins).

    Share-locks the session (see the module). Raises ``CountNotOpen``,
    ``CountLineNotFound``, ``InvalidQuantity`` (negative, too many decimals
    for the unit, too large).
    """
    owned(session, tenant, CountNotFound, CountSession)
    with tenant_context(tenant.pk):
        _hold_open(session)
        try:
            line = CountLine.objects.select_related("product", "lot", "location").get(
                pk=line_id, session=session
            )
        except (CountLine.DoesNotExist, ValueError, TypeError):
            raise CountLineNotFound() from None
        line.counted_quantity = _counted(quantity, line.product)
        line.counted_by = user
        line.counted_at = timezone.now()
        line.save(update_fields=["counted_quantity", "counted_by", "counted_at"])
        return line


def add_found_lot(
    *, tenant: Tenant, session: CountSession, location: Location, lot: Lot, quantity, user
) -> CountLine:
    """Add a lot found on the shelf that the count did not list, with its counted quantity.

    The bin must be one the count covers (a bin count) or a bin of its
    warehouse holding the counted product (a product count). Share-locks the
    session. Raises ``CountNotOpen``, ``LocationNotFound``, ``LotNotFound``,
    ``LotAlreadyOnCount``, ``InvalidQuantity``.
    """
    owned(session, tenant, CountNotFound, CountSession)
    owned(lot, tenant, LotNotFound, Lot)
    with tenant_context(tenant.pk):
        owned_location(location, session.warehouse, tenant)
        _hold_open(session)
        if session.product_id is not None:
            if lot.product_id != session.product_id:
                raise LotNotFound(
                    f"Lot {lot.code} is not of {session.product.sku}, the product counted."
                )
        elif not CountLocation.objects.filter(session=session, location=location).exists():
            raise LocationNotFound(f"Bin {location.code} is not part of this count.")
        counted = _counted(quantity, lot.product)
        if CountLine.objects.filter(session=session, lot=lot, location=location).exists():
            raise _already_on_count(lot, location)
        try:
            # The unique key decides between two counters adding the same lot at
            # once; the savepoint keeps the loser's transaction usable for its answer.
            with transaction.atomic():
                line = CountLine.objects.create(
                    tenant=tenant,
                    session=session,
                    location=location,
                    lot=lot,
                    product_id=lot.product_id,
                    is_found=True,
                    counted_quantity=counted,
                    counted_by=user,
                    counted_at=timezone.now(),
                )
        except IntegrityError:
            raise _already_on_count(lot, location) from None
        return line


def _already_on_count(lot: Lot, location: Location) -> LotAlreadyOnCount:
    return LotAlreadyOnCount(
        f"Lot {lot.code} at {location.code} is already on this count: enter its quantity on "
        "its line."
    )


def submit_count(*, tenant: Tenant, session: CountSession, user) -> CountSession:
    """Hand a fully counted count over for review: ``OPEN -> SUBMITTED``, once.

    The conditional ``UPDATE`` locks the session row, waiting for line saves
    in flight. Raises ``CountNotOpen`` (already submitted, posted or
    cancelled) and ``CountIncomplete`` (a line without a count, or no line).
    """
    owned(session, tenant, CountNotFound, CountSession)
    with tenant_context(tenant.pk):
        now = timezone.now()
        moved = CountSession.objects.filter(pk=session.pk, status=CountStatus.OPEN).update(
            status=CountStatus.SUBMITTED, submitted_by=user, submitted_at=now
        )
        if not moved:
            raise CountNotOpen(_closed_message(session.pk, _status_of(session)))
        lines = CountLine.objects.filter(session=session)
        uncounted = lines.filter(counted_quantity__isnull=True).count()
        if uncounted:
            raise CountIncomplete(
                f"{uncounted} line{'s' if uncounted != 1 else ''} still "
                f"{'have' if uncounted != 1 else 'has'} no count. Enter what is on the shelf "
                "(0 when the bin holds none of the lot)."
            )
        if not lines.exists():
            raise CountIncomplete(
                "Nothing was counted: add the lots found on the shelf, or cancel the count."
            )
        session.status, session.submitted_by, session.submitted_at = (
            CountStatus.SUBMITTED,
            user,
            now,
        )
        return session


def _status_of(session: CountSession) -> str:
    return CountSession.objects.values_list("status", flat=True).get(pk=session.pk)


@dataclass(frozen=True)
class PostedCount:
    session: CountSession
    entries: int  # COUNT entries written: one per line that differed
    total_value: Decimal  # the absolute value of the differences, at lot cost


def is_manager(tenant: Tenant, user) -> bool:
    """Does ``user`` hold the manager role (or admin) in ``tenant``? Call in its context."""
    membership = Membership.objects.filter(tenant=tenant, user=user).first()
    return membership is not None and membership.has_role(Role.MANAGER)


def post_count_session(
    *, tenant: Tenant, session: CountSession, user, approve: bool = False
) -> PostedCount:
    """Post a submitted count: ``SUBMITTED -> POSTED`` and its differences as ``COUNT`` entries.

    The conditional ``UPDATE`` makes posting happen once (a second post
    waits for the first and finds the count posted: ``CountNotInReview``).
    Then ``post_count`` locks the lines' balance rows (``inventory.core.locks``
    order) and writes one entry per line whose count differs from the balance
    now. When the differences are worth more in total (gains and losses both
    count, at lot cost) than the tenant's ``count_approval_value``, only a
    manager approving (``approve``) may post; anyone else gets
    ``CountNeedsApproval`` and the count stays in review. Also raises
    ``InsufficientStock`` (counted less than is reserved), and
    ``CountNeedsApproval`` when someone who is not a manager approves.
    """
    owned(session, tenant, CountNotFound, CountSession)
    actor = Actor.user(user)
    with tenant_context(tenant.pk):
        if approve and not is_manager(tenant, user):
            raise CountNeedsApproval("Only a manager can approve a count.")
        operation = operation_for(None, tenant=tenant, kind="count")
        now = timezone.now()
        changes = {"status": CountStatus.POSTED, "posted_by": user, "posted_at": now}
        if approve:
            changes.update(approved_by=user, approved_at=now)
        moved = CountSession.objects.filter(pk=session.pk, status=CountStatus.SUBMITTED).update(
            operation=operation, **changes
        )
        if not moved:
            status = _status_of(session)
            if status == CountStatus.POSTED:
                raise CountNotInReview(
                    f"Count {session.pk} is already posted; nothing was posted twice."
                )
            raise CountNotInReview(
                f"Count {session.pk} is {CountStatus(status).label.lower()}, not in review."
            )
        lines = list(
            CountLine.objects.filter(session=session)
            .select_related("lot", "location")
            .order_by("id")
        )
        # The balance rows are locked before the difference is weighed, so the
        # value judged is the value posted (post_count re-locks them at no cost).
        balances = lock_balances([(line.lot, line.location) for line in lines])
        total = Decimal(0)
        for line in lines:
            on_hand = balances[(line.lot_id, line.location_id)].on_hand
            line.expected_quantity = on_hand
            line.difference = line.counted_quantity - on_hand
            total += abs(difference_value(line.difference, line.lot.unit_cost))
        threshold = tenant.count_approval_value
        if total > threshold and not approve:
            raise CountNeedsApproval(
                f"The differences are worth {total:,.2f} in total, more than the "
                f"{threshold:,.2f} a count may post without approval: a manager must approve it."
            )
        results = post_count(
            tenant=tenant,
            warehouse=session.warehouse,
            lines=[CountedLine(line.lot, line.location, line.counted_quantity) for line in lines],
            actor=actor,
            reason=f"Cycle count {session.pk}",
            operation=operation,
        )
        CountLine.objects.bulk_update(lines, ["expected_quantity", "difference"])
        session.refresh_from_db()
        return PostedCount(
            session=session,
            entries=sum(1 for result in results if result.entry is not None),
            total_value=total,
        )


def cancel_count(*, tenant: Tenant, session: CountSession, user) -> CountSession:
    """Abandon a count that is not posted: ``OPEN | SUBMITTED -> CANCELLED``; writes no stock.

    Raises ``CountNotInReview`` when it is already posted or cancelled.
    """
    owned(session, tenant, CountNotFound, CountSession)
    with tenant_context(tenant.pk):
        moved = CountSession.objects.filter(
            pk=session.pk, status__in=[CountStatus.OPEN, CountStatus.SUBMITTED]
        ).update(status=CountStatus.CANCELLED, cancelled_by=user, cancelled_at=timezone.now())
        if not moved:
            status = CountStatus(_status_of(session)).label.lower()
            raise CountNotInReview(f"Count {session.pk} is {status}; it cannot be cancelled.")
        session.refresh_from_db()
        return session

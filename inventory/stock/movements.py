"""Stock changes of existing lots: adjustments, plain shipments and moves between bins.

One transaction each, writing ledger entries and balances together through
``inventory.ledger.posting``. Each takes an optional ``operation`` (the
idempotency record whose entries it writes; without one a generated one).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import timezone

from inventory.core.errors import LocationNotFound, LotNotApproved, LotNotFound, ValidationFailed
from inventory.core.idempotency import operation_for
from inventory.core.locks import lock_balances
from inventory.core.quantities import parse_quantity
from inventory.core.validation import MAX_REASON_LENGTH, aware_time, clean_text, owned
from inventory.ledger.posting import SYSTEM, Actor, Posting, post_entries
from inventory.models import LedgerEntry, LedgerKind, Lot, Operation, Product, QcStatus
from warehouse.models import Location, Tenant
from warehouse.tenancy import tenant_context


class AdjustmentReason(models.TextChoices):
    """Why a manager adds or removes stock by hand (the adjustments screen)."""

    DAMAGED = "damaged", "Damaged"
    EXPIRED = "expired", "Expired"
    FOUND = "found", "Found"
    THEFT = "theft", "Theft"
    OTHER = "other", "Other"


def adjustment_reason_text(reason: str, note: str = "") -> str:
    """The ledger text of an adjustment: the reason's label and the note (``Damaged: crushed``).

    The ledger keeps text, not a code, so the history reads the same whatever
    the list of reasons becomes. "Other" says nothing by itself and needs a
    note. Raises ``ValidationFailed`` for an unknown reason or "other"
    without a note, and for a note too long to record with its label.
    """
    if reason not in AdjustmentReason.values:
        choices = ", ".join(label.lower() for label in AdjustmentReason.labels)
        raise ValidationFailed(f"Choose a reason: {choices}.")
    label = AdjustmentReason(reason).label
    note = clean_text(
        note, what="note", max_length=MAX_REASON_LENGTH - len(label) - 2, required=False
    )
    if reason == AdjustmentReason.OTHER and not note:
        raise ValidationFailed("Say what happened: “Other” needs a note.")
    return f"{label}: {note}" if note else label


@dataclass(frozen=True)
class Move:
    out_entry: LedgerEntry
    in_entry: LedgerEntry


def adjust_stock(
    *,
    tenant: Tenant,
    lot: Lot,
    location: Location,
    quantity_delta: Any,
    reason: str,
    actor: Actor = SYSTEM,
    occurred_at: datetime.datetime | None = None,
    operation: Operation | None = None,
) -> LedgerEntry:
    """Add (positive delta) or remove (negative) stock of ``lot`` at ``location``.

    Writes one ``ADJUST`` entry with the reason. The single conditional update
    of the balance row is its only lock. Raises ``InsufficientStock`` when the
    removal would take the balance below zero (or below what is reserved),
    ``InvalidQuantity`` (zero, too precise, too large), ``ValidationFailed``
    (missing reason), ``LotNotFound``, ``LocationNotFound``.
    """
    owned(lot, tenant, LotNotFound, Lot)
    owned(location, tenant, LocationNotFound, Location)
    reason = clean_text(reason, what="reason", max_length=MAX_REASON_LENGTH)
    with tenant_context(tenant.pk):
        product = Product.objects.get(pk=lot.product_id)
        delta = parse_quantity(
            quantity_delta,
            places=product.quantity_places,
            allow_negative=True,
            what="quantity delta",
        )
        occurred_at = aware_time(occurred_at)
        operation = operation_for(operation, tenant=tenant, kind="adjustment")
        (entry,) = post_entries(
            tenant=tenant,
            operation=operation,
            actor=actor,
            postings=[Posting(LedgerKind.ADJUST, lot, location, delta, reason)],
            occurred_at=occurred_at,
        )
        return entry


def ship_stock(
    *,
    tenant: Tenant,
    lot: Lot,
    location: Location,
    quantity: Any,
    actor: Actor = SYSTEM,
    reference: str = "",
    occurred_at: datetime.datetime | None = None,
    operation: Operation | None = None,
) -> LedgerEntry:
    """Send ``quantity`` of ``lot`` out of the warehouse from ``location``.

    A plain shipment of free stock (orders and their reservations will issue
    through their own service). Writes one ``SHIP`` entry with the reference
    as its reason; the conditional update of the balance row is its only
    lock and leaves what is reserved untouched. Raises ``LotNotApproved``
    (quarantined, rejected or expired lot), ``InsufficientStock``,
    ``InvalidQuantity``, ``LotNotFound``, ``LocationNotFound``.
    """
    owned(lot, tenant, LotNotFound, Lot)
    owned(location, tenant, LocationNotFound, Location)
    reference = clean_text(
        reference, what="reference", max_length=MAX_REASON_LENGTH, required=False
    )
    occurred_at = aware_time(occurred_at)
    with tenant_context(tenant.pk):
        lot = Lot.objects.select_related("product").get(pk=lot.pk)
        if not lot.is_available_on(timezone.localdate(occurred_at)):
            state = (
                f"expired on {lot.expires_on}"
                if lot.qc_status == QcStatus.APPROVED
                else lot.get_qc_status_display().lower()
            )
            raise LotNotApproved(f"Lot {lot.code} is {state}; it cannot be shipped.")
        quantity = parse_quantity(quantity, places=lot.product.quantity_places)
        operation = operation_for(operation, tenant=tenant, kind="shipment")
        (entry,) = post_entries(
            tenant=tenant,
            operation=operation,
            actor=actor,
            postings=[Posting(LedgerKind.SHIP, lot, location, -quantity, reference)],
            occurred_at=occurred_at,
        )
        return entry


def move_stock(
    *,
    tenant: Tenant,
    lot: Lot,
    from_location: Location,
    to_location: Location,
    quantity: Any,
    actor: Actor = SYSTEM,
    reason: str = "",
    occurred_at: datetime.datetime | None = None,
    operation: Operation | None = None,
) -> Move:
    """Move ``quantity`` of ``lot`` between two bins of one warehouse.

    Writes a ``MOVE_OUT`` and a ``MOVE_IN`` entry. Locks both balance rows in
    the order of ``inventory.core.locks`` first, so opposite moves cannot deadlock.
    Raises ``InsufficientStock``, ``InvalidQuantity``, ``LotNotFound``,
    ``LocationNotFound``, ``ValidationFailed`` (same bin, or bins of two
    warehouses).
    """
    owned(lot, tenant, LotNotFound, Lot)
    owned(from_location, tenant, LocationNotFound, Location)
    owned(to_location, tenant, LocationNotFound, Location)
    if from_location.pk == to_location.pk:
        raise ValidationFailed("A move needs two different locations.")
    if from_location.warehouse_id != to_location.warehouse_id:
        raise ValidationFailed("Both locations of a move must be in the same warehouse.")
    if not to_location.is_active:
        raise LocationNotFound(f"Location {to_location.code} is not in use.")
    reason = clean_text(reason, what="reason", max_length=MAX_REASON_LENGTH, required=False)
    with tenant_context(tenant.pk):
        product = Product.objects.get(pk=lot.product_id)
        quantity = parse_quantity(quantity, places=product.quantity_places)
        occurred_at = aware_time(occurred_at)
        operation = operation_for(operation, tenant=tenant, kind="move")
        lock_balances([(lot, from_location), (lot, to_location)])
        out_entry, in_entry = post_entries(
            tenant=tenant,
            operation=operation,
            actor=actor,
            postings=[
                Posting(LedgerKind.MOVE_OUT, lot, from_location, -quantity, reason),
                Posting(LedgerKind.MOVE_IN, lot, to_location, quantity, reason),
            ],
            occurred_at=occurred_at,
        )
        return Move(out_entry=out_entry, in_entry=in_entry)

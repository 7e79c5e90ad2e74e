"""QC decisions on lots: approve, reject, and reverse a decision.

Each decision is one conditional ``UPDATE`` of the lot row (of two
inspectors deciding at once, the second is refused and told who decided)
and one row of the append-only QC history (``QcDecision``).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from inventory.core.errors import (
    LotNotDecided,
    LotNotFound,
    LotNotInQuarantine,
    LotReserved,
    ValidationFailed,
)
from inventory.core.locks import lock_balances
from inventory.core.validation import aware_time, clean_text, owned
from inventory.ledger.posting import SYSTEM, Actor
from inventory.models import ApiToken, Balance, Lot, QcDecision, QcDecisionKind, QcStatus
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context

MAX_NOTE_LENGTH = 2000


def _decided_by_name(lot: Lot) -> str:
    """Who made the lot's current QC decision, in words (a person, an API token, the system)."""
    if lot.qc_by_id is not None:
        user = lot.qc_by
        return user.get_full_name() or user.get_username()
    if lot.qc_by_token_id is not None:
        token = ApiToken.objects.filter(pk=lot.qc_by_token_id).first()
        return f"API token {token.name!r}" if token else "an API client"
    return "the system"


def _already_decided(lot: Lot) -> str:
    when = timezone.localtime(lot.qc_at)
    return (
        f"Lot {lot.code} was already {lot.get_qc_status_display().lower()} by "
        f"{_decided_by_name(lot)} at {when:%H:%M} on {when:%d %b %Y}."
    )


def _record_decision(
    *, tenant: Tenant, lot: Lot, kind: str, previous: str, status: str, actor: Actor, note, at
) -> QcDecision:
    return QcDecision.objects.create(
        tenant=tenant,
        lot_id=lot.pk,
        kind=kind,
        previous_status=previous,
        status=status,
        note=note,
        decided_by_id=actor.user_id,
        decided_by_token_id=actor.api_token_id,
        decided_at=at,
    )


def _decide(*, tenant: Tenant, lot: Lot, status: QcStatus, actor: Actor, note: Any, at) -> Lot:
    owned(lot, tenant, LotNotFound, Lot)
    note = clean_text(note, what="note", max_length=MAX_NOTE_LENGTH, required=False)
    at = aware_time(at)
    with tenant_context(tenant.pk):
        # One conditional UPDATE: of two inspectors deciding at once, the second
        # finds the lot no longer in quarantine.
        changed = Lot.objects.filter(pk=lot.pk, qc_status=QcStatus.QUARANTINE).update(
            qc_status=status,
            qc_by_id=actor.user_id,
            qc_by_token_id=actor.api_token_id,
            qc_at=at,
            qc_note=note,
        )
        if not changed:
            current = Lot.objects.select_related("qc_by").filter(pk=lot.pk).first()
            if current is None:
                raise LotNotFound()
            # Say who got there first, so the late decision is not silently lost.
            raise LotNotInQuarantine(_already_decided(current))
        _record_decision(
            tenant=tenant,
            lot=lot,
            kind=QcDecisionKind.DECISION,
            previous=QcStatus.QUARANTINE,
            status=status,
            actor=actor,
            note=note,
            at=at,
        )
        return Lot.objects.select_related("product", "qc_by").get(pk=lot.pk)


def approve_lot(
    *,
    tenant: Tenant,
    lot: Lot,
    actor: Actor = SYSTEM,
    note: str = "",
    at: datetime.datetime | None = None,
) -> Lot:
    """Release a quarantined lot: its stock becomes available.

    Records who (user or token), when (``at``, default now) and the note on the
    lot; the one conditional ``UPDATE`` of the lot row is its only lock.
    Raises ``LotNotFound``, ``LotNotInQuarantine`` (already decided) or
    ``ValidationFailed``. Returns the lot as stored.
    """
    return _decide(tenant=tenant, lot=lot, status=QcStatus.APPROVED, actor=actor, note=note, at=at)


def reject_lot(
    *,
    tenant: Tenant,
    lot: Lot,
    actor: Actor = SYSTEM,
    note: str = "",
    at: datetime.datetime | None = None,
) -> Lot:
    """Reject a quarantined lot: its stock stays on hand but is never available.

    Same record and errors as ``approve_lot``.
    """
    return _decide(tenant=tenant, lot=lot, status=QcStatus.REJECTED, actor=actor, note=note, at=at)


def reverse_qc_decision(
    *,
    tenant: Tenant,
    lot: Lot,
    actor: Actor,
    reason: str,
    status: str,
    previous_status: str | None = None,
    at: datetime.datetime | None = None,
) -> Lot:
    """Correct a QC decision: an approved or rejected lot goes to ``status``.

    ``status`` is ``QUARANTINE`` (decide again) or the other decision.
    ``previous_status`` is the decision being reversed (default: the status
    ``lot`` carries); if the lot has moved on since, nothing changes. Records
    the reversal (who, when, the required reason) in the QC history and on the
    lot. Taking an approved lot out of stock while reservations hold part of
    it would leave reserved stock in a lot that may not be reserved, so that
    is refused: the lot's balance rows are locked (``inventory.core.locks`` order)
    before their reserved quantities are read, so a reservation either
    committed first (and is seen) or waits for the reversal.

    Raises ``LotNotFound``, ``LotNotDecided`` (in quarantine, or no longer in
    ``previous_status``), ``LotReserved``, ``ValidationFailed`` (no reason,
    an unknown or unchanged status).
    """
    owned(lot, tenant, LotNotFound, Lot)
    reason = clean_text(reason, what="reason", max_length=MAX_NOTE_LENGTH)
    if status not in QcStatus.values:
        raise ValidationFailed(f"Unknown QC status {status!r}.")
    previous = lot.qc_status if previous_status is None else previous_status
    if previous not in (QcStatus.APPROVED, QcStatus.REJECTED):
        raise LotNotDecided(f"Lot {lot.code} has no QC decision to reverse.")
    if status == previous:
        raise ValidationFailed(f"Lot {lot.code} is already {QcStatus(status).label.lower()}.")
    at = aware_time(at)
    with tenant_context(tenant.pk):
        if previous == QcStatus.APPROVED:
            holdings = Balance.objects.filter(lot_id=lot.pk).select_related("location", "lot")
            locked = lock_balances([(balance.lot, balance.location) for balance in holdings])
            reserved = sum((balance.reserved for balance in locked.values()), Decimal(0))
            if reserved:
                raise LotReserved(
                    f"{reserved.normalize():f} of lot {lot.code} is reserved; release or "
                    f"issue those reservations before reversing its approval."
                )
        decided = status != QcStatus.QUARANTINE
        changed = Lot.objects.filter(pk=lot.pk, qc_status=previous).update(
            qc_status=status,
            qc_by_id=actor.user_id if decided else None,
            qc_by_token_id=actor.api_token_id if decided else None,
            qc_at=at if decided else None,
            qc_note=f"Reversed: {reason}" if decided else "",
        )
        if not changed:
            current = Lot.objects.select_related("qc_by").filter(pk=lot.pk).first()
            if current is None:
                raise LotNotFound()
            if current.qc_status == QcStatus.QUARANTINE:
                raise LotNotDecided(
                    f"Lot {lot.code} is back in quarantine; decide it in the queue."
                )
            raise LotNotDecided(_already_decided(current))
        _record_decision(
            tenant=tenant,
            lot=lot,
            kind=QcDecisionKind.REVERSAL,
            previous=previous,
            status=status,
            actor=actor,
            note=reason,
            at=at,
        )
        return Lot.objects.select_related("product", "qc_by").get(pk=lot.pk)

"""QC decisions: explicit, stale ones refused by name, reversals recorded."""

import datetime

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from inventory.core import errors
from inventory.ledger.posting import Actor
from inventory.lots.selectors import recent_qc_decisions
from inventory.lots.services import approve_lot, reject_lot, reverse_qc_decision
from inventory.models import Lot, QcDecision, QcDecisionKind, QcStatus
from inventory.reservations.allocation import reserve_stock
from inventory.reservations.requests import LineRequest
from inventory.stock.receipts import receive_stock
from inventory.stock.selectors import stock_summary
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def lot(tenant, site, vaccine):
    return receive_stock(
        tenant=tenant, product=vaccine, warehouse=site, lot_code="L-77", quantity=40
    ).lot


def history(tenant, lot):
    with tenant_context(tenant.id):
        return list(
            QcDecision.objects.filter(lot_id=lot.pk)
            .order_by("decided_at", "id")
            .values_list("kind", "previous_status", "status", "note", "decided_by_id")
        )


def current(tenant, lot):
    with tenant_context(tenant.id):
        return Lot.objects.get(pk=lot.pk)


def available(tenant, product):
    return stock_summary(tenant=tenant, product=product).available


def test_a_decision_is_recorded_in_the_history(tenant, lot, inspector):
    reject_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector), note="Seal broken")
    assert history(tenant, lot) == [
        ("DECISION", "QUARANTINE", "REJECTED", "Seal broken", inspector.pk)
    ]


def test_a_stale_decision_names_who_decided_and_when_and_changes_nothing(
    tenant, lot, inspector, manager
):
    decided_at = timezone.make_aware(datetime.datetime(2026, 3, 2, 10, 42))
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector), at=decided_at)
    with pytest.raises(errors.LotNotInQuarantine) as refused:
        reject_lot(tenant=tenant, lot=lot, actor=Actor.user(manager), note="Seal broken")
    assert refused.value.message == (
        "Lot L-77 was already approved by Inspector at 10:42 on 02 Mar 2026."
    )
    stored = current(tenant, lot)
    assert (stored.qc_status, stored.qc_by_id, stored.qc_note) == ("APPROVED", inspector.pk, "")
    assert len(history(tenant, lot)) == 1


def test_a_stale_decision_names_the_api_token_that_decided(tenant, lot, manager):
    from inventory.core.tokens import issue_api_token

    token, _ = issue_api_token(tenant=tenant, name="LIMS")
    reject_lot(tenant=tenant, lot=lot, actor=Actor.token(token), note="Failed assay")
    with pytest.raises(errors.LotNotInQuarantine, match="already rejected by API token 'LIMS'"):
        approve_lot(tenant=tenant, lot=lot, actor=Actor.user(manager))


def test_manager_sends_an_approved_lot_back_to_quarantine(tenant, lot, vaccine, inspector, manager):
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector))
    assert available(tenant, vaccine) == 40
    reversed_lot = reverse_qc_decision(
        tenant=tenant,
        lot=current(tenant, lot),
        actor=Actor.user(manager),
        reason="Approved the wrong lot",
        status=QcStatus.QUARANTINE,
    )
    assert (reversed_lot.qc_status, reversed_lot.qc_at, reversed_lot.qc_by_id) == (
        "QUARANTINE",
        None,
        None,
    )
    assert available(tenant, vaccine) == 0
    assert history(tenant, lot)[-1] == (
        "REVERSAL",
        "APPROVED",
        "QUARANTINE",
        "Approved the wrong lot",
        manager.pk,
    )
    # Back in the queue, it can be decided again.
    reject_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector), note="Seal broken")
    assert current(tenant, lot).qc_status == QcStatus.REJECTED


def test_manager_flips_a_rejection_to_an_approval(tenant, lot, vaccine, inspector, manager):
    reject_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector), note="Dent")
    approved = reverse_qc_decision(
        tenant=tenant,
        lot=current(tenant, lot),
        actor=Actor.user(manager),
        reason="Dent is cosmetic",
        status=QcStatus.APPROVED,
    )
    assert (approved.qc_status, approved.qc_by_id) == ("APPROVED", manager.pk)
    assert approved.qc_note == "Reversed: Dent is cosmetic"
    assert available(tenant, vaccine) == 40
    with tenant_context(tenant.id):
        decisions = recent_qc_decisions()
    assert [(d.kind, d.status, d.is_reversible) for d in decisions] == [
        (QcDecisionKind.REVERSAL, "APPROVED", True),
        (QcDecisionKind.DECISION, "REJECTED", False),
    ]


@pytest.mark.parametrize(
    ("reason", "status", "error"),
    [
        ("", QcStatus.QUARANTINE, errors.ValidationFailed),
        ("   ", QcStatus.QUARANTINE, errors.ValidationFailed),
        ("Oops", QcStatus.APPROVED, errors.ValidationFailed),  # already approved
        ("Oops", "SHIPPED", errors.ValidationFailed),
    ],
)
def test_a_reversal_needs_a_reason_and_a_new_status(
    tenant, lot, inspector, manager, reason, status, error
):
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector))
    with pytest.raises(error):
        reverse_qc_decision(
            tenant=tenant,
            lot=current(tenant, lot),
            actor=Actor.user(manager),
            reason=reason,
            status=status,
        )
    assert current(tenant, lot).qc_status == QcStatus.APPROVED
    assert len(history(tenant, lot)) == 1


def test_a_lot_in_quarantine_has_no_decision_to_reverse(tenant, lot, manager):
    with pytest.raises(errors.LotNotDecided):
        reverse_qc_decision(
            tenant=tenant, lot=lot, actor=Actor.user(manager), reason="x", status="APPROVED"
        )


def test_a_reversal_of_a_decision_that_has_changed_since_is_refused(
    tenant, lot, inspector, manager
):
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector))
    seen = current(tenant, lot)
    reverse_qc_decision(
        tenant=tenant, lot=seen, actor=Actor.user(manager), reason="Wrong lot", status="REJECTED"
    )
    with pytest.raises(errors.LotNotDecided, match="already rejected by Manager"):
        reverse_qc_decision(
            tenant=tenant, lot=seen, actor=Actor.user(manager), reason="Again", status="QUARANTINE"
        )
    assert current(tenant, lot).qc_status == QcStatus.REJECTED


def test_an_approval_is_not_reversed_while_part_of_the_lot_is_reserved(
    tenant, site, lot, vaccine, inspector, manager
):
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector))
    reserve_stock(tenant=tenant, warehouse=site, lines=[LineRequest(product=vaccine, quantity=5)])
    with pytest.raises(errors.LotReserved, match="5 of lot L-77 is reserved"):
        reverse_qc_decision(
            tenant=tenant,
            lot=current(tenant, lot),
            actor=Actor.user(manager),
            reason="Recall",
            status=QcStatus.QUARANTINE,
        )
    assert current(tenant, lot).qc_status == QcStatus.APPROVED
    summary = stock_summary(tenant=tenant, product=vaccine)
    assert (summary.reserved, summary.available, summary.quarantined) == (5, 35, 0)


def test_the_history_is_append_only(tenant, lot, inspector):
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector))
    with tenant_context(tenant.id):
        for change in (
            lambda rows: rows.update(note="rewritten"),
            lambda rows: rows.delete(),
        ):
            with pytest.raises(DatabaseError), transaction.atomic():
                change(QcDecision.objects.filter(lot_id=lot.pk))
        assert QcDecision.objects.get(lot_id=lot.pk).note == ""


def test_another_tenant_sees_no_decisions(tenant, other_tenant, lot, inspector):
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector))
    with tenant_context(other_tenant.id):
        assert QcDecision.objects.count() == 0
        assert recent_qc_decisions() == []
    with pytest.raises(errors.LotNotFound):
        reverse_qc_decision(
            tenant=other_tenant,
            lot=current(tenant, lot),
            actor=Actor(),
            reason="x",
            status=QcStatus.QUARANTINE,
        )

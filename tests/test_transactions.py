"""Whole-transaction retries: a lock held too long ends in CONTENTION, not a server error."""

import pytest
from django.db import connections, transaction

from inventory import errors, services
from inventory.models import LedgerEntry
from inventory.transactions import run_in_transaction
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])


def test_a_lock_held_elsewhere_is_retried_then_reported_as_busy(tenant, site, flour):
    receipt = services.receive_stock(
        tenant=tenant, product=flour, warehouse=site, lot_code="F", quantity=10
    )
    calls = []

    def adjust():
        calls.append(1)
        return services.adjust_stock(
            tenant=tenant,
            lot=receipt.lot,
            location=receipt.location,
            quantity_delta=-1,
            reason="Damaged",
        )

    # Another session holds the balance row (the maintenance role sees every tenant).
    with transaction.atomic(using="maintenance"), connections["maintenance"].cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM inventory_balance WHERE lot_id = %s FOR UPDATE", [receipt.lot.pk]
        )
        with pytest.raises(errors.Contention) as caught:
            run_in_transaction(adjust, lock_timeout="50ms", attempts=3)
    assert (caught.value.status, caught.value.code) == (503, "CONTENTION")
    assert len(calls) == 3
    # Once the lock is gone the same work goes through, once.
    entry = run_in_transaction(adjust)
    with tenant_context(tenant.id):
        assert LedgerEntry.objects.filter(kind="ADJUST").get() == entry


def test_retries_must_wrap_the_whole_transaction(tenant):
    with transaction.atomic(), pytest.raises(RuntimeError):
        run_in_transaction(lambda: None)

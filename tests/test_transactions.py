"""Whole-transaction retries: a lock held too long ends in CONTENTION, not a server error."""

import pytest
from django.db import connections, transaction

from inventory.core import errors
from inventory.core.transactions import run_in_transaction
from inventory.models import LedgerEntry
from inventory.stock.movements import adjust_stock
from inventory.stock.receipts import receive_stock
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])


def test_a_lock_held_elsewhere_is_retried_then_reported_as_busy(tenant, site, flour):
    receipt = receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="F", quantity=10)
    calls = []

    def adjust():
        calls.append(1)
        return adjust_stock(
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


def test_transaction_for_a_tenant_sets_it_with_the_timeouts(tenant, other_tenant):
    """run_in_transaction(tenant_id=...) acts for the tenant from its first statement; a
    nested tenant_context for the same tenant sets nothing, one for another tenant
    restores the first on exit, and nothing is left on the connection afterwards."""
    from django.test.utils import CaptureQueriesContext

    from warehouse.tenancy import current_tenant_id

    connection = connections["default"]

    def work():
        seen = [current_tenant_id()]
        with CaptureQueriesContext(connection) as queries, tenant_context(tenant.id):
            seen.append(current_tenant_id())
        settings = [q["sql"] for q in queries.captured_queries if "set_config" in q["sql"]]
        with tenant_context(other_tenant.id):
            seen.append(current_tenant_id())
        seen.append(current_tenant_id())
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            seen.append(cursor.fetchone()[0])
        return seen, settings

    seen, settings = run_in_transaction(work, tenant_id=tenant.id, lock_timeout="1500ms")
    assert seen == [tenant.id, tenant.id, other_tenant.id, tenant.id, "1500ms"]
    assert settings == []
    assert getattr(connection, "stockyard_tenant_setting", None) is None
    assert run_in_transaction(current_tenant_id) is None


def test_transaction_settings_belong_to_an_outermost_block(tenant):
    from warehouse.tenancy import configure_transaction

    with (
        transaction.atomic(),
        pytest.raises(RuntimeError),
        transaction.atomic(),
        configure_transaction({}, tenant_id=tenant.id),
    ):
        pass
    with pytest.raises(RuntimeError), configure_transaction({}, tenant_id=tenant.id):
        pass


def test_a_write_nested_in_another_write_is_refused(tenant):
    """Retrying the inner one would repeat only part of a transaction."""

    def nested():
        return run_in_transaction(lambda: None)

    with pytest.raises(RuntimeError):
        run_in_transaction(nested, tenant_id=tenant.id)


@pytest.mark.django_db
def test_a_write_in_a_test_cases_transaction_gets_its_tenant_and_timeouts(tenant):
    """Like ``durable``, the policy lets a write run in the transaction a test case
    wraps around its test (as a savepoint), still acting for its tenant."""
    from warehouse.tenancy import current_tenant_id

    assert connections["default"].in_atomic_block

    def work():
        with connections["default"].cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            return current_tenant_id(), cursor.fetchone()[0]

    assert run_in_transaction(work, tenant_id=tenant.id, lock_timeout="750ms") == (
        tenant.id,
        "750ms",
    )


def test_a_statement_out_of_time_is_contention_at_once(tenant):
    calls = []

    def slow():
        calls.append(1)
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_sleep(1)")

    with pytest.raises(errors.Contention):
        run_in_transaction(slow, statement_timeout="50ms")
    assert len(calls) == 1

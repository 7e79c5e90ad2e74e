"""Idempotency keys: one effect per key, replays answer the same, even under concurrency."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connections

from inventory.catalog.services import create_product, create_warehouse
from inventory.core import errors
from inventory.core.idempotency import request_fingerprint, run_idempotent
from inventory.ledger.reconcile import balance_differences
from inventory.models import Balance, LedgerEntry, Lot, Operation
from inventory.stock.movements import adjust_stock, move_stock
from inventory.stock.receipts import receive_stock
from tests.conftest import bin_of
from warehouse.tenancy import tenant_context


def receipt_call(tenant, site, product, *, key, lot_code="L1", quantity="5"):
    payload = {"sku": product.sku, "lot_code": lot_code, "quantity": quantity}

    def perform(operation):
        receipt = receive_stock(
            tenant=tenant,
            product=product,
            warehouse=site,
            lot_code=lot_code,
            quantity=quantity,
            operation=operation,
        )
        return 201, {
            "lot_id": receipt.lot.pk,
            "lot_code": receipt.lot.code,
            "quantity": receipt.quantity,
            "qc_status": receipt.lot.qc_status,
        }

    return run_idempotent(tenant=tenant, key=key, kind="receipt", payload=payload, perform=perform)


def counts(tenant):
    with tenant_context(tenant.id):
        return (
            Lot.objects.count(),
            LedgerEntry.objects.count(),
            sum(Balance.objects.values_list("on_hand", flat=True), Decimal(0)),
        )


@pytest.mark.django_db
def test_a_replay_returns_the_stored_response_and_changes_nothing(tenant, site, flour):
    first = receipt_call(tenant, site, flour, key="k-1")
    assert (first.status, first.replayed) == (201, False)
    assert first.body["quantity"] == "5.000"
    before = counts(tenant)
    again = receipt_call(tenant, site, flour, key="k-1")
    assert again.replayed
    assert (again.status, again.body, again.operation_id) == (
        first.status,
        first.body,
        first.operation_id,
    )
    assert counts(tenant) == before == (1, 1, Decimal("5"))


@pytest.mark.django_db
def test_the_same_key_with_another_body_or_kind_is_refused(tenant, site, flour):
    receipt_call(tenant, site, flour, key="k-1")
    with pytest.raises(errors.IdempotencyKeyReused) as caught:
        receipt_call(tenant, site, flour, key="k-1", quantity="6")
    assert (caught.value.status, caught.value.code) == (422, "IDEMPOTENCY_KEY_REUSED")
    with pytest.raises(errors.IdempotencyKeyReused):
        run_idempotent(
            tenant=tenant,
            key="k-1",
            kind="adjustment",
            payload={"sku": flour.sku, "lot_code": "L1", "quantity": "5"},
            perform=lambda operation: (201, {}),
        )
    assert counts(tenant) == (1, 1, Decimal("5"))


@pytest.mark.django_db
def test_keys_belong_to_one_tenant(tenant, other_tenant, site, flour):
    receipt_call(tenant, site, flour, key="shared")
    cheese = create_product(tenant=other_tenant, sku="CHEESE", name="Cheese")
    globex_dc = create_warehouse(tenant=other_tenant, code="G1", name="Globex DC")
    result = receipt_call(other_tenant, globex_dc, cheese, key="shared")
    assert not result.replayed


@pytest.mark.django_db
def test_a_failed_operation_stores_nothing_and_may_be_retried(tenant, site, flour):
    receipt_call(tenant, site, flour, key="k-1", lot_code="L1")
    with pytest.raises(errors.DuplicateLotCode):
        receipt_call(tenant, site, flour, key="k-2", lot_code="L1")
    with tenant_context(tenant.id):
        assert not Operation.objects.filter(key="k-2").exists()
    retried = receipt_call(tenant, site, flour, key="k-2", lot_code="L2")
    assert not retried.replayed


@pytest.mark.django_db
def test_malformed_keys_are_refused(tenant, site, flour):
    for key in ("", "   ", "x" * 256, "auto:123"):
        with pytest.raises(errors.ValidationFailed):
            receipt_call(tenant, site, flour, key=key)
    assert counts(tenant)[1] == 0


def test_fingerprint_ignores_key_order_and_how_numbers_are_written():
    assert request_fingerprint("r", {"a": 10, "b": "x"}) == request_fingerprint(
        "r", {"b": "x", "a": Decimal("10.000")}
    )
    assert request_fingerprint("r", {"a": 10.5}) == request_fingerprint(
        "r", {"a": Decimal("10.50")}
    )
    assert request_fingerprint("r", {"a": 10}) != request_fingerprint("r", {"a": 11})
    assert request_fingerprint("r", {"a": 10}) != request_fingerprint("s", {"a": 10})


def run_in_threads(count, work):
    """Run ``work(index)`` in ``count`` threads released at once, each on its own connection."""
    barrier = threading.Barrier(count)

    def worker(index):
        try:
            barrier.wait(timeout=10)
            return work(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


@pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])
def test_concurrent_requests_with_one_key_take_effect_once(tenant, site, flour):
    def work(_):
        try:
            return receipt_call(tenant, site, flour, key="same-key", quantity="7.5")
        except errors.DomainError as error:  # would mean the key did not serialize them
            return error

    results = run_in_threads(8, work)
    assert all(not isinstance(result, Exception) for result in results), results
    assert len({(result.status, repr(result.body)) for result in results}) == 1
    assert sorted(result.replayed for result in results) == [False] + [True] * 7
    assert counts(tenant) == (1, 1, Decimal("7.5"))


@pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])
def test_concurrent_removals_never_take_stock_below_zero(tenant, site, flour):
    receipt = receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="F", quantity=20)

    def work(index):
        try:
            adjust_stock(
                tenant=tenant,
                lot=receipt.lot,
                location=receipt.location,
                quantity_delta=-3,
                reason=f"picker {index}",
            )
        except errors.InsufficientStock:
            return False
        return True

    outcomes = run_in_threads(10, work)
    assert outcomes.count(True) == 6
    assert counts(tenant) == (1, 7, Decimal("2"))
    assert balance_differences(using="maintenance")[0] == []


@pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])
def test_opposite_moves_at_once_neither_deadlock_nor_lose_stock(tenant, site, flour):
    a01, a02 = bin_of(tenant, site, "A-01"), bin_of(tenant, site, "A-02")
    lot = receive_stock(
        tenant=tenant, product=flour, warehouse=site, lot_code="F", quantity=50, location=a01
    ).lot
    move_stock(tenant=tenant, lot=lot, from_location=a01, to_location=a02, quantity=25)

    def work(index):
        source, target = (a01, a02) if index % 2 else (a02, a01)
        for _ in range(5):
            move_stock(tenant=tenant, lot=lot, from_location=source, to_location=target, quantity=1)

    run_in_threads(6, work)
    assert counts(tenant)[2] == 50
    assert balance_differences(using="maintenance")[0] == []

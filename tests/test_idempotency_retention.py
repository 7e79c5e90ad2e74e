"""Idempotency keys expire after the retention: the same key is then a new request."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import F

from inventory.core import errors
from inventory.core.idempotency import key_retention, release_expired_keys
from inventory.ledger.reconcile import balance_differences
from inventory.models import Operation
from tests.test_idempotency import counts, receipt_call, run_in_threads
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])


def age(tenant, operation_id, by):
    """Move an operation's creation back in time, as if ``by`` had passed."""
    with tenant_context(tenant.id):
        Operation.objects.filter(pk=operation_id).update(created_at=F("created_at") - by)


def operation(tenant, operation_id):
    with tenant_context(tenant.id):
        return Operation.objects.get(pk=operation_id)


def assert_books_balance():
    differences, _ = balance_differences()
    assert differences == []


def test_the_retention_is_a_day_by_default(settings):
    assert settings.IDEMPOTENCY_KEY_RETENTION_HOURS == 24
    assert key_retention() == datetime.timedelta(hours=24)


def test_a_replay_within_the_retention_returns_the_stored_answer(tenant, site, flour):
    first = receipt_call(tenant, site, flour, key="k-1")
    age(tenant, first.operation_id, key_retention() - datetime.timedelta(minutes=1))
    again = receipt_call(tenant, site, flour, key="k-1")
    assert again.replayed
    assert (again.body, again.operation_id) == (first.body, first.operation_id)
    assert counts(tenant) == (1, 1, Decimal(5))


def test_after_the_retention_the_same_key_is_a_new_request(tenant, site, flour):
    first = receipt_call(tenant, site, flour, key="k-1")
    age(tenant, first.operation_id, key_retention() + datetime.timedelta(minutes=1))
    # The cleanup job has not run: the lookup itself treats the key as free,
    # whatever body the new request has.
    again = receipt_call(tenant, site, flour, key="k-1", lot_code="L2")
    assert not again.replayed
    assert again.operation_id != first.operation_id
    assert counts(tenant) == (2, 2, Decimal(10))
    expired = operation(tenant, first.operation_id)
    assert (expired.key, expired.response_status, expired.response_body) == (None, None, None)
    assert operation(tenant, again.operation_id).key == "k-1"
    # ... and within the new retention the new answer is replayed.
    replay = receipt_call(tenant, site, flour, key="k-1", lot_code="L2")
    assert (replay.replayed, replay.operation_id) == (True, again.operation_id)
    assert_books_balance()


def test_the_same_request_after_the_retention_is_performed_again(tenant, site, flour):
    first = receipt_call(tenant, site, flour, key="k-1")
    age(tenant, first.operation_id, key_retention() + datetime.timedelta(minutes=1))
    # Not replayed: the service runs and refuses a second lot L1; nothing is written.
    with pytest.raises(errors.DuplicateLotCode):
        receipt_call(tenant, site, flour, key="k-1")
    assert counts(tenant) == (1, 1, Decimal(5))
    assert operation(tenant, first.operation_id).key == "k-1"


def test_concurrent_requests_with_one_expired_key_take_effect_once(tenant, site, flour):
    first = receipt_call(tenant, site, flour, key="same-key", quantity="7.5")
    age(tenant, first.operation_id, key_retention() + datetime.timedelta(hours=1))

    results = run_in_threads(
        6, lambda _: receipt_call(tenant, site, flour, key="same-key", lot_code="L2")
    )
    assert sorted(result.replayed for result in results) == [False] + [True] * 5
    assert len({result.operation_id for result in results}) == 1
    assert first.operation_id not in {result.operation_id for result in results}
    assert counts(tenant) == (2, 2, Decimal("12.5"))
    assert_books_balance()


def test_the_cleanup_clears_expired_keys_in_every_tenant_and_keeps_recent_ones(
    tenant, other_tenant, site, flour
):
    from inventory.catalog.services import create_product, create_warehouse

    other_site = create_warehouse(tenant=other_tenant, code="W", name="Other")
    other_flour = create_product(tenant=other_tenant, sku="F", name="Flour")
    old = receipt_call(tenant, site, flour, key="old")
    recent = receipt_call(tenant, site, flour, key="recent", lot_code="L2")
    other_old = receipt_call(other_tenant, other_site, other_flour, key="old")
    for owner, result in ((tenant, old), (other_tenant, other_old)):
        age(owner, result.operation_id, key_retention() + datetime.timedelta(seconds=1))
    before = (counts(tenant), counts(other_tenant))

    assert release_expired_keys(using="maintenance", batch=1) == 2

    for owner, result in ((tenant, old), (other_tenant, other_old)):
        cleared = operation(owner, result.operation_id)
        assert (cleared.key, cleared.response_body) == (None, None)
    kept = operation(tenant, recent.operation_id)
    assert (kept.key, kept.response_body) == ("recent", recent.body)
    # The operations stay for the ledger that refers to them.
    assert (counts(tenant), counts(other_tenant)) == before
    assert_books_balance()
    assert release_expired_keys(using="maintenance") == 0
    assert receipt_call(tenant, site, flour, key="recent", lot_code="L2").replayed


def test_a_retention_under_a_day_or_beyond_ten_years_is_refused(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    from config.settings import base

    for hours in ("1", "23", "87841"):
        monkeypatch.setenv("IDEMPOTENCY_KEY_RETENTION_HOURS", hours)
        with pytest.raises(ImproperlyConfigured, match="24 or more"):
            importlib.reload(base)
    monkeypatch.delenv("IDEMPOTENCY_KEY_RETENTION_HOURS")
    importlib.reload(base)

"""Counts under concurrency: real threads, each with its own connection.

Two managers (or one double click) posting the same count post it once; two
counters saving lines of one count both keep their lines; a line saved while
the count is being submitted either lands before the submit or is refused.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connections

from inventory.catalog.services import create_product
from inventory.core.writes import write
from inventory.counts.errors import CountNotInReview, CountNotOpen
from inventory.counts.services import (
    post_count_session,
    save_count_line,
    start_count,
    submit_count,
)
from inventory.ledger.reconcile import balance_differences
from inventory.models import Balance, CountLine, CountSession, CountStatus, LedgerEntry, LedgerKind
from inventory.stock.receipts import receive_stock
from tests.conftest import bin_of, make_member
from warehouse.models import Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])


def run_threads(count: int, target) -> list:
    """Run ``target(index)`` in ``count`` threads released together; their results in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index):
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as error:  # the test inspects what each thread met
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.fixture
def counted(tenant, site):
    """A submitted count of A-01 that found 4 of 10 bolts missing (worth 10.00)."""
    operator = make_member(tenant, "operator", Role.OPERATOR)
    bolts = create_product(tenant=tenant, sku="BOLT-8", name="Hex bolt M8")
    a01 = bin_of(tenant, site, "A-01")
    lot = receive_stock(
        tenant=tenant,
        product=bolts,
        warehouse=site,
        location=a01,
        lot_code="B-1",
        quantity=10,
        unit_cost="2.50",
    ).lot
    session = start_count(tenant=tenant, warehouse=site, user=operator, locations=[a01])
    with tenant_context(tenant.id):
        (line,) = CountLine.objects.filter(session=session)
    save_count_line(tenant=tenant, session=session, line_id=line.pk, quantity=6, user=operator)
    submit_count(tenant=tenant, session=session, user=operator)
    return {"session": session, "lot": lot, "bin": a01, "operator": operator}


def test_two_managers_posting_at_once_post_once(tenant, counted):
    managers = [make_member(tenant, f"manager{index}", Role.MANAGER) for index in range(2)]

    def post(index):
        return write(
            post_count_session,
            tenant=tenant,
            session=counted["session"],
            user=managers[index],
            approve=True,
        )

    results = run_threads(2, post)
    posted = [result for result in results if not isinstance(result, Exception)]
    refused = [result for result in results if isinstance(result, CountNotInReview)]
    assert len(posted) == 1 and len(refused) == 1, results
    assert "already posted" in refused[0].message
    with tenant_context(tenant.id):
        entries = list(LedgerEntry.objects.filter(kind=LedgerKind.COUNT))
        balance = Balance.objects.get(lot=counted["lot"], location=counted["bin"])
        session = CountSession.objects.get(pk=counted["session"].pk)
    assert [entry.quantity for entry in entries] == [Decimal("-4")]
    assert balance.on_hand == 6
    assert session.status == CountStatus.POSTED
    assert session.operation_id == entries[0].operation_id
    assert balance_differences()[0] == []


def test_two_counters_save_lines_of_one_count_at_once(tenant, site):
    counters = [make_member(tenant, f"counter{index}", Role.OPERATOR) for index in range(2)]
    bolts = create_product(tenant=tenant, sku="BOLT-8", name="Hex bolt M8")
    bins = [bin_of(tenant, site, code) for code in ("A-01", "A-02")]
    for index, location in enumerate(bins):
        receive_stock(
            tenant=tenant,
            product=bolts,
            warehouse=site,
            location=location,
            lot_code=f"B-{index}",
            quantity=5,
        )
    session = start_count(tenant=tenant, warehouse=site, user=counters[0], locations=bins)
    with tenant_context(tenant.id):
        lines = list(CountLine.objects.filter(session=session).order_by("location_id"))

    def save(index):
        return write(
            save_count_line,
            tenant=tenant,
            session=session,
            line_id=lines[index].pk,
            quantity=index + 1,
            user=counters[index],
        )

    results = run_threads(2, save)
    assert not any(isinstance(result, Exception) for result in results), results
    with tenant_context(tenant.id):
        saved = {
            line.pk: (line.counted_quantity, line.counted_by_id)
            for line in CountLine.objects.filter(session=session)
        }
    assert saved == {
        lines[0].pk: (1, counters[0].pk),
        lines[1].pk: (2, counters[1].pk),
    }


def test_a_line_saved_during_the_submit_lands_before_it_or_is_refused(tenant, site):
    operator = make_member(tenant, "operator", Role.OPERATOR)
    bolts = create_product(tenant=tenant, sku="BOLT-8", name="Hex bolt M8")
    a01 = bin_of(tenant, site, "A-01")
    receive_stock(
        tenant=tenant, product=bolts, warehouse=site, location=a01, lot_code="B-1", quantity=5
    )
    session = start_count(tenant=tenant, warehouse=site, user=operator, locations=[a01])
    with tenant_context(tenant.id):
        (line,) = CountLine.objects.filter(session=session)
    save_count_line(tenant=tenant, session=session, line_id=line.pk, quantity=5, user=operator)

    def act(index):
        if index == 0:
            return write(submit_count, tenant=tenant, session=session, user=operator)
        return write(
            save_count_line,
            tenant=tenant,
            session=session,
            line_id=line.pk,
            quantity=4,
            user=operator,
        )

    submitted, saved = run_threads(2, act)
    assert not isinstance(submitted, Exception), submitted
    with tenant_context(tenant.id):
        final = CountLine.objects.get(pk=line.pk).counted_quantity
    if isinstance(saved, CountNotOpen):
        assert final == 5  # refused: the count was already in review
    else:
        assert not isinstance(saved, Exception), saved
        assert final == 4  # saved first: the submit waited for it

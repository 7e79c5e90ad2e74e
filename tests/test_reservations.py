"""Reservations: FEFO allocation of approved lots, all-or-nothing, issue, cancel, expiry."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.catalog.services import create_product
from inventory.core import errors
from inventory.ledger.reconcile import balance_differences
from inventory.lots.services import reject_lot
from inventory.models import Balance, LedgerEntry, Reservation, ReservationStatus
from inventory.reservations.allocation import reserve_stock
from inventory.reservations.expiry import expire_reservations
from inventory.reservations.lifecycle import cancel_reservation, issue_reservation
from inventory.reservations.requests import LineRequest
from inventory.reservations.selectors import get_reservation
from inventory.stock.receipts import receive_stock
from inventory.stock.selectors import stock_summary
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(databases=["default", "maintenance"])


def receive(tenant, site, product, code, quantity, *, expires_on=None, location=None, at=None):
    return receive_stock(
        tenant=tenant,
        product=product,
        warehouse=site,
        lot_code=code,
        quantity=quantity,
        expires_on=expires_on,
        location=location,
        occurred_at=at,
    )


def reserve(tenant, site, *lines, **options):
    return reserve_stock(
        tenant=tenant,
        warehouse=site,
        lines=[LineRequest(product=product, quantity=quantity) for product, quantity in lines],
        **options,
    )


def ledger(tenant, kind):
    with tenant_context(tenant.id):
        return list(LedgerEntry.objects.filter(kind=kind).order_by("id"))


def balance(tenant, lot):
    with tenant_context(tenant.id):
        row = Balance.objects.get(lot=lot)
        return row.on_hand, row.reserved


def assert_books_balance():
    differences, _ = balance_differences()
    assert differences == []


@pytest.fixture
def soap(tenant):
    return create_product(tenant=tenant, sku="SOAP", name="Soap")


@pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])
def test_reservation_takes_the_lot_that_expires_first(tenant, site, soap):
    today = timezone.localdate()
    late = receive(tenant, site, soap, "LATE", 5, expires_on=today + datetime.timedelta(days=90))
    early = receive(tenant, site, soap, "EARLY", 3, expires_on=today + datetime.timedelta(days=9))
    never = receive(tenant, site, soap, "NEVER", 5)

    result = reserve(tenant, site, (soap, 4))

    held = [(a.lot.code, a.quantity) for a in result.allocations]
    assert held == [("EARLY", Decimal("3")), ("LATE", Decimal("1"))]
    assert result.reservation.status == ReservationStatus.OPEN
    assert [line.allocated for line in result.lines] == [Decimal("4")]
    assert balance(tenant, early.lot) == (Decimal("3"), Decimal("3"))
    assert balance(tenant, late.lot) == (Decimal("5"), Decimal("1"))
    assert balance(tenant, never.lot) == (Decimal("5"), Decimal("0"))
    assert [e.quantity for e in ledger(tenant, "RESERVE")] == [Decimal("3"), Decimal("1")]
    assert_books_balance()


def test_reservation_fails_when_only_quarantined_stock(tenant, site, vaccine):
    receive(tenant, site, vaccine, "Q1", 10)
    with pytest.raises(errors.NoQcApprovedLot) as caught:
        reserve(tenant, site, (vaccine, 1))
    assert (caught.value.status, caught.value.code) == (409, "NO_QC_APPROVED_LOT")
    assert ledger(tenant, "RESERVE") == []


def test_reservation_skips_expired_and_rejected_lots(tenant, site, soap, vaccine):
    today = timezone.localdate()
    receive(tenant, site, soap, "OLD", 10, expires_on=today - datetime.timedelta(days=1))
    rejected = receive(tenant, site, vaccine, "BAD", 10)
    reject_lot(tenant=tenant, lot=rejected.lot, note="Broken seal")
    with pytest.raises(errors.InsufficientStock):
        reserve(tenant, site, (soap, 1))
    with pytest.raises(errors.NoQcApprovedLot):
        reserve(tenant, site, (vaccine, 1))


def test_reservation_is_all_or_nothing_by_default(tenant, site, soap, flour):
    receive(tenant, site, soap, "S1", 5)
    flour_lot = receive(tenant, site, flour, "F1", 2).lot
    with pytest.raises(errors.InsufficientStock) as caught:
        reserve(tenant, site, (soap, 5), (flour, 3))
    assert caught.value.code == "INSUFFICIENT_STOCK"
    with tenant_context(tenant.id):
        assert Reservation.objects.count() == 0
        assert not Balance.objects.filter(reserved__gt=0).exists()
    assert balance(tenant, flour_lot) == (Decimal("2"), Decimal("0"))
    assert ledger(tenant, "RESERVE") == []


@pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])
def test_partial_reservation_holds_what_is_there_and_says_so(tenant, site, soap, flour):
    receive(tenant, site, soap, "S1", 5)
    receive(tenant, site, flour, "F1", 2)
    result = reserve(tenant, site, (soap, 5), (flour, 3), allow_partial=True)
    by_product = {line.product.sku: (line.quantity, line.allocated) for line in result.lines}
    assert by_product == {
        "SOAP": (Decimal("5"), Decimal("5")),
        "FLOUR-25": (Decimal("3"), Decimal("2")),
    }
    assert not result.is_complete
    assert_books_balance()


def test_partial_reservation_of_nothing_is_refused(tenant, site, soap):
    with pytest.raises(errors.InsufficientStock):
        reserve(tenant, site, (soap, 1), allow_partial=True)


def test_bad_lines_are_refused_before_anything_is_written(tenant, site, soap, other_tenant):
    receive(tenant, site, soap, "S1", 5)
    with pytest.raises(errors.ValidationFailed):
        reserve(tenant, site)
    with pytest.raises(errors.ValidationFailed):
        reserve(tenant, site, (soap, 1), (soap, 2))
    with pytest.raises(errors.InvalidQuantity):
        reserve(tenant, site, (soap, 0))
    with pytest.raises(errors.InvalidQuantity):
        reserve(tenant, site, (soap, "1.5"))
    with pytest.raises(errors.ValidationFailed):
        reserve(tenant, site, (soap, 1), ttl_seconds=0)
    with pytest.raises(errors.WarehouseNotFound):
        reserve_stock(tenant=other_tenant, warehouse=site, lines=[LineRequest(soap, 1)])
    assert ledger(tenant, "RESERVE") == []


@pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])
def test_issue_ships_the_held_lots_and_releases_the_hold(tenant, site, soap):
    lot = receive(tenant, site, soap, "S1", 5).lot
    reservation = reserve(tenant, site, (soap, 2)).reservation

    issued = issue_reservation(tenant=tenant, reservation_id=reservation.pk)

    assert issued.reservation.status == ReservationStatus.ISSUED
    assert [(i.lot.code, i.location.code, i.quantity) for i in issued.lots_issued] == [
        ("S1", "RECEIVING", Decimal("2"))
    ]
    assert balance(tenant, lot) == (Decimal("3"), Decimal("0"))
    assert [e.quantity for e in ledger(tenant, "SHIP")] == [Decimal("-2")]
    assert [e.quantity for e in ledger(tenant, "RELEASE")] == [Decimal("-2")]
    with pytest.raises(errors.ReservationAlreadyIssued) as caught:
        issue_reservation(tenant=tenant, reservation_id=reservation.pk)
    assert (caught.value.status, caught.value.code) == (409, "RESERVATION_ALREADY_ISSUED")
    with pytest.raises(errors.ReservationAlreadyIssued):
        cancel_reservation(tenant=tenant, reservation_id=reservation.pk)
    assert_books_balance()


@pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])
def test_cancel_releases_once(tenant, site, soap):
    lot = receive(tenant, site, soap, "S1", 5).lot
    reservation = reserve(tenant, site, (soap, 2)).reservation
    cancelled = cancel_reservation(tenant=tenant, reservation_id=reservation.pk)
    assert cancelled.reservation.status == ReservationStatus.CANCELLED
    assert balance(tenant, lot) == (Decimal("5"), Decimal("0"))
    with pytest.raises(errors.ReservationCancelled):
        cancel_reservation(tenant=tenant, reservation_id=reservation.pk)
    with pytest.raises(errors.ReservationCancelled) as caught:
        issue_reservation(tenant=tenant, reservation_id=reservation.pk)
    assert caught.value.code == "RESERVATION_CANCELLED"
    assert len(ledger(tenant, "RELEASE")) == 1
    assert_books_balance()


def test_another_tenants_reservation_is_not_found(tenant, site, soap, other_tenant):
    receive(tenant, site, soap, "S1", 5)
    reservation = reserve(tenant, site, (soap, 2)).reservation
    for service in (issue_reservation, cancel_reservation):
        with pytest.raises(errors.ReservationNotFound) as caught:
            service(tenant=other_tenant, reservation_id=reservation.pk)
        assert (caught.value.status, caught.value.code) == (404, "RESERVATION_NOT_FOUND")
    with pytest.raises(errors.ReservationNotFound):
        get_reservation(tenant=other_tenant, reservation_id=reservation.pk)


@pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])
def test_expired_reservation_cannot_be_issued_and_is_swept_once(tenant, site, soap):
    lot = receive(tenant, site, soap, "S1", 5).lot
    reservation = reserve(tenant, site, (soap, 2), ttl_seconds=60).reservation
    later = timezone.now() + datetime.timedelta(seconds=61)
    with tenant_context(tenant.id):
        Reservation.objects.filter(pk=reservation.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
    with pytest.raises(errors.ReservationExpired) as caught:
        issue_reservation(tenant=tenant, reservation_id=reservation.pk)
    assert caught.value.code == "RESERVATION_EXPIRED"

    assert expire_reservations(now=later) == 1
    assert expire_reservations(now=later) == 0
    assert balance(tenant, lot) == (Decimal("5"), Decimal("0"))
    assert len(ledger(tenant, "RELEASE")) == 1
    with tenant_context(tenant.id):
        assert Reservation.objects.get(pk=reservation.pk).status == ReservationStatus.EXPIRED
    assert_books_balance()


@pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])
def test_allocation_releases_expired_holds_before_declaring_a_shortage(tenant, site, soap):
    lot = receive(tenant, site, soap, "S1", 5).lot
    stale = reserve(tenant, site, (soap, 5), ttl_seconds=60).reservation
    with pytest.raises(errors.InsufficientStock):
        reserve(tenant, site, (soap, 1))
    with tenant_context(tenant.id):
        Reservation.objects.filter(pk=stale.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )

    fresh = reserve(tenant, site, (soap, 5))

    assert [line.allocated for line in fresh.lines] == [Decimal("5")]
    with tenant_context(tenant.id):
        assert Reservation.objects.get(pk=stale.pk).status == ReservationStatus.EXPIRED
    assert balance(tenant, lot) == (Decimal("5"), Decimal("5"))
    assert len(ledger(tenant, "RELEASE")) == 1
    assert expire_reservations() == 0
    assert_books_balance()


@pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])
def test_reservation_query_count(tenant, site, soap):
    """One line, one lot: the number of statements a reservation costs (in its own transaction)."""
    receive(tenant, site, soap, "S1", 5)
    with CaptureQueriesContext(connection) as queries:
        reserve(tenant, site, (soap, 1))
    statements = [q["sql"] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    assert len(queries.captured_queries) - len(statements) == 2  # BEGIN, COMMIT
    # Tenant context, operation, a savepoint before the first pass, candidates
    # (locked), reservation, lines, allocations, balances (one conditional
    # update), ledger.
    assert len(statements) <= 9, "\n".join(statements)


def test_stock_screen_and_summary_count_overdue_holds_as_available(tenant, site, soap):
    """Before the sweep, what an overdue reservation holds is free on the stock screen's
    rows as in the summary; a live reservation still counts as reserved."""
    from inventory.stock.selectors import stock_rows

    receive(tenant, site, soap, "S1", 10)
    stale = reserve(tenant, site, (soap, 4), ttl_seconds=60).reservation
    reserve(tenant, site, (soap, 1), ttl_seconds=60)
    with tenant_context(tenant.id):
        Reservation.objects.filter(pk=stale.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
        (row,) = list(stock_rows(query="SOAP")[:10])
        summary = stock_summary(tenant=tenant, product=soap, warehouse=site)
    assert (row["on_hand"], row["reserved"], row["available"]) == (
        Decimal(10),
        Decimal(1),
        Decimal(9),
    )
    assert (summary.reserved, summary.available) == (Decimal(1), Decimal(9))


@pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])
def test_expire_reservations_command_and_worker_job(tenant, site, soap, capsys):
    from django.core.management import call_command

    from inventory import jobs

    receive(tenant, site, soap, "S1", 5)
    reservation = reserve(tenant, site, (soap, 2), ttl_seconds=60).reservation
    with tenant_context(tenant.id):
        Reservation.objects.filter(pk=reservation.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
    call_command("expire_reservations")
    assert "Expired 1 reservation." in capsys.readouterr().out
    # The periodic job (tests/test_jobs.py runs it through the worker) finds nothing left.
    assert jobs.expire_overdue_reservations() == "expired 0"
    assert_books_balance()

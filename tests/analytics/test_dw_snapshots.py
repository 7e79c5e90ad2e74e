"""Daily stock snapshots from the ledger: hand-worked numbers, retaking a day, isolation."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.utils import timezone

from analytics.dw import snapshot_rows, take_snapshot
from inventory.catalog.services import create_product, create_warehouse
from inventory.lots.services import approve_lot
from inventory.reservations.allocation import reserve_stock
from inventory.reservations.requests import LineRequest
from inventory.stock.receipts import receive_stock
from tests.analytics.conftest import DW_DATABASES
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True, databases=DW_DATABASES)

TODAY = timezone.localdate()
BASE = TODAY - datetime.timedelta(days=30)


def at(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=datetime.UTC)


def days(count):
    return BASE + datetime.timedelta(days=count)


@pytest.fixture
def history(tenant, site, flour, vaccine):
    """Flour: 10 kg at 2.50 (expiring on day 5), then 4 kg at 3.00; vaccine: 5 in QC until day 2."""
    receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        lot_code="A",
        quantity=10,
        unit_cost="2.50",
        expires_on=days(5),
        occurred_at=at(days(0), 10),
    )
    receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        lot_code="B",
        quantity=4,
        unit_cost="3.00",
        expires_on=days(60),
        occurred_at=at(days(1), 10),
    )
    vaccines = receive_stock(
        tenant=tenant,
        product=vaccine,
        warehouse=site,
        lot_code="V",
        quantity=5,
        unit_cost="10.00",
        expires_on=days(90),
        occurred_at=at(days(0), 11),
    )
    approve_lot(tenant=tenant, lot=vaccines.lot, at=at(days(2), 12))
    return site


def snapshot(tenant, day):
    with tenant_context(tenant.id):
        return {
            row.product_id: (row.on_hand, row.available, row.value)
            for row in snapshot_rows(since=day, until=day)
        }


def test_snapshots_match_the_hand_worked_stock(clean_dw, tenant, history, flour, vaccine):
    for offset in (-1, 0, 1, 2, 6):
        take_snapshot(days(offset))

    assert snapshot(tenant, days(-1)) == {}
    assert snapshot(tenant, days(0)) == {
        flour.pk: (Decimal("10"), Decimal("10"), Decimal("25.00")),
        # In quarantine at the end of the day: on hand, not available.
        vaccine.pk: (Decimal("5"), Decimal("0"), Decimal("50.00")),
    }
    assert snapshot(tenant, days(1)) == {
        flour.pk: (Decimal("14"), Decimal("14"), Decimal("37.00")),
        vaccine.pk: (Decimal("5"), Decimal("0"), Decimal("50.00")),
    }
    # Approved during day 2.
    assert snapshot(tenant, days(2))[vaccine.pk] == (Decimal("5"), Decimal("5"), Decimal("50.00"))
    # Lot A expired after day 5: on hand, no longer available.
    assert snapshot(tenant, days(6))[flour.pk] == (Decimal("14"), Decimal("4"), Decimal("37.00"))


def test_reserved_stock_is_not_available_in_the_snapshot(clean_dw, tenant, history, flour):
    reserve_stock(tenant=tenant, warehouse=history, lines=[LineRequest(flour, 3)])
    take_snapshot(TODAY)
    # Lot A has expired, so the hold is on lot B: 4 - 3 left to promise.
    assert snapshot(tenant, TODAY)[flour.pk] == (Decimal("14"), Decimal("1"), Decimal("37.00"))


def test_taking_a_day_twice_gives_identical_rows(clean_dw, tenant, history):
    first = take_snapshot(days(1))
    rows = snapshot(tenant, days(1))
    second = take_snapshot(days(1))
    assert first == second == 2
    assert snapshot(tenant, days(1)) == rows


def test_retaking_a_day_picks_up_a_back_dated_entry(clean_dw, tenant, history, flour):
    take_snapshot(days(3))
    receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=history,
        lot_code="C",
        quantity=1,
        unit_cost="1.00",
        expires_on=days(60),
        occurred_at=at(days(3), 8),
    )
    take_snapshot(days(3))
    assert snapshot(tenant, days(3))[flour.pk] == (Decimal("15"), Decimal("15"), Decimal("38.00"))


def test_a_day_ends_at_midnight_in_the_sites_time_zone(clean_dw, settings, tenant, site, flour):
    # 23:30 UTC is already the next day in Berlin.
    receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        lot_code="LATE",
        quantity=2,
        unit_cost="1.00",
        expires_on=days(60),
        occurred_at=at(days(0), 23, 30),
    )
    take_snapshot(days(0))
    assert snapshot(tenant, days(0))[flour.pk][0] == Decimal("2")
    settings.TIME_ZONE = "Europe/Berlin"
    take_snapshot(days(0))
    take_snapshot(days(1))
    assert flour.pk not in snapshot(tenant, days(0))
    assert snapshot(tenant, days(1))[flour.pk][0] == Decimal("2")


def test_a_tenant_reads_only_its_own_snapshots(
    clean_dw, tenant, other_tenant, history, flour, vaccine
):
    theirs = create_warehouse(tenant=other_tenant, code="GLOBEX-DC", name="Globex DC")
    rice = create_product(tenant=other_tenant, sku="RICE-5", name="Rice", uom="kg")
    receive_stock(
        tenant=other_tenant,
        product=rice,
        warehouse=theirs,
        lot_code="R",
        quantity=9,
        occurred_at=at(days(0), 9),
    )
    take_snapshot(days(1))
    assert set(snapshot(tenant, days(1))) == {flour.pk, vaccine.pk}
    assert set(snapshot(other_tenant, days(1))) == {rice.pk}
    with tenant_context(None):
        assert snapshot_rows(since=days(0), until=days(2)) == []
    assert snapshot_rows(since=days(0), until=days(2)) == []


def test_the_command_takes_the_day_it_is_given(clean_dw, tenant, history, flour, capsys):
    call_command("dw_snapshot", "--day", days(1).isoformat())
    assert "2 rows" in capsys.readouterr().out
    assert snapshot(tenant, days(1))[flour.pk][0] == Decimal("14")


@pytest.mark.parametrize("day", ["2026-13-01", "yesterday", "1999-12-31", "9999-01-01", "x" * 500])
def test_the_command_refuses_a_day_it_cannot_take(clean_dw, day):
    with pytest.raises(CommandError, match="--day"):
        call_command("dw_snapshot", "--day", day)


def test_two_snapshots_of_one_day_at_once_both_succeed(clean_dw, tenant, history, flour):
    from analytics.dw import update_dimension

    start = threading.Barrier(2)
    outcomes = []

    def take():
        try:
            start.wait(10)
            outcomes.append((take_snapshot(days(1)), update_dimension("product").opened))
        except Exception as error:  # handed to the test's thread
            outcomes.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=take) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    # Both wrote the day; one of them opened the dimension rows, the other found them.
    assert sorted(outcomes) == [(2, 0), (2, 2)]
    assert snapshot(tenant, days(1))[flour.pk] == (Decimal("14"), Decimal("14"), Decimal("37.00"))

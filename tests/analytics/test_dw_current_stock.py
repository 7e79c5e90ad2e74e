"""``dw.current_stock_mv``: what it holds, who may read it and how, and refreshing it."""

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import ProgrammingError, connection, connections, transaction
from django.utils import timezone

from analytics.dw import current_stock, freshness, refresh_current_stock
from inventory.catalog.services import create_product, create_warehouse
from inventory.lots.services import reject_lot
from inventory.reservations.allocation import reserve_stock
from inventory.reservations.requests import LineRequest
from inventory.stock.receipts import receive_stock
from inventory.stock.selectors import stock_summary
from tests.analytics.conftest import DW_DATABASES
from warehouse.tenancy import tenant_context


def stock_of(tenant):
    with tenant_context(tenant.id):
        return {(row.product_id, row.warehouse_id): row for row in current_stock()}


@pytest.mark.django_db
def test_the_app_role_cannot_read_or_refresh_the_view_itself():
    with (
        pytest.raises(ProgrammingError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT count(*) FROM dw.current_stock_mv")
    with (
        pytest.raises(ProgrammingError, match=r"must be owner|permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("REFRESH MATERIALIZED VIEW dw.current_stock_mv")


@pytest.mark.django_db
def test_the_app_role_cannot_write_the_refresh_log():
    with (
        pytest.raises(ProgrammingError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("INSERT INTO dw.refresh_log VALUES ('dw.current_stock_mv', now(), 0)")


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_the_access_path_returns_only_the_current_tenants_rows(
    clean_dw, tenant, other_tenant, site, flour
):
    theirs = create_warehouse(tenant=other_tenant, code="GLOBEX-DC", name="Globex DC")
    rice = create_product(tenant=other_tenant, sku="RICE-5", name="Rice 5 kg", uom="kg")
    receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="A1", quantity=7)
    receive_stock(tenant=other_tenant, product=rice, warehouse=theirs, lot_code="G1", quantity=3)
    refresh_current_stock()

    assert list(stock_of(tenant)) == [(flour.pk, site.pk)]
    assert list(stock_of(other_tenant)) == [(rice.pk, theirs.pk)]
    with tenant_context(None):
        assert current_stock() == []
    # Outside any transaction-local setting it fails closed too.
    assert current_stock() == []
    with tenant_context(tenant.id):
        assert current_stock(warehouse=theirs) == []


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_the_view_matches_the_stock_summary(clean_dw, tenant, site, flour, vaccine):
    today = timezone.localdate()
    received = timezone.now() - datetime.timedelta(days=40)
    second = create_warehouse(tenant=tenant, code="DC2", name="Acme DC 2")
    # Approved flour in two lots and two warehouses, one lot past its expiry.
    receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        lot_code="F1",
        quantity="12.5",
        unit_cost="2.40",
        expires_on=today + datetime.timedelta(days=30),
    )
    receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        lot_code="F2",
        quantity=4,
        unit_cost="2.00",
        expires_on=today - datetime.timedelta(days=1),
        occurred_at=received,
    )
    receive_stock(
        tenant=tenant, product=flour, warehouse=second, lot_code="F3", quantity=6, unit_cost="1.50"
    )
    # Vaccine lots in quarantine and rejected.
    receive_stock(
        tenant=tenant, product=vaccine, warehouse=site, lot_code="V1", quantity=5, unit_cost="10.00"
    )
    rejected = receive_stock(
        tenant=tenant, product=vaccine, warehouse=site, lot_code="V2", quantity=2, unit_cost="10.00"
    )
    reject_lot(tenant=tenant, lot=rejected.lot, note="broken seal")
    # A live hold, and one past its expiry whose stock counts as available again.
    reserve_stock(tenant=tenant, warehouse=site, lines=[LineRequest(flour, 3)])
    reserve_stock(tenant=tenant, warehouse=site, lines=[LineRequest(flour, 2)], ttl_seconds=1)
    time.sleep(1.2)

    refresh_current_stock()

    rows = stock_of(tenant)
    assert set(rows) == {(flour.pk, site.pk), (flour.pk, second.pk), (vaccine.pk, site.pk)}
    for (product_id, warehouse_id), row in rows.items():
        with tenant_context(tenant.id):
            product = type(flour).objects.get(pk=product_id)
            warehouse = type(site).objects.get(pk=warehouse_id)
        summary = stock_summary(tenant=tenant, product=product, warehouse=warehouse)
        assert (
            row.on_hand,
            row.reserved,
            row.available,
            row.quarantined,
            row.rejected,
            row.expired,
        ) == (
            summary.on_hand,
            summary.reserved,
            summary.available,
            summary.quarantined,
            summary.rejected,
            summary.expired,
        )
    main_flour = rows[(flour.pk, site.pk)]
    assert (main_flour.on_hand, main_flour.reserved, main_flour.available) == (
        Decimal("16.5"),
        Decimal("3"),
        Decimal("9.5"),
    )
    assert main_flour.expired == Decimal("4")
    assert main_flour.value == Decimal("12.5") * Decimal("2.40") + 4 * Decimal("2.00")
    assert rows[(vaccine.pk, site.pk)].value == Decimal("70.00")


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_a_refresh_is_logged_and_picks_up_new_stock(clean_dw, tenant, site, flour):
    assert freshness() is None
    receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="A1", quantity=7)
    before = timezone.now()
    first = refresh_current_stock()
    assert first.refreshed_at >= before - datetime.timedelta(seconds=1)
    assert freshness().refreshed_at == first.refreshed_at
    receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="A2", quantity=3)
    # Until the next refresh the view shows the stock as it was.
    assert stock_of(tenant)[(flour.pk, site.pk)].on_hand == Decimal("7")
    second = refresh_current_stock()
    assert stock_of(tenant)[(flour.pk, site.pk)].on_hand == Decimal("10")
    assert freshness().refreshed_at == second.refreshed_at > first.refreshed_at


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_a_full_refresh_recomputes_and_is_logged_too(clean_dw, tenant, site, flour):
    receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="A1", quantity=7)
    refresh_current_stock()
    receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="A2", quantity=3)
    full = refresh_current_stock(concurrently=False)
    assert stock_of(tenant)[(flour.pk, site.pk)].on_hand == Decimal("10")
    assert freshness().refreshed_at == full.refreshed_at


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_reading_during_a_refresh_does_not_wait(clean_dw, tenant, site, flour):
    receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="A1", quantity=7)
    refresh_current_stock()
    refreshing = threading.Event()
    finish = threading.Event()

    def refresh_and_hold():
        # The refresh is done but its transaction, and the view's lock, stay open.
        try:
            with transaction.atomic(using="maintenance"):
                with connections["maintenance"].cursor() as cursor:
                    cursor.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY dw.current_stock_mv")
                refreshing.set()
                finish.wait(30)
        finally:
            refreshing.set()
            connections.close_all()

    holder = threading.Thread(target=refresh_and_hold)
    holder.start()
    try:
        assert refreshing.wait(30)
        with tenant_context(tenant.id), connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE relation = 'dw.current_stock_mv'::regclass "
                "AND mode = 'ExclusiveLock' AND granted"
            )
            assert cursor.fetchone()[0] == 1
            # A read that had to wait for the lock would fail after 500 ms.
            cursor.execute("SELECT set_config('lock_timeout', '500ms', true)")
            started = time.monotonic()
            rows = current_stock()
            waited = time.monotonic() - started
        assert [row.on_hand for row in rows] == [Decimal("7")]
        assert waited < 0.5
    finally:
        finish.set()
        holder.join(30)

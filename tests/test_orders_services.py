"""Orders through their life: allocate, pick (short too), ship exactly what was picked, cancel."""

from decimal import Decimal

import pytest

from inventory.catalog.services import create_product
from inventory.core import errors
from inventory.ledger.reconcile import balance_differences
from inventory.models import (
    Balance,
    LedgerEntry,
    Order,
    OrderStatus,
    Pick,
    Reservation,
    ReservationStatus,
)
from inventory.orders.picking import check_lot, pick_line, start_picking
from inventory.orders.services import allocate_order, cancel_order, create_order
from inventory.orders.shipping import ship_order
from inventory.reservations.requests import LineRequest
from inventory.stock.receipts import receive_stock
from tests.conftest import bin_of
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(databases=["default", "maintenance"])


@pytest.fixture
def soap(tenant):
    return create_product(tenant=tenant, sku="SOAP", name="Soap")


def receive(tenant, site, product, code, quantity, bin_code="A-01", **extra):
    return receive_stock(
        tenant=tenant,
        product=product,
        warehouse=site,
        lot_code=code,
        quantity=quantity,
        location=bin_of(tenant, site, bin_code),
        **extra,
    )


def new_order(tenant, site, *lines, reference="SO-1"):
    return create_order(
        tenant=tenant,
        warehouse=site,
        reference=reference,
        customer="Corner shop",
        lines=[LineRequest(product=product, quantity=quantity) for product, quantity in lines],
    )


def picks_of(tenant, order):
    with tenant_context(tenant.id):
        return list(
            Pick.objects.filter(order=order)
            .select_related("lot", "location", "product")
            .order_by("location__pick_sequence", "id")
        )


def entries(tenant, kind, **filters):
    with tenant_context(tenant.id):
        return list(LedgerEntry.objects.filter(kind=kind, **filters).order_by("id"))


def balances(tenant):
    with tenant_context(tenant.id):
        return {
            (row.lot.code, row.location.code): (row.on_hand, row.reserved)
            for row in Balance.objects.select_related("lot", "location")
        }


def order_status(tenant, order):
    with tenant_context(tenant.id):
        return Order.objects.get(pk=order.pk)


def pick_all(tenant, pick, **extra):
    return pick_line(
        tenant=tenant,
        pick_id=pick.pk,
        bin_code=pick.location.code,
        lot_code=pick.lot.code,
        quantity=pick.remaining,
        **extra,
    )


def assert_books_balance():
    differences, _ = balance_differences()
    assert differences == []


@pytest.fixture
def picking_order(tenant, site, soap, flour):
    """SO-1: 4 soap (lot S1 in A-02, all there is) and 10 kg flour (lot F1 in A-01), picking."""
    receive(tenant, site, soap, "S1", 4, bin_code="A-02")
    receive(tenant, site, flour, "F1", 25, bin_code="A-01")
    order = new_order(tenant, site, (soap, 4), (flour, 10))
    allocate_order(tenant=tenant, order_id=order.pk)
    start_picking(tenant=tenant, order_id=order.pk)
    return order


def test_picks_follow_the_bins_pick_sequence(tenant, picking_order):
    picks = picks_of(tenant, picking_order)
    assert [(pick.location.code, pick.lot.code, pick.quantity) for pick in picks] == [
        ("A-01", "F1", Decimal("10")),
        ("A-02", "S1", Decimal("4")),
    ]
    assert order_status(tenant, picking_order).status == OrderStatus.PICKING


def test_ship_writes_ship_entries_for_exactly_what_was_picked(tenant, site, picking_order):
    flour_pick, soap_pick = picks_of(tenant, picking_order)
    pick_all(tenant, flour_pick)
    outcome = pick_line(
        tenant=tenant,
        pick_id=soap_pick.pk,
        bin_code="a-02",
        lot_code="s1",
        quantity="3",
        short_reason="DAMAGED",
    )
    # Nothing else of soap is free: the missing one is reported short.
    assert outcome.short == Decimal("1")
    assert outcome.reported_short == Decimal("1")
    assert outcome.reallocated == []

    shipped = ship_order(tenant=tenant, order_id=picking_order.pk)

    ships = entries(tenant, "SHIP")
    assert sorted((entry.lot_id, entry.quantity) for entry in ships) == sorted(
        [(flour_pick.lot_id, Decimal("-10")), (soap_pick.lot_id, Decimal("-3"))]
    )
    assert {entry.operation_id for entry in ships} == {shipped.shipment_operation.pk}
    assert balances(tenant) == {
        ("F1", "A-01"): (Decimal("15"), Decimal("0")),
        ("S1", "A-02"): (Decimal("1"), Decimal("0")),
    }
    stored = order_status(tenant, picking_order)
    assert stored.status == OrderStatus.SHIPPED
    assert stored.shipment_operation_id == shipped.shipment_operation.pk
    with tenant_context(tenant.id):
        assert Reservation.objects.get(pk=stored.reservation_id).status == ReservationStatus.ISSUED
    assert_books_balance()


def test_short_pick_is_reallocated_to_the_next_lot(tenant, site, soap):
    receive(tenant, site, soap, "S1", 5, bin_code="A-01")
    receive(tenant, site, soap, "S2", 5, bin_code="A-02")
    order = new_order(tenant, site, (soap, 5))
    allocate_order(tenant=tenant, order_id=order.pk)
    start_picking(tenant=tenant, order_id=order.pk)
    (first,) = picks_of(tenant, order)

    outcome = pick_line(
        tenant=tenant,
        pick_id=first.pk,
        bin_code=first.location.code,
        lot_code=first.lot.code,
        quantity="2",
        short_reason="NOT_FOUND",
    )

    assert outcome.reported_short == Decimal("0")
    assert len(outcome.reallocated) == 1
    picks = picks_of(tenant, order)
    assert [(pick.lot.code, pick.quantity, pick.picked, pick.short) for pick in picks] == [
        ("S1", Decimal("5"), Decimal("2"), Decimal("3")),
        ("S2", Decimal("3"), Decimal("0"), Decimal("0")),
    ]
    with pytest.raises(errors.PickingIncomplete):
        ship_order(tenant=tenant, order_id=order.pk)
    pick_all(tenant, picks[1])
    ship_order(tenant=tenant, order_id=order.pk)
    assert sorted(entry.quantity for entry in entries(tenant, "SHIP")) == [
        Decimal("-3"),
        Decimal("-2"),
    ]
    # Both reservations end; nothing stays reserved.
    assert all(reserved == 0 for _, reserved in balances(tenant).values())
    assert_books_balance()


def test_wrong_bin_or_lot_is_refused_and_nothing_changes(tenant, picking_order):
    flour_pick, _ = picks_of(tenant, picking_order)
    before = balances(tenant)
    with pytest.raises(errors.WrongBin, match="Go to bin A-01"):
        pick_line(tenant=tenant, pick_id=flour_pick.pk, bin_code="A-02", lot_code="F1", quantity=1)
    with pytest.raises(errors.WrongLot, match="Take lot F1"):
        pick_line(tenant=tenant, pick_id=flour_pick.pk, bin_code="A-01", lot_code="S1", quantity=1)
    with pytest.raises(errors.PickExceedsAllocation, match="Only 10 kg left"):
        pick_line(tenant=tenant, pick_id=flour_pick.pk, bin_code="A-01", lot_code="F1", quantity=11)
    (stored, _) = picks_of(tenant, picking_order)
    assert (stored.picked, stored.short) == (Decimal("0"), Decimal("0"))
    assert balances(tenant) == before


def test_a_pick_never_takes_more_than_is_left(tenant, picking_order):
    flour_pick, _ = picks_of(tenant, picking_order)
    pick_line(tenant=tenant, pick_id=flour_pick.pk, bin_code="A-01", lot_code="F1", quantity=6)
    with pytest.raises(errors.PickExceedsAllocation):
        pick_line(tenant=tenant, pick_id=flour_pick.pk, bin_code="A-01", lot_code="F1", quantity=6)
    pick_line(tenant=tenant, pick_id=flour_pick.pk, bin_code="A-01", lot_code="F1", quantity=4)
    with pytest.raises(errors.PickExceedsAllocation, match="already picked"):
        pick_line(tenant=tenant, pick_id=flour_pick.pk, bin_code="A-01", lot_code="F1", quantity=1)


def test_lot_scan_accepts_the_product_and_gs1_strings(tenant, picking_order, flour):
    flour_pick, _ = picks_of(tenant, picking_order)
    check_lot(flour_pick, "F1")
    check_lot(flour_pick, "flour-25")
    check_lot(flour_pick, "(01)09501101020917(10)F1")
    check_lot(flour_pick, "]C1010950110102091717261231" + "10F1")
    with pytest.raises(errors.WrongLot, match="you scanned F2"):
        check_lot(flour_pick, "(01)09501101020917(10)F2")
    # A label without the group separator after its lot still names the lot.
    check_lot(flour_pick, "0109501101020917" + "10F1")


def test_cancel_releases_every_hold_and_is_idempotent(tenant, site, picking_order):
    flour_pick, _ = picks_of(tenant, picking_order)
    pick_line(tenant=tenant, pick_id=flour_pick.pk, bin_code="A-01", lot_code="F1", quantity=3)

    cancel_order(tenant=tenant, order_id=picking_order.pk)
    again = cancel_order(tenant=tenant, order_id=picking_order.pk)

    assert again.status == OrderStatus.CANCELLED
    assert len(entries(tenant, "RELEASE")) == 2
    assert entries(tenant, "SHIP") == []
    assert all(reserved == 0 for _, reserved in balances(tenant).values())
    assert balances(tenant)[("F1", "A-01")] == (Decimal("25"), Decimal("0"))
    with pytest.raises(errors.OrderStatusConflict):
        pick_line(tenant=tenant, pick_id=flour_pick.pk, bin_code="A-01", lot_code="F1", quantity=1)
    with pytest.raises(errors.OrderStatusConflict):
        ship_order(tenant=tenant, order_id=picking_order.pk)
    with pytest.raises(errors.OrderStatusConflict):
        allocate_order(tenant=tenant, order_id=picking_order.pk)
    assert_books_balance()


def test_an_allocated_order_ships_everything_held(tenant, site, soap):
    receive(tenant, site, soap, "S1", 6)
    order = new_order(tenant, site, (soap, 4))
    allocate_order(tenant=tenant, order_id=order.pk)

    shipped = ship_order(tenant=tenant, order_id=order.pk)

    (ship,) = entries(tenant, "SHIP")
    assert ship.quantity == Decimal("-4")
    assert ship.operation_id == shipped.shipment_operation.pk
    assert balances(tenant)[("S1", "A-01")] == (Decimal("2"), Decimal("0"))
    with pytest.raises(errors.OrderNotCancellable):
        cancel_order(tenant=tenant, order_id=order.pk)
    with pytest.raises(errors.OrderStatusConflict):
        ship_order(tenant=tenant, order_id=order.pk)


def test_wrong_transitions_are_refused(tenant, site, soap):
    receive(tenant, site, soap, "S1", 6)
    order = new_order(tenant, site, (soap, 4))
    with pytest.raises(errors.OrderStatusConflict):
        start_picking(tenant=tenant, order_id=order.pk)
    with pytest.raises(errors.OrderStatusConflict):
        ship_order(tenant=tenant, order_id=order.pk)
    cancel_order(tenant=tenant, order_id=order.pk)
    assert order_status(tenant, order).status == OrderStatus.CANCELLED
    assert entries(tenant, "RELEASE") == []


def test_another_tenants_order_is_not_found(tenant, other_tenant, picking_order):
    with pytest.raises(errors.OrderNotFound):
        cancel_order(tenant=other_tenant, order_id=picking_order.pk)
    with pytest.raises(errors.OrderNotFound):
        ship_order(tenant=other_tenant, order_id=picking_order.pk)
    flour_pick, _ = picks_of(tenant, picking_order)
    with pytest.raises(errors.PickNotFound):
        pick_line(
            tenant=other_tenant, pick_id=flour_pick.pk, bin_code="A-01", lot_code="F1", quantity=1
        )

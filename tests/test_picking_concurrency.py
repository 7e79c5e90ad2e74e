"""Picking and shipping under concurrency: real threads, each with its own connection.

Two handhelds on one line never pick more than was held; a ship and a cancel
of one order never both win, and the ledger shows only the winner's entries.
Each test ends with the invariants of the whole database.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.catalog.services import create_product
from inventory.core import errors
from inventory.core.transactions import run_in_transaction
from inventory.models import Balance, LedgerEntry, Order, OrderStatus, Pick
from inventory.orders.picking import pick_line, start_picking
from inventory.orders.services import allocate_order, cancel_order, create_order
from inventory.orders.shipping import ship_order
from inventory.reservations.requests import LineRequest
from inventory.stock.receipts import receive_stock
from tests.test_reservation_concurrency import assert_invariants, interleave, run_threads
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])


@pytest.fixture
def soap(tenant):
    return create_product(tenant=tenant, sku="SOAP", name="Soap")


def picking_order(tenant, site, product, quantity, reference="SO-1"):
    order = create_order(
        tenant=tenant,
        warehouse=site,
        reference=reference,
        customer="Bob",
        lines=[LineRequest(product=product, quantity=quantity)],
    )
    run_in_transaction(lambda: allocate_order(tenant=tenant, order_id=order.pk))
    run_in_transaction(lambda: start_picking(tenant=tenant, order_id=order.pk))
    with tenant_context(tenant.id):
        pick = Pick.objects.select_related("location", "lot").get(order=order)
    return order, pick


def take(tenant, pick, quantity):
    return pick_line(
        tenant=tenant,
        pick_id=pick.pk,
        bin_code=pick.location.code,
        lot_code=pick.lot.code,
        quantity=quantity,
    )


def entries(tenant, kind) -> list[LedgerEntry]:
    with tenant_context(tenant.id):
        return list(LedgerEntry.objects.filter(kind=kind))


def test_two_handhelds_picking_one_line_never_pick_more_than_held(tenant, site, soap):
    receive_stock(tenant=tenant, product=soap, warehouse=site, lot_code="L1", quantity=20)
    _, pick = picking_order(tenant, site, soap, 10)

    results = run_threads(2, lambda index: run_in_transaction(lambda: take(tenant, pick, 6)))

    refused = [result for result in results if isinstance(result, Exception)]
    assert len(refused) == 1
    assert isinstance(refused[0], errors.PickExceedsAllocation)
    with tenant_context(tenant.id):
        assert Pick.objects.get(pk=pick.pk).picked == Decimal("6")


def test_the_second_picker_waits_and_then_sees_what_the_first_took(tenant, site, soap):
    receive_stock(tenant=tenant, product=soap, warehouse=site, lot_code="L1", quantity=20)
    _, pick = picking_order(tenant, site, soap, 10)
    # 1. A picks 7 and keeps its transaction open.
    # 2. B picks 4 of the same line: waits on the pick row.
    # 3. A commits; B's conditional update finds 3 left and changes nothing.
    first, second = interleave(
        lambda: take(tenant, pick, 7), lambda: run_in_transaction(lambda: take(tenant, pick, 4))
    )
    assert not isinstance(first, Exception)
    assert isinstance(second, errors.PickExceedsAllocation)
    assert "Only 3 ea left" in second.message
    with tenant_context(tenant.id):
        assert Pick.objects.get(pk=pick.pk).picked == Decimal("7")


def ship(tenant, order):
    return ship_order(tenant=tenant, order_id=order.pk)


def cancel(tenant, order):
    return cancel_order(tenant=tenant, order_id=order.pk)


@pytest.mark.parametrize("first_is_ship", [True, False])
def test_ship_and_cancel_of_one_order_never_both_win(tenant, site, soap, first_is_ship):
    receive_stock(tenant=tenant, product=soap, warehouse=site, lot_code="L1", quantity=20)
    order, pick = picking_order(tenant, site, soap, 5)
    run_in_transaction(lambda: take(tenant, pick, 5))
    actions = [lambda: ship(tenant, order), lambda: cancel(tenant, order)]
    if not first_is_ship:
        actions.reverse()

    first, second = interleave(actions[0], lambda: run_in_transaction(actions[1]))

    assert not isinstance(first, Exception)
    with tenant_context(tenant.id):
        stored = Order.objects.get(pk=order.pk)
        balance = Balance.objects.get()
    if first_is_ship:
        assert isinstance(second, errors.OrderNotCancellable)
        assert stored.status == OrderStatus.SHIPPED
        (shipped,) = entries(tenant, "SHIP")
        assert shipped.quantity == Decimal("-5")
        assert shipped.operation_id == stored.shipment_operation_id
        assert (balance.on_hand, balance.reserved) == (Decimal("15"), Decimal("0"))
    else:
        assert isinstance(second, errors.OrderStatusConflict)
        assert stored.status == OrderStatus.CANCELLED
        assert entries(tenant, "SHIP") == []
        assert (balance.on_hand, balance.reserved) == (Decimal("20"), Decimal("0"))
    # One RELEASE of the one hold, whoever won.
    assert len(entries(tenant, "RELEASE")) == 1
    assert_invariants()


def test_racing_ships_and_cancels_end_each_order_once(tenant, site, soap):
    receive_stock(tenant=tenant, product=soap, warehouse=site, lot_code="L1", quantity=50)
    orders = []
    for number in range(3):
        order, pick = picking_order(tenant, site, soap, 2, reference=f"SO-{number}")
        run_in_transaction(lambda pick=pick: take(tenant, pick, 2))
        orders.append(order)

    def work(index):
        order = orders[index // 2]
        action = ship if index % 2 == 0 else cancel
        return run_in_transaction(lambda: action(tenant, order))

    results = run_threads(6, work)

    for number in range(len(orders)):
        outcomes = results[2 * number : 2 * number + 2]
        assert sum(isinstance(outcome, Exception) for outcome in outcomes) == 1
    with tenant_context(tenant.id):
        shipped = Order.objects.filter(status=OrderStatus.SHIPPED).count()
        on_hand = Balance.objects.get().on_hand
    assert len(entries(tenant, "SHIP")) == shipped
    assert on_hand == Decimal(50 - 2 * shipped)
    assert len(entries(tenant, "RELEASE")) == 3
    assert_invariants()

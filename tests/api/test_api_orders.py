"""API v1: ship and cancel an order, by its key once, 404 for another tenant, 409 on its status."""

import pytest

from inventory.models import LedgerEntry, Order
from inventory.orders.picking import start_picking
from tests.api.conftest import ledger_count
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def stock(api):
    response = api.get("/stock", {"sku": "WIDGET", "warehouse": "DC1"})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def allocated(acme_api, stocked):
    """Order SO-1 for 4 WIDGET, allocated (lot L1 holds 10)."""
    response = acme_api.post(
        "/orders",
        {
            "reference": "SO-1",
            "customer": "Bob",
            "warehouse": "DC1",
            "lines": [{"sku": "WIDGET", "quantity": 4}],
        },
    )
    assert response.status_code == 201, response.content
    order = response.json()
    assert acme_api.post(f"/orders/{order['id']}/allocate").status_code == 200
    return order


def test_ship_ships_what_is_held_under_one_operation(acme_api, allocated, tenant):
    response = acme_api.post(f"/orders/{allocated['id']}/ship", key="ship-1")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "SHIPPED"
    assert response.json()["reservation"]["status"] == "ISSUED"
    assert allocated["shipped_at"] is None
    assert response.json()["shipped_at"] is not None
    assert response.json()["cancelled_at"] is None
    assert (stock(acme_api)["on_hand"], stock(acme_api)["reserved"]) == ("6.000", "0.000")
    with tenant_context(tenant.id):
        order = Order.objects.get(pk=allocated["id"])
        ships = list(LedgerEntry.objects.filter(kind="SHIP"))
    assert [str(entry.quantity) for entry in ships] == ["-4.000"]
    assert ships[0].operation_id == order.shipment_operation_id


def test_replayed_ship_answers_the_same_and_ships_once(acme_api, allocated, tenant):
    first = acme_api.post(f"/orders/{allocated['id']}/ship", key="ship-1")
    entries = ledger_count(tenant)
    again = acme_api.post(f"/orders/{allocated['id']}/ship", key="ship-1")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ledger_count(tenant) == entries
    # A new request (another key) finds the order shipped: 409 with a code.
    response = acme_api.post(f"/orders/{allocated['id']}/ship", key="ship-2")
    assert (response.status_code, response.json()["error"]["code"]) == (
        409,
        "ORDER_STATUS_CONFLICT",
    )


def test_cancel_releases_the_hold_and_a_second_cancel_changes_nothing(acme_api, allocated, tenant):
    response = acme_api.post(f"/orders/{allocated['id']}/cancel", key="cancel-1")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "CANCELLED"
    assert response.json()["reservation"]["status"] == "CANCELLED"
    assert response.json()["cancelled_at"] is not None
    assert response.json()["shipped_at"] is None
    assert stock(acme_api)["reserved"] == "0.000"
    entries = ledger_count(tenant)
    replay = acme_api.post(f"/orders/{allocated['id']}/cancel", key="cancel-1")
    assert replay.json() == response.json()
    again = acme_api.post(f"/orders/{allocated['id']}/cancel")
    assert (again.status_code, again.json()["status"]) == (200, "CANCELLED")
    assert ledger_count(tenant) == entries
    refused = acme_api.post(f"/orders/{allocated['id']}/ship")
    assert (refused.status_code, refused.json()["error"]["code"]) == (
        409,
        "ORDER_STATUS_CONFLICT",
    )


def test_cancel_of_a_shipped_order_is_409(acme_api, allocated):
    assert acme_api.post(f"/orders/{allocated['id']}/ship").status_code == 200
    response = acme_api.post(f"/orders/{allocated['id']}/cancel")
    assert (response.status_code, response.json()["error"]["code"]) == (
        409,
        "ORDER_NOT_CANCELLABLE",
    )


def test_ship_of_an_open_order_is_409(acme_api, stocked):
    order = acme_api.post(
        "/orders",
        {
            "reference": "SO-2",
            "customer": "Bob",
            "warehouse": "DC1",
            "lines": [{"sku": "WIDGET", "quantity": 1}],
        },
    ).json()
    response = acme_api.post(f"/orders/{order['id']}/ship")
    assert (response.status_code, response.json()["error"]["code"]) == (
        409,
        "ORDER_STATUS_CONFLICT",
    )


def test_another_tenants_order_cannot_be_shipped_or_cancelled(
    acme_api, globex_api, allocated, tenant
):
    entries = ledger_count(tenant)
    for action in ("ship", "cancel"):
        response = globex_api.post(f"/orders/{allocated['id']}/{action}")
        assert (response.status_code, response.json()["error"]["code"]) == (
            404,
            "ORDER_NOT_FOUND",
        )
    assert acme_api.post(f"/orders/{2**63}/ship").status_code == 404
    assert ledger_count(tenant) == entries
    assert acme_api.get(f"/orders/{allocated['id']}").json()["status"] == "ALLOCATED"


def test_ship_of_an_order_still_being_picked_is_409(acme_api, allocated, tenant):
    start_picking(tenant=tenant, order_id=allocated["id"])
    entries = ledger_count(tenant)
    response = acme_api.post(f"/orders/{allocated['id']}/ship")
    assert (response.status_code, response.json()["error"]["code"]) == (
        409,
        "PICKING_INCOMPLETE",
    )
    assert "still to be picked" in response.json()["error"]["message"]
    assert ledger_count(tenant) == entries

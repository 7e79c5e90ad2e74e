"""``Idempotency-Key`` on every state-changing endpoint."""

import pytest

from inventory.models import Operation
from tests.api.conftest import ledger_count
from tests.api.test_api_auth import assert_error
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db

RECEIPT = {"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L7", "quantity": 5}


def test_replay_returns_the_first_answer_and_changes_nothing(acme_api, stocked, tenant):
    first = acme_api.post("/receipts", RECEIPT, key="receipt-7")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    before = ledger_count(tenant)
    # 5, 5.0 and "5" are the same quantity, so the same request.
    for quantity in (5, 5.0, "5.000"):
        replay = acme_api.post("/receipts", RECEIPT | {"quantity": quantity}, key="receipt-7")
        assert replay.status_code == 201
        assert replay.json() == first.json()
        assert replay["Idempotent-Replayed"] == "true"
    assert ledger_count(tenant) == before


def test_same_key_with_another_body_is_refused(acme_api, stocked, tenant):
    acme_api.post("/receipts", RECEIPT, key="receipt-7")
    before = ledger_count(tenant)
    response = acme_api.post("/receipts", RECEIPT | {"quantity": 6}, key="receipt-7")
    assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED")
    # ... and so is the same key on another endpoint.
    response = acme_api.post(
        "/adjustments",
        {
            "sku": "WIDGET",
            "warehouse": "DC1",
            "lot_code": "L7",
            "quantity_delta": 1,
            "reason": "found",
        },
        key="receipt-7",
    )
    assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert ledger_count(tenant) == before


def test_a_refused_request_keeps_its_key_free_for_a_retry(acme_api, stocked, tenant):
    move = {
        "sku": "WIDGET",
        "lot_code": "L1",
        "warehouse": "DC1",
        "from_location": "RECEIVING",
        "to_location": "A-01",
        "quantity": 4,
    }
    adjustment = {
        "sku": "WIDGET",
        "warehouse": "DC1",
        "lot_code": "L1",
        "quantity_delta": -20,
        "reason": "shrink",
    }
    assert_error(acme_api.post("/adjustments", adjustment, key="k1"), 409, "INSUFFICIENT_STOCK")
    with tenant_context(tenant.pk):
        assert not Operation.objects.filter(key="k1").exists()
    assert acme_api.post("/moves", move, key="k1").status_code == 201


def test_every_state_changing_endpoint_replays(acme_api, stocked, tenant):
    serum = acme_api.post(
        "/receipts", {"sku": "SERUM", "warehouse": "DC1", "lot_code": "S1", "quantity": 1}
    ).json()
    calls = [
        ("/products", {"sku": "NEW", "name": "New"}),
        ("/warehouses", {"code": "DC9", "name": "Ninth"}),
        ("/warehouses/DC1/locations", {"code": "B-01"}),
        ("/receipts", RECEIPT),
        (f"/lots/{serum['lot_id']}/qc", {"status": "APPROVED"}),
        (
            "/adjustments",
            {
                "sku": "WIDGET",
                "warehouse": "DC1",
                "lot_code": "L1",
                "quantity_delta": 1,
                "reason": "found",
            },
        ),
        (
            "/moves",
            {
                "sku": "WIDGET",
                "lot_code": "L1",
                "warehouse": "DC1",
                "from_location": "RECEIVING",
                "to_location": "A-01",
                "quantity": 1,
            },
        ),
        (
            "/counts",
            {
                "warehouse": "DC1",
                "lines": [
                    {"sku": "WIDGET", "lot_code": "L1", "location": "A-01", "counted_quantity": 3}
                ],
            },
        ),
    ]
    for number, (path, body) in enumerate(calls):
        first = acme_api.post(path, body, key=f"key-{number}")
        assert first.status_code in (200, 201), (path, first.content)
        entries = ledger_count(tenant)
        replay = acme_api.post(path, body, key=f"key-{number}")
        assert (replay.status_code, replay.json()) == (first.status_code, first.json()), path
        assert ledger_count(tenant) == entries


def test_keys_belong_to_one_tenant(acme_api, globex_api, stocked):
    body = {"sku": "SAME", "name": "Same"}
    assert acme_api.post("/products", body, key="shared").status_code == 201
    response = globex_api.post("/products", body, key="shared")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


@pytest.mark.parametrize("key", ["k" * 256, "auto:mine"])
def test_malformed_key_is_a_validation_error(acme_api, stocked, key):
    response = acme_api.post("/products", {"sku": "NEW", "name": "New"}, key=key)
    assert_error(response, 422, "VALIDATION_ERROR")

"""Reservation and order endpoints: shapes, error codes, tenancy, idempotency, contention."""

import datetime
import threading

import pytest
from django.db import connections, transaction

from inventory.ledger.reconcile import balance_differences
from inventory.models import LedgerEntry, Reservation
from tests.api.conftest import ledger_count
from warehouse.tenancy import tenant_context

# Writes here open their own transactions (run_in_transaction), so the tests
# commit for real.
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])


def reserve_body(quantity=3, **extra):
    return {"warehouse": "DC1", "lines": [{"sku": "WIDGET", "quantity": quantity}], **extra}


def stock(api):
    return api.get("/stock", {"sku": "WIDGET", "warehouse": "DC1"}).json()


def test_reserve_answers_the_allocations(acme_api, stocked):
    response = acme_api.post("/reservations", reserve_body(3, ttl_seconds=600, reference="cart-9"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "OPEN"
    assert body["reference"] == "cart-9"
    assert body["complete"] is True
    assert body["expires_at"] is not None
    assert body["lines"] == [
        {
            "sku": "WIDGET",
            "quantity": "3.000",
            "allocated": "3.000",
            "allocations": [{"lot_code": "L1", "location": "RECEIVING", "quantity": "3.000"}],
        }
    ]
    assert stock(acme_api)["reserved"] == "3.000"
    assert stock(acme_api)["available"] == "7.000"
    assert acme_api.get(f"/reservations/{body['id']}").json() == body


def test_issue_then_issue_again(acme_api, stocked):
    reservation = acme_api.post("/reservations", reserve_body(4)).json()
    response = acme_api.post(f"/reservations/{reservation['id']}/issue")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "reservation_id": reservation["id"],
        "status": "ISSUED",
        "lots_issued": [
            {"sku": "WIDGET", "lot_code": "L1", "location": "RECEIVING", "quantity": "4.000"}
        ],
    }
    assert stock(acme_api)["on_hand"] == "6.000"
    assert stock(acme_api)["reserved"] == "0.000"
    again = acme_api.post(f"/reservations/{reservation['id']}/issue")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "RESERVATION_ALREADY_ISSUED"


def test_cancel_then_issue(acme_api, stocked):
    reservation = acme_api.post("/reservations", reserve_body(4)).json()
    response = acme_api.post(f"/reservations/{reservation['id']}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"
    assert stock(acme_api)["reserved"] == "0.000"
    issued = acme_api.post(f"/reservations/{reservation['id']}/issue")
    assert (issued.status_code, issued.json()["error"]["code"]) == (409, "RESERVATION_CANCELLED")


def test_expired_reservation_cannot_be_issued(acme_api, stocked, tenant):
    reservation = acme_api.post("/reservations", reserve_body(4, ttl_seconds=60)).json()
    with tenant_context(tenant.id):
        Reservation.objects.filter(pk=reservation["id"]).update(
            expires_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
        )
    issued = acme_api.post(f"/reservations/{reservation['id']}/issue")
    assert (issued.status_code, issued.json()["error"]["code"]) == (409, "RESERVATION_EXPIRED")
    # Past its expiry, not yet swept: it reads as expired, like the answer above.
    assert acme_api.get(f"/reservations/{reservation['id']}").json()["status"] == "EXPIRED"


def test_shortage_and_unapproved_stock_are_409(acme_api, stocked, tenant):
    before = ledger_count(tenant)
    response = acme_api.post("/reservations", reserve_body(11))
    assert (response.status_code, response.json()["error"]["code"]) == (409, "INSUFFICIENT_STOCK")
    receipt = {"sku": "SERUM", "warehouse": "DC1", "lot_code": "S1", "quantity": 5}
    assert acme_api.post("/receipts", receipt).status_code == 201
    response = acme_api.post(
        "/reservations", {"warehouse": "DC1", "lines": [{"sku": "SERUM", "quantity": 1}]}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "NO_QC_APPROVED_LOT")
    assert ledger_count(tenant) == before + 1  # only the receipt


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"warehouse": "DC1", "lines": []}, 422, "VALIDATION_ERROR"),
        (reserve_body(0), 422, "INVALID_QUANTITY"),
        (reserve_body(-1), 422, "INVALID_QUANTITY"),
        (reserve_body("abc"), 422, "INVALID_QUANTITY"),
        (reserve_body(1, ttl_seconds=0), 422, "VALIDATION_ERROR"),
        (reserve_body(1, allow_partial="maybe"), 422, "VALIDATION_ERROR"),
        (
            {"warehouse": "NOPE", "lines": [{"sku": "WIDGET", "quantity": 1}]},
            404,
            "WAREHOUSE_NOT_FOUND",
        ),
        ({"warehouse": "DC1", "lines": [{"sku": "NOPE", "quantity": 1}]}, 404, "PRODUCT_NOT_FOUND"),
        (
            {
                "warehouse": "DC1",
                "lines": [{"sku": "WIDGET", "quantity": 1}, {"sku": "widget", "quantity": 1}],
            },
            422,
            "VALIDATION_ERROR",
        ),
    ],
)
def test_bad_reservations_are_refused_and_write_nothing(
    acme_api, stocked, tenant, body, status, code
):
    before = ledger_count(tenant)
    response = acme_api.post("/reservations", body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert ledger_count(tenant) == before
    with tenant_context(tenant.id):
        assert Reservation.objects.count() == 0


def test_another_tenants_reservation_and_order_are_not_found(acme_api, globex_api, stocked):
    reservation = acme_api.post("/reservations", reserve_body(1)).json()
    order = acme_api.post(
        "/orders",
        {
            "reference": "SO-1",
            "customer": "Bob",
            "warehouse": "DC1",
            "lines": [{"sku": "WIDGET", "quantity": 1}],
        },
    ).json()
    for path in (
        f"/reservations/{reservation['id']}/issue",
        f"/reservations/{reservation['id']}/cancel",
    ):
        response = globex_api.post(path)
        assert (response.status_code, response.json()["error"]["code"]) == (
            404,
            "RESERVATION_NOT_FOUND",
        )
    response = globex_api.get(f"/reservations/{reservation['id']}")
    assert response.status_code == 404
    response = globex_api.post(f"/orders/{order['id']}/allocate")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "ORDER_NOT_FOUND")
    assert globex_api.get(f"/orders/{order['id']}").status_code == 404
    assert acme_api.get(f"/reservations/{2**63}").status_code == 404


def test_order_is_allocated_once(acme_api, stocked):
    body = {
        "reference": "SO-1",
        "customer": "Bob",
        "warehouse": "DC1",
        "lines": [{"sku": "WIDGET", "quantity": 2}],
    }
    response = acme_api.post("/orders", body)
    assert response.status_code == 201, response.content
    order = response.json()
    assert (order["status"], order["reservation"]) == ("OPEN", None)
    duplicate = acme_api.post("/orders", body)
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (
        409,
        "DUPLICATE_ORDER_REFERENCE",
    )

    first = acme_api.post(f"/orders/{order['id']}/allocate")
    assert first.status_code == 200, first.content
    second = acme_api.post(f"/orders/{order['id']}/allocate")
    assert first.json()["status"] == "ALLOCATED"
    assert second.json()["reservation"]["id"] == first.json()["reservation"]["id"]
    assert first.json()["reservation"]["lines"][0]["allocated"] == "2.000"
    assert stock(acme_api)["reserved"] == "2.000"
    assert acme_api.get(f"/orders/{order['id']}").json() == first.json()


def test_replayed_reservation_answers_the_same_and_holds_once(acme_api, stocked):
    first = acme_api.post("/reservations", reserve_body(2), key="cart-1")
    again = acme_api.post("/reservations", reserve_body(2), key="cart-1")
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert stock(acme_api)["reserved"] == "2.000"
    other = acme_api.post("/reservations", reserve_body(3), key="cart-1")
    assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_a_row_locked_past_the_lock_timeout_answers_503_contention(
    acme_api, stocked, tenant, monkeypatch
):
    from inventory.core import transactions

    monkeypatch.setattr(transactions, "LOCK_TIMEOUT", "100ms")
    before = ledger_count(tenant)
    holding = threading.Event()
    done = threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic(using="maintenance"):
                with connections["maintenance"].cursor() as cursor:
                    cursor.execute("SELECT 1 FROM inventory_balance FOR UPDATE")
                holding.set()
                done.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert holding.wait(5)
        response = acme_api.post("/reservations", reserve_body(1), key="blocked")
    finally:
        done.set()
        holder.join()
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "CONTENTION"
    assert response["Retry-After"] == "1"
    assert ledger_count(tenant) == before
    with tenant_context(tenant.id):
        assert Reservation.objects.count() == 0
        assert not LedgerEntry.objects.filter(kind="RESERVE").exists()
    # Nothing was stored under the key: the retry goes through.
    assert acme_api.post("/reservations", reserve_body(1), key="blocked").status_code == 201
    assert balance_differences()[0] == []


def test_partial_reservation_says_what_it_holds(acme_api, stocked):
    response = acme_api.post("/reservations", reserve_body(15, allow_partial=True))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["allow_partial"], body["complete"]) == (True, False)
    assert (body["lines"][0]["quantity"], body["lines"][0]["allocated"]) == ("15.000", "10.000")
    assert stock(acme_api)["available"] == "0.000"


def test_stock_in_another_warehouse_is_not_reserved(acme_api, stocked):
    assert acme_api.post("/warehouses", {"code": "DC2", "name": "Second"}).status_code == 201
    response = acme_api.post(
        "/reservations", {"warehouse": "DC2", "lines": [{"sku": "WIDGET", "quantity": 1}]}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "INSUFFICIENT_STOCK")
    assert stock(acme_api)["reserved"] == "0.000"


def test_reservation_request_round_trips(acme_api, stocked):
    """Every statement of a whole POST /reservations, token lookup included: the number
    the benchmark reports. The tenant and the timeouts are set in one statement, and the
    token's last use is written at most once a minute (the setup's requests did)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    body = {"warehouse": "DC1", "lines": [{"sku": "WIDGET", "quantity": 1}]}
    with CaptureQueriesContext(connection) as queries:
        response = acme_api.post("/reservations", body, key="rt-1")
    assert response.status_code == 201, response.content
    statements = [query["sql"] for query in queries.captured_queries]
    assert not [sql for sql in statements if sql.startswith("UPDATE") and "last_used_at" in sql]
    # Token lookup: BEGIN, hash setting, select, COMMIT. The write: BEGIN,
    # timeouts and tenant, savepoint, operation, warehouse, products, savepoint,
    # savepoint, candidates, reservation, lines, allocations, balances, ledger,
    # release, stored response, release, COMMIT.
    assert len(statements) <= 22, "\n".join(statements)

"""Writes against rows another transaction holds: retried, then 503 CONTENTION, never a 500.

Real threads and sessions: the holder is a transaction on the maintenance
connection (it sees every tenant) that locks the row a write needs and keeps
it past the write's lock timeout. Each test checks that nothing of the refused
write remains (no ledger entry, no operation row for its key) and that the
balances still equal the ledger.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client

from inventory.models import LedgerEntry, Lot, Operation, Product
from inventory.stock import movements
from tests.api.conftest import ledger_count, new_client
from tests.conftest import PASSWORD
from tests.test_reservation_concurrency import (
    assert_invariants,
    hold_rows,
    in_thread,
    run_threads,
    wait_until_blocked,
)
from warehouse.models import Location
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])

HOLD_BALANCE = "SELECT 1 FROM inventory_balance WHERE lot_id = %s FOR UPDATE"
HOLD_PRODUCT = "SELECT 1 FROM inventory_product WHERE id = %s FOR UPDATE"


@pytest.fixture
def short_lock_timeout(monkeypatch):
    """Writes give up waiting for a lock after 100 ms (read at each call)."""
    monkeypatch.setattr("inventory.core.transactions.LOCK_TIMEOUT", "100ms")


@pytest.fixture
def api(tenant):
    return new_client(tenant)


@pytest.fixture
def stocked(api):
    """DC1 with RECEIVING, A-01 and A-02; lot L1 of WIDGET, 10 in RECEIVING."""
    assert api.post("/warehouses", {"code": "DC1", "name": "Main"}).status_code == 201
    for code in ("A-01", "A-02"):
        assert api.post("/warehouses/DC1/locations", {"code": code}).status_code == 201
    assert api.post("/products", {"sku": "WIDGET", "name": "Widget"}).status_code == 201
    response = api.post(
        "/receipts", {"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L1", "quantity": 10}
    )
    assert response.status_code == 201, response.content
    return response.json()


def lot_id(tenant, code="L1") -> int:
    with tenant_context(tenant.id):
        return Lot.objects.get(code=code).pk


def product_id(tenant, sku="WIDGET") -> int:
    with tenant_context(tenant.id):
        return Product.objects.get(sku=sku).pk


def operation_exists(tenant, key) -> bool:
    with tenant_context(tenant.id):
        return Operation.objects.filter(key=key).exists()


def while_held(sql: str, params: list, send):
    """``send()`` while another session holds the rows ``sql`` locks; its answer."""
    holding, release = threading.Event(), threading.Event()
    holder, _ = hold_rows(sql, params, holding, release)
    assert holding.wait(5)
    try:
        return send()
    finally:
        release.set()
        holder.join(10)


MOVE = {
    "sku": "WIDGET",
    "lot_code": "L1",
    "warehouse": "DC1",
    "from_location": "RECEIVING",
    "to_location": "A-01",
    "quantity": 4,
}
COUNT = {
    "warehouse": "DC1",
    "lines": [{"sku": "WIDGET", "lot_code": "L1", "location": "RECEIVING", "counted_quantity": 7}],
}
ADJUSTMENT = {
    "sku": "WIDGET",
    "warehouse": "DC1",
    "lot_code": "L1",
    "location": "RECEIVING",
    "quantity_delta": -2,
    "reason": "Damaged",
}


def assert_contention(response):
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "CONTENTION"
    assert response["Retry-After"] == "1"


@pytest.mark.parametrize(
    ("path", "body"),
    [("/moves", MOVE), ("/counts", COUNT), ("/adjustments", ADJUSTMENT)],
    ids=["move", "count", "adjustment"],
)
def test_a_write_on_a_held_balance_answers_contention_and_writes_nothing(
    tenant, api, stocked, short_lock_timeout, path, body
):
    before = ledger_count(tenant)
    response = while_held(
        HOLD_BALANCE, [lot_id(tenant)], lambda: api.post(path, body, key=f"held{path}")
    )
    assert_contention(response)
    assert ledger_count(tenant) == before
    assert not operation_exists(tenant, f"held{path}")
    # Once the row is free the same key goes through: nothing of it was stored.
    retried = api.post(path, body, key=f"held{path}")
    assert retried.status_code == 201, retried.content
    assert "Idempotent-Replayed" not in retried
    assert ledger_count(tenant) > before
    assert_invariants()


def test_a_receipt_whose_product_row_is_held_answers_contention(
    tenant, api, stocked, short_lock_timeout
):
    body = {"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L2", "quantity": 5}
    before = ledger_count(tenant)
    # The new lot's reference to its product waits for the product row (KEY SHARE).
    response = while_held(
        HOLD_PRODUCT, [product_id(tenant)], lambda: api.post("/receipts", body, key="held-receipt")
    )
    assert_contention(response)
    assert ledger_count(tenant) == before
    assert not operation_exists(tenant, "held-receipt")
    with tenant_context(tenant.id):
        assert not Lot.objects.filter(code="L2").exists()
    assert api.post("/receipts", body, key="held-receipt").status_code == 201
    assert_invariants()


def test_a_held_write_is_retried_and_succeeds_once_the_row_is_free(tenant, api, stocked):
    """The holder lets go while the move waits: the move goes through, once, with 201."""
    holding, release = threading.Event(), threading.Event()
    holder, _ = hold_rows(HOLD_BALANCE, [lot_id(tenant)], holding, release)
    assert holding.wait(5)
    sender, box = in_thread(lambda: api.post("/moves", MOVE, key="waits"))
    wait_until_blocked()
    release.set()
    holder.join(10)
    sender.join(10)
    assert box["result"].status_code == 201, box["result"].content
    with tenant_context(tenant.id):
        assert LedgerEntry.objects.filter(kind="MOVE_IN").count() == 1
    assert_invariants()


def test_a_move_caught_in_a_deadlock_is_retried_not_a_server_error(
    tenant, api, stocked, monkeypatch
):
    """Moves lock their rows in one global order, so two moves never deadlock each other;
    here a session taking the same two rows in the opposite order plays the other move.
    The move waits first, so PostgreSQL's deadlock check picks it: it is rolled back
    (40P01) and retried, and goes through once the other session has finished."""
    assert api.post("/moves", {**MOVE, "quantity": 1}).status_code == 201
    lot = lot_id(tenant)
    monkeypatch.setattr("inventory.core.transactions.LOCK_TIMEOUT", "10s")
    calls = []
    move_stock = movements.move_stock

    def counted_move(**arguments):
        calls.append(1)
        return move_stock(**arguments)

    monkeypatch.setattr(movements, "move_stock", counted_move)
    with tenant_context(tenant.id):
        location = dict(
            Location.objects.filter(code__in=["RECEIVING", "A-01"]).values_list("code", "pk")
        )
    other_done = threading.Event()
    other_outcome = {}

    def other_move():
        try:
            with connections["maintenance"].cursor() as cursor:
                cursor.execute("BEGIN")
                # The destination first: the opposite of the global order the move follows.
                cursor.execute(
                    "SELECT 1 FROM inventory_balance WHERE lot_id = %s AND location_id = %s"
                    " FOR UPDATE",
                    [lot, location["A-01"]],
                )
                other_done.set()
                wait_until_blocked()
                cursor.execute(
                    "SELECT 1 FROM inventory_balance WHERE lot_id = %s AND location_id = %s"
                    " FOR UPDATE",
                    [lot, location["RECEIVING"]],
                )
                cursor.execute("COMMIT")
                other_outcome["result"] = "committed"
        except Exception as error:
            other_outcome["result"] = error
            with connections["maintenance"].cursor() as cursor:
                cursor.execute("ROLLBACK")

    other, _ = in_thread(other_move)
    assert other_done.wait(5)
    response = api.post("/moves", MOVE, key="deadlocked")
    other.join(15)
    assert response.status_code == 201, response.content
    assert other_outcome["result"] == "committed"
    assert len(calls) == 2, "the deadlocked attempt was retried as a whole"
    with tenant_context(tenant.id):
        assert LedgerEntry.objects.filter(kind="MOVE_IN").count() == 2
    assert_invariants()


def test_opposite_moves_at_once_answer_201_or_contention_never_500(tenant, api, stocked):
    """Workers move stock back and forth between two bins at the same time."""
    assert api.post("/moves", {**MOVE, "to_location": "A-02", "quantity": 5}).status_code == 201
    assert api.post("/moves", {**MOVE, "to_location": "A-01", "quantity": 5}).status_code == 201
    directions = [("A-01", "A-02"), ("A-02", "A-01")] * 2

    def worker(index):
        source, target = directions[index]
        client = new_client(tenant)
        statuses = []
        for _ in range(8):
            body = {**MOVE, "from_location": source, "to_location": target, "quantity": 1}
            response = client.post("/moves", body)
            statuses.append((response.status_code, response.json().get("error", {}).get("code")))
        return statuses

    results = run_threads(len(directions), worker)
    answers = {answer for statuses in results for answer in statuses}
    assert answers <= {(201, None), (503, "CONTENTION"), (409, "INSUFFICIENT_STOCK")}, answers
    assert (201, None) in answers
    assert_invariants()


def test_the_receive_screen_shows_contention_in_place(
    tenant, stocked, short_lock_timeout, django_user_model
):
    from tests.conftest import make_member
    from warehouse.models import Role, Warehouse

    make_member(tenant, "operator", Role.OPERATOR)
    client = Client()
    assert client.login(username="operator", password=PASSWORD)
    with tenant_context(tenant.id):
        warehouse = Warehouse.objects.get(code="DC1")
    form = {
        "idempotency_key": "form:held",
        "sku": "widget",
        "warehouse": warehouse.pk,
        "location": "",
        "lot_code": "L-SCREEN",
        "quantity": "3",
        "expires_on": "",
        "unit_cost": "",
    }
    before = ledger_count(tenant)
    response = while_held(
        HOLD_PRODUCT, [product_id(tenant)], lambda: client.post("/receive/", form)
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert "busy with other operations" in page
    assert 'value="L-SCREEN"' in page, "the form keeps what was typed"
    assert ledger_count(tenant) == before
    assert not operation_exists(tenant, "form:held")
    # Sent again once the row is free, the same form receives the lot.
    assert client.post("/receive/", form).status_code == 302
    assert ledger_count(tenant) == before + 1
    assert_invariants()

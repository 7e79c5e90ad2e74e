"""One write policy for every API write and screen action (inventory.core.writes)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from inventory.api import api
from inventory.api.core import SAFE_METHODS
from inventory.catalog.services import create_product, create_warehouse
from inventory.core.writes import write_idempotent
from inventory.models import Lot, Operation, QcStatus
from inventory.stock.receipts import receive_stock
from tests.api.conftest import ledger_count, new_client
from tests.conftest import PASSWORD, make_member
from tests.test_reservation_concurrency import hold_rows
from warehouse.models import Role
from warehouse.tenancy import tenant_context

transactional = pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])


def api_operations():
    for _prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    yield method, path, operation.view_func


def test_every_api_write_runs_under_the_write_policy():
    writes = [(method, path, view) for method, path, view in api_operations()]
    writes = [(path, view) for method, path, view in writes if method not in SAFE_METHODS]
    assert len(writes) >= 14
    outside = [path for path, view in writes if not getattr(view, "write_kind", None)]
    assert outside == []


@pytest.mark.parametrize(
    "path",
    ["/receive/", "/qc/1/decide/", "/qc/1/reverse/", "/tenant/switch/"],
    ids=["receive", "decide", "reverse", "switch-tenant"],
)
def test_screen_actions_open_their_own_transaction(path):
    # TenantMiddleware wraps other views in a transaction the write could only join.
    assert "default" in getattr(resolve(path).func, "_non_atomic_requests", set())


@pytest.fixture
def stocked(tenant):
    client = new_client(tenant)
    assert client.post("/warehouses", {"code": "DC1", "name": "Main"}).status_code == 201
    assert client.post("/warehouses/DC1/locations", {"code": "A-01"}).status_code == 201
    assert client.post("/products", {"sku": "WIDGET", "name": "Widget"}).status_code == 201
    body = {"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L1", "quantity": 10}
    assert client.post("/receipts", body).status_code == 201
    return client


MOVE = {
    "sku": "WIDGET",
    "lot_code": "L1",
    "warehouse": "DC1",
    "from_location": "RECEIVING",
    "to_location": "A-01",
    "quantity": 4,
}


@transactional
def test_an_api_write_sets_tenant_and_timeouts_before_it_touches_anything(tenant, stocked):
    with CaptureQueriesContext(connections["default"]) as queries:
        assert stocked.post("/moves", MOVE, key="first-statement").status_code == 201
    statements = [query["sql"] for query in queries.captured_queries]
    first = next(index for index, sql in enumerate(statements) if "lock_timeout" in sql)
    assert "statement_timeout" in statements[first]
    assert str(tenant.pk) in statements[first] and "app.tenant_id" in statements[first]
    # Only the token lookup comes before it; the operation row and the stock after.
    assert not any(
        table in sql
        for sql in statements[:first]
        for table in ("inventory_operation", "inventory_balance", "inventory_ledger")
    )


@transactional
def test_the_idempotency_record_joins_the_write_without_a_savepoint(tenant):
    with CaptureQueriesContext(connections["default"]) as queries:
        result = write_idempotent(
            tenant=tenant,
            key="no-savepoint",
            kind="test",
            payload={"a": 1},
            perform=lambda operation: (201, {"operation": operation.pk}),
        )
    assert result.status == 201
    statements = [query["sql"] for query in queries.captured_queries]
    assert not [sql for sql in statements if "SAVEPOINT" in sql]
    with tenant_context(tenant.pk):
        assert Operation.objects.get(key="no-savepoint").response_body == result.body


@transactional
def test_a_refused_write_keeps_neither_its_entries_nor_its_key(tenant, stocked):
    before = ledger_count(tenant)
    response = stocked.post("/moves", {**MOVE, "quantity": 11}, key="too-much")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "INSUFFICIENT_STOCK"
    assert ledger_count(tenant) == before
    with tenant_context(tenant.pk):
        assert not Operation.objects.filter(key="too-much").exists()


@transactional
def test_a_qc_decision_on_a_held_lot_shows_contention_in_the_row(tenant, monkeypatch):
    monkeypatch.setattr("inventory.core.transactions.LOCK_TIMEOUT", "100ms")
    make_member(tenant, "inspector", Role.QC)
    warehouse = create_warehouse(tenant=tenant, code="DC1", name="Main")
    cheese = create_product(tenant=tenant, sku="CHEESE", name="Cheese", qc_required=True)
    lot = receive_stock(
        tenant=tenant, product=cheese, warehouse=warehouse, lot_code="Q-1", quantity=5
    ).lot
    client = Client()
    assert client.login(username="inspector", password=PASSWORD)
    holding, release = threading.Event(), threading.Event()
    holder, _ = hold_rows(
        "SELECT 1 FROM inventory_lot WHERE id = %s FOR UPDATE", [lot.pk], holding, release
    )
    assert holding.wait(5)
    try:
        response = client.post(
            f"/qc/{lot.pk}/decide/", {"decision": "approve", "note": ""}, HTTP_HX_REQUEST="true"
        )
    finally:
        release.set()
        holder.join(10)
    assert response.status_code == 422
    assert "busy with other operations" in response.content.decode()
    with tenant_context(tenant.pk):
        assert Lot.objects.get(pk=lot.pk).qc_status == QcStatus.QUARANTINE
    response = client.post(f"/qc/{lot.pk}/decide/", {"decision": "approve", "note": ""})
    assert response.status_code == 302
    with tenant_context(tenant.pk):
        assert Lot.objects.get(pk=lot.pk).qc_status == QcStatus.APPROVED

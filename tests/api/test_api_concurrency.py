"""One ``Idempotency-Key`` sent by many clients at once takes effect once."""

import threading

import pytest
from django.db import connections

from tests.api.conftest import ledger_count, new_client
from warehouse.models import Tenant

THREADS = 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_take_effect_once():
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    setup = new_client(tenant)
    assert setup.post("/warehouses", {"code": "DC1", "name": "Main"}).status_code == 201
    assert setup.post("/products", {"sku": "WIDGET", "name": "Widget"}).status_code == 201
    body = {"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L1", "quantity": 10}
    barrier = threading.Barrier(THREADS)
    answers = []

    def send():
        try:
            client = new_client(tenant)
            barrier.wait()
            response = client.post("/receipts", body, key="one-receipt")
            answers.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == THREADS
    assert {status for status, _ in answers} == {201}
    assert all(answer == answers[0][1] for _, answer in answers)
    assert ledger_count(tenant) == 1
    assert setup.get("/stock", {"sku": "WIDGET"}).json()["on_hand"] == "10.000"

"""Answers are built from the response schemas: a write answers what a read of it gives,
the schemas document every field on the wire, and operations keep their names."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_new_product_answers_what_reading_it_gives(acme_api, stocked):
    created = acme_api.post(
        "/products",
        {"sku": "BOLT-8", "name": "Bolt", "unit_cost": "0.125", "attributes": {"size": 8}},
    )
    assert created.status_code == 201
    assert created.json() == acme_api.get("/products/BOLT-8").json()
    assert created.json()["unit_cost"] == "0.1250"


def test_a_reservation_answers_what_reading_it_gives(acme_api, stocked):
    created = acme_api.post(
        "/reservations", {"warehouse": "DC1", "lines": [{"sku": "WIDGET", "quantity": 4}]}
    )
    assert created.status_code == 201
    body = created.json()
    assert body == acme_api.get(f"/reservations/{body['id']}").json()
    assert body["lines"] == [
        {
            "sku": "WIDGET",
            "quantity": "4.000",
            "allocated": "4.000",
            "allocations": [{"lot_code": "L1", "location": "RECEIVING", "quantity": "4.000"}],
        }
    ]


def test_an_allocated_order_answers_what_reading_it_gives(acme_api, stocked):
    order = acme_api.post(
        "/orders",
        {
            "reference": "SO-1",
            "customer": "Corner shop",
            "warehouse": "DC1",
            "lines": [{"sku": "WIDGET", "quantity": 2}],
        },
    ).json()
    assert order["reservation"] is None
    allocated = acme_api.post(f"/orders/{order['id']}/allocate")
    assert allocated.status_code == 200
    assert allocated.json() == acme_api.get(f"/orders/{order['id']}").json()
    assert allocated.json()["reservation"]["lines"][0]["allocated"] == "2.000"


def test_a_ledger_entry_answers_what_the_movements_list_gives(acme_api, stocked):
    adjusted = acme_api.post(
        "/adjustments",
        {
            "sku": "WIDGET",
            "warehouse": "DC1",
            "lot_code": "L1",
            "quantity_delta": "-1",
            "reason": "damaged",
        },
    )
    assert adjusted.status_code == 201
    (listed,) = acme_api.get("/movements", {"kind": "ADJUST"}).json()["items"]
    assert adjusted.json() == listed
    assert listed["quantity"] == "-1.000"


def test_the_receipt_schema_documents_every_field_a_receipt_answers(acme_api, stocked):
    schema = Client().get("/api/v1/openapi.json").json()
    documented = set(schema["components"]["schemas"]["ReceiptOut"]["properties"])
    assert documented == set(stocked)
    assert {"is_expired", "is_available"} <= documented


def test_operations_are_named_after_their_endpoints():
    schema = Client().get("/api/v1/openapi.json").json()
    names = {
        operation["operationId"]
        for methods in schema["paths"].values()
        for operation in methods.values()
    }
    assert {
        "create_product",
        "list_products",
        "create_receipt",
        "create_count",
        "get_stock",
        "list_movements",
        "create_reservation",
        "issue_reservation",
        "allocate_order",
        "get_order",
    } <= names

"""Receipts, QC, adjustments, moves, counts, stock and movements through the API."""

import pytest

from inventory.catalog.services import create_warehouse
from tests.api.conftest import ledger_count
from tests.api.test_api_auth import assert_error

pytestmark = pytest.mark.django_db


def stock(api, sku, warehouse=None):
    params = {"sku": sku} | ({"warehouse": warehouse} if warehouse else {})
    response = api.get("/stock", params)
    assert response.status_code == 200, response.content
    return response.json()


def receive(api, **fields):
    body = {"sku": "SERUM", "warehouse": "DC1", "lot_code": "S1", "quantity": "2.5"} | fields
    return api.post("/receipts", body)


# -- receipts --------------------------------------------------------------------


def test_receipt_goes_to_the_receiving_bin_and_is_approved_without_qc(acme_api, stocked):
    assert stocked["location"] == "RECEIVING"
    assert stocked["qc_status"] == "APPROVED"
    assert stocked["quantity"] == "10.000"
    assert stock(acme_api, "WIDGET") == {
        "sku": "WIDGET",
        "warehouse": None,
        "on_hand": "10.000",
        "reserved": "0.000",
        "available": "10.000",
        "quarantined": "0.000",
        "rejected": "0.000",
        "expired": "0.000",
    }


def test_receipt_into_a_named_bin_with_expiry(acme_api, stocked):
    response = receive(
        acme_api,
        sku="WIDGET",
        lot_code="L2",
        location="a-02",
        quantity=4,
        expires_on="2031-01-31",
        unit_cost=1.25,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["location"], body["expires_on"], body["unit_cost"]) == (
        "A-02",
        "2031-01-31",
        "1.2500",
    )
    assert stock(acme_api, "WIDGET", "DC1")["on_hand"] == "14.000"


def test_qc_product_is_received_into_quarantine_and_not_available(acme_api, stocked):
    body = receive(acme_api).json()
    assert body["qc_status"] == "QUARANTINE"
    summary = stock(acme_api, "SERUM")
    assert (summary["on_hand"], summary["available"], summary["quarantined"]) == (
        "2.500",
        "0.000",
        "2.500",
    )


def test_receipt_errors(acme_api, stocked, tenant):
    assert_error(receive(acme_api, sku="NOPE"), 404, "PRODUCT_NOT_FOUND")
    assert_error(receive(acme_api, warehouse="NOPE"), 404, "WAREHOUSE_NOT_FOUND")
    assert_error(receive(acme_api, location="NOPE"), 404, "LOCATION_NOT_FOUND")
    assert_error(
        receive(acme_api, sku="WIDGET", lot_code="l1", quantity=1), 409, "DUPLICATE_LOT_CODE"
    )
    assert_error(receive(acme_api, sku="WIDGET", quantity="1.5"), 422, "INVALID_QUANTITY")
    assert ledger_count(tenant) == 1


def test_receipt_into_a_warehouse_without_receiving_bin(acme_api, stocked, tenant):
    create_warehouse(tenant=tenant, code="DC2", name="Bare", receiving_location_code=None)
    assert_error(receive(acme_api, warehouse="DC2"), 404, "LOCATION_NOT_FOUND")


# -- QC --------------------------------------------------------------------------------


def test_approving_a_lot_makes_it_available(acme_api, stocked):
    lot_id = receive(acme_api).json()["lot_id"]
    response = acme_api.post(f"/lots/{lot_id}/qc", {"status": "APPROVED", "note": "COA ok"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["qc_status"], body["qc_note"]) == (lot_id, "APPROVED", "COA ok")
    assert body["qc_at"]
    assert stock(acme_api, "SERUM")["available"] == "2.500"


def test_rejected_lot_stays_on_hand_but_never_available(acme_api, stocked):
    lot_id = receive(acme_api).json()["lot_id"]
    response = acme_api.post(f"/lots/{lot_id}/qc", {"status": "REJECTED", "note": "leaking"})
    assert response.json()["qc_status"] == "REJECTED"
    summary = stock(acme_api, "SERUM")
    assert (summary["on_hand"], summary["available"], summary["rejected"]) == (
        "2.500",
        "0.000",
        "2.500",
    )
    again = acme_api.post(f"/lots/{lot_id}/qc", {"status": "APPROVED"})
    assert_error(again, 409, "LOT_NOT_IN_QUARANTINE")


def test_qc_on_unknown_or_foreign_lot_is_not_found(acme_api, globex_api, stocked):
    globex_api.post("/warehouses", {"code": "GX", "name": "Globex"})
    globex_api.post("/products", {"sku": "G1", "name": "G", "qc_required": True})
    foreign = globex_api.post(
        "/receipts", {"sku": "G1", "warehouse": "GX", "lot_code": "G", "quantity": 1}
    ).json()["lot_id"]
    for lot_id in (foreign, 999_999, 2**70):
        response = acme_api.post(f"/lots/{lot_id}/qc", {"status": "APPROVED"})
        assert_error(response, 404, "LOT_NOT_FOUND")
    assert_error(acme_api.post("/lots/abc/qc", {"status": "APPROVED"}), 422, "VALIDATION_ERROR")


def test_qc_status_must_be_a_decision(acme_api, stocked):
    response = acme_api.post(f"/lots/{stocked['lot_id']}/qc", {"status": "QUARANTINE"})
    assert_error(response, 422, "VALIDATION_ERROR")


# -- adjustments -------------------------------------------------------------------------


def adjust(api, **fields):
    body = {
        "sku": "WIDGET",
        "warehouse": "DC1",
        "lot_code": "L1",
        "quantity_delta": -3,
        "reason": "damaged",
    } | fields
    return api.post("/adjustments", body)


def test_adjustment_finds_the_bin_holding_the_lot(acme_api, stocked):
    response = adjust(acme_api)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["quantity"], body["location"], body["reason"]) == (
        "ADJUST",
        "-3.000",
        "RECEIVING",
        "damaged",
    )
    assert stock(acme_api, "WIDGET")["on_hand"] == "7.000"
    assert adjust(acme_api, location="A-01", quantity_delta="5").status_code == 201
    assert stock(acme_api, "WIDGET")["on_hand"] == "12.000"
    # Now the lot is in two bins: the location must be named.
    assert_error(adjust(acme_api), 422, "VALIDATION_ERROR")


def test_adjustment_errors(acme_api, stocked, tenant):
    assert_error(adjust(acme_api, quantity_delta=-11), 409, "INSUFFICIENT_STOCK")
    assert_error(adjust(acme_api, quantity_delta=0), 422, "INVALID_QUANTITY")
    assert_error(adjust(acme_api, lot_code="NOPE"), 404, "LOT_NOT_FOUND")
    assert_error(adjust(acme_api, location="NOPE"), 404, "LOCATION_NOT_FOUND")
    assert_error(adjust(acme_api, reason="  "), 422, "VALIDATION_ERROR")
    assert stock(acme_api, "WIDGET")["on_hand"] == "10.000"
    assert ledger_count(tenant) == 1


# -- shipments -------------------------------------------------------------------------------


def ship(api, **fields):
    body = {"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L1", "quantity": 4} | fields
    return api.post("/shipments", body)


def test_shipment_takes_free_stock_out(acme_api, stocked, tenant):
    response = ship(acme_api, reference="POS-7")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["quantity"], body["location"], body["reason"]) == (
        "SHIP",
        "-4.000",
        "RECEIVING",
        "POS-7",
    )
    assert stock(acme_api, "WIDGET")["on_hand"] == "6.000"


def test_shipping_a_quarantined_lot_answers_lot_not_approved(acme_api, stocked, tenant):
    assert receive(acme_api).json()["qc_status"] == "QUARANTINE"
    assert_error(ship(acme_api, sku="SERUM", lot_code="S1", quantity=1), 409, "LOT_NOT_APPROVED")
    assert stock(acme_api, "SERUM")["on_hand"] == "2.500"
    assert ledger_count(tenant) == 2


def test_shipment_errors(acme_api, stocked, tenant):
    assert_error(ship(acme_api, quantity=11), 409, "INSUFFICIENT_STOCK")
    assert_error(ship(acme_api, quantity="0.5"), 422, "INVALID_QUANTITY")
    assert_error(ship(acme_api, lot_code="NOPE"), 404, "LOT_NOT_FOUND")
    assert_error(ship(acme_api, sku="NOPE"), 404, "PRODUCT_NOT_FOUND")
    assert_error(ship(acme_api, warehouse="NOPE"), 404, "WAREHOUSE_NOT_FOUND")
    assert stock(acme_api, "WIDGET")["on_hand"] == "10.000"
    assert ledger_count(tenant) == 1


# -- moves -----------------------------------------------------------------------------------


def move(api, **fields):
    body = {
        "sku": "WIDGET",
        "lot_code": "L1",
        "warehouse": "DC1",
        "from_location": "RECEIVING",
        "to_location": "A-01",
        "quantity": 4,
    } | fields
    return api.post("/moves", body)


def test_move_between_bins(acme_api, stocked, tenant):
    response = move(acme_api)
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(e["kind"], e["location"], e["quantity"]) for e in body["entries"]] == [
        ("MOVE_OUT", "RECEIVING", "-4.000"),
        ("MOVE_IN", "A-01", "4.000"),
    ]
    assert stock(acme_api, "WIDGET")["on_hand"] == "10.000"
    assert ledger_count(tenant) == 3


def test_move_errors(acme_api, stocked, tenant):
    assert_error(move(acme_api, quantity=11), 409, "INSUFFICIENT_STOCK")
    assert_error(move(acme_api, to_location="RECEIVING"), 422, "VALIDATION_ERROR")
    assert_error(move(acme_api, to_location="NOPE"), 404, "LOCATION_NOT_FOUND")
    assert_error(move(acme_api, warehouse="NOPE"), 404, "WAREHOUSE_NOT_FOUND")
    assert_error(move(acme_api, sku="NOPE"), 404, "PRODUCT_NOT_FOUND")
    assert ledger_count(tenant) == 1


# -- counts ------------------------------------------------------------------------------------


def test_count_posts_only_the_differences(acme_api, stocked, tenant):
    move(acme_api, quantity=4)
    response = acme_api.post(
        "/counts",
        {
            "warehouse": "DC1",
            "lines": [
                {"sku": "WIDGET", "lot_code": "L1", "location": "RECEIVING", "counted_quantity": 5},
                {"sku": "WIDGET", "lot_code": "L1", "location": "A-01", "counted_quantity": "4"},
            ],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["posted"] == 1
    assert [
        (line["location"], line["previous_quantity"], line["difference"]) for line in body["lines"]
    ] == [("RECEIVING", "6.000", "-1.000"), ("A-01", "4.000", "0.000")]
    assert stock(acme_api, "WIDGET")["on_hand"] == "9.000"
    kinds = [e["kind"] for e in acme_api.get("/movements").json()["items"]]
    assert kinds[0] == "COUNT"


def test_count_errors(acme_api, stocked, tenant):
    def count(**line):
        base = {
            "sku": "WIDGET",
            "lot_code": "L1",
            "location": "RECEIVING",
            "counted_quantity": 3,
        } | line
        return acme_api.post("/counts", {"warehouse": "DC1", "lines": [base]})

    assert_error(count(counted_quantity=-1), 422, "INVALID_QUANTITY")
    assert_error(count(lot_code="NOPE"), 404, "LOT_NOT_FOUND")
    assert_error(count(location="NOPE"), 404, "LOCATION_NOT_FOUND")
    assert_error(
        acme_api.post("/counts", {"warehouse": "DC1", "lines": []}), 422, "VALIDATION_ERROR"
    )
    assert ledger_count(tenant) == 1


# -- stock and movements --------------------------------------------------------------------------


def test_stock_errors(acme_api, globex_api, stocked):
    globex_api.post("/warehouses", {"code": "GX", "name": "Globex"})
    assert_error(acme_api.get("/stock", {"sku": "NOPE"}), 404, "PRODUCT_NOT_FOUND")
    assert_error(
        acme_api.get("/stock", {"sku": "WIDGET", "warehouse": "GX"}), 404, "WAREHOUSE_NOT_FOUND"
    )
    assert_error(acme_api.get("/stock"), 422, "VALIDATION_ERROR")


def test_movements_newest_first_filtered_and_paginated(acme_api, stocked):
    move(acme_api, quantity=1)
    adjust(acme_api, location="A-01", quantity_delta=1)
    items = acme_api.get("/movements").json()["items"]
    assert [item["kind"] for item in items] == ["ADJUST", "MOVE_IN", "MOVE_OUT", "RECEIPT"]
    first = acme_api.get("/movements", {"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_offset"] == 3
    rest = acme_api.get("/movements", {"limit": 3, "offset": 3}).json()
    assert [item["kind"] for item in rest["items"]] == ["RECEIPT"] and rest["next_offset"] is None
    moves = acme_api.get("/movements", {"kind": "MOVE_IN", "sku": "widget"}).json()["items"]
    assert [item["location"] for item in moves] == ["A-01"]
    assert acme_api.get("/movements", {"since": "2999-01-01T00:00:00Z"}).json()["items"] == []
    assert acme_api.get("/movements", {"sku": "SERUM"}).json()["items"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "STEAL"},
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"since": "yesterday"},
        {"limit": "x"},
    ],
)
def test_movements_refuse_bad_parameters(acme_api, stocked, params):
    assert_error(acme_api.get("/movements", params), 422, "VALIDATION_ERROR")


def test_movements_of_another_tenant_are_invisible(acme_api, globex_api, stocked):
    assert globex_api.get("/movements").json()["items"] == []
    assert_error(globex_api.get("/movements", {"sku": "WIDGET"}), 404, "PRODUCT_NOT_FOUND")
    assert_error(globex_api.get("/stock", {"sku": "WIDGET"}), 404, "PRODUCT_NOT_FOUND")

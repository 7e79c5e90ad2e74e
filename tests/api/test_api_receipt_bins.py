"""Receipts through the API: only into bins meant for them, and expired lots said to be expired."""

import pytest

from tests.api.conftest import ledger_count

pytestmark = pytest.mark.django_db


@pytest.fixture
def bins(acme_api, stocked):
    for code, kind in (("PICK-1", "pick"), ("SHIP-1", "shipping"), ("QC-1", "quarantine")):
        response = acme_api.post("/warehouses/DC1/locations", {"code": code, "kind": kind})
        assert response.status_code == 201, response.content


def receipt(**fields):
    return {"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L2", "quantity": 4} | fields


@pytest.mark.parametrize("location", ["PICK-1", "SHIP-1", "QC-1"])
def test_a_receipt_into_a_bin_not_for_receiving_is_refused(acme_api, tenant, bins, location):
    before = ledger_count(tenant)
    response = acme_api.post("/receipts", receipt(location=location))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "LOCATION_NOT_RECEIVABLE"
    assert f"Bin {location} is a" in error["message"]
    assert ledger_count(tenant) == before


def test_a_product_that_needs_qc_may_go_into_a_quarantine_bin(acme_api, bins):
    response = acme_api.post(
        "/receipts", receipt(sku="SERUM", lot_code="S1", quantity="2.5", location="QC-1")
    )
    assert response.status_code == 201, response.content
    assert (response.json()["location"], response.json()["qc_status"]) == ("QC-1", "QUARANTINE")


def test_a_lot_received_past_its_expiry_is_answered_as_expired(acme_api, stocked):
    response = acme_api.post("/receipts", receipt(expires_on="2020-01-01"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["qc_status"], body["is_expired"], body["is_available"]) == (
        "APPROVED",
        True,
        False,
    )
    stock = acme_api.get("/stock", {"sku": "WIDGET"}).json()
    assert (stock["available"], stock["expired"]) == ("10.000", "4.000")
    assert stocked["is_expired"] is False and stocked["is_available"] is True


def test_a_tenant_refusing_expired_lots_answers_the_error_code(acme_api, stocked, tenant):
    tenant.refuse_expired_receipts = True
    tenant.save(update_fields=["refuse_expired_receipts"])
    before = ledger_count(tenant)
    response = acme_api.post("/receipts", receipt(expires_on="2020-01-01"))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "LOT_EXPIRED_ON_RECEIPT"
    assert ledger_count(tenant) == before

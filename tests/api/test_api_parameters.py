"""Parameters the schema documents are enforced exactly as documented."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(seeded):
    return seeded


@pytest.mark.parametrize(
    "since", ["0.5", "0", "1700000000", "2026-05-01T08:00:00", "2026-05-01", "2026-13-01T00:00:00Z"]
)
def test_since_must_be_an_rfc_3339_timestamp(acme_api, stocked, since):
    response = acme_api.get("/movements", {"since": since})
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    "since",
    ["2000-01-01T00:00:00Z", "2000-01-01t00:00:00.123456789+02:00", "2000-01-01T00:00:00-05:00"],
)
def test_rfc_3339_timestamps_are_accepted(acme_api, stocked, since):
    response = acme_api.get("/movements", {"since": since})
    assert response.status_code == 200, response.content
    assert len(response.json()["items"]) == 1


@pytest.mark.parametrize("key", ["auto:mine", "k" * 256, " padded", "padded ", "caf\u00e9"])
def test_malformed_idempotency_keys_are_refused(acme_api, stocked, key):
    response = acme_api.client.post(
        "/api/v1/warehouses",
        {"code": "DC7", "name": "Seven"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {acme_api.secret}",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_the_schema_documents_the_idempotency_key_and_the_errors():
    schema = Client().get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/reservations"]["post"]
    (header,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header"
    assert header["schema"]["maxLength"] == 255
    assert "auto:" in header["schema"]["pattern"]
    assert {"401", "404", "409", "413", "422", "503"} <= set(operation["responses"])
    since = next(
        p for p in schema["paths"]["/api/v1/movements"]["get"]["parameters"] if p["name"] == "since"
    )
    assert "date-time" in str(since["schema"])


@pytest.mark.parametrize("unit_cost", ["1e2", "+1", "1.00001", " 1", "1000000000.5", "-0"])
def test_unit_costs_are_plain_decimals(acme_api, stocked, unit_cost):
    response = acme_api.post("/products", {"sku": "P-1", "name": "P", "unit_cost": unit_cost})
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "INVALID_QUANTITY"


@pytest.mark.parametrize("unit_cost", ["12.5", "0", "1000000000", 0.3, 7, None])
def test_ordinary_unit_costs_are_accepted(acme_api, stocked, unit_cost):
    response = acme_api.post("/products", {"sku": "P-2", "name": "P", "unit_cost": unit_cost})
    assert response.status_code == 201, response.content

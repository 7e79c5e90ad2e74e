"""Products, warehouses and locations through the API, and tenant isolation."""

import pytest

from tests.api.test_api_auth import assert_error

pytestmark = pytest.mark.django_db


def test_create_product_answers_201_with_the_product(acme_api):
    response = acme_api.post(
        "/products",
        {
            "sku": "BOLT-10",
            "name": "Hex bolt M10",
            "uom": "box",
            "qc_required": True,
            "unit_cost": "0.35",
            "shelf_life_days": 365,
            "attributes": {"material": "steel"},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sku"] == "BOLT-10"
    assert body["uom"] == "box"
    assert body["qc_required"] is True
    assert body["unit_cost"] == "0.3500"
    assert body["attributes"] == {"material": "steel"}
    assert acme_api.get("/products/bolt-10").json()["name"] == "Hex bolt M10"


def test_duplicate_sku_ignoring_case_is_a_conflict(acme_api):
    assert acme_api.post("/products", {"sku": "BOLT", "name": "Bolt"}).status_code == 201
    assert_error(acme_api.post("/products", {"sku": "bolt", "name": "Bolt"}), 409, "DUPLICATE_SKU")


def test_product_list_searches_full_text(acme_api):
    acme_api.post("/products", {"sku": "CHAIR-1", "name": "Wooden chair"})
    acme_api.post("/products", {"sku": "TABLE-1", "name": "Oak table"})
    everything = acme_api.get("/products").json()["items"]
    assert [product["sku"] for product in everything] == ["CHAIR-1", "TABLE-1"]
    found = acme_api.get("/products", {"q": "chairs"}).json()["items"]
    assert [product["sku"] for product in found] == ["CHAIR-1"]


def test_missing_product_is_not_found(acme_api):
    assert_error(acme_api.get("/products/NOPE"), 404, "PRODUCT_NOT_FOUND")
    assert_error(acme_api.get("/products/" + "X" * 5000), 404, "PRODUCT_NOT_FOUND")


def test_another_tenants_product_answers_like_a_missing_one(acme_api, globex_api):
    globex_api.post("/products", {"sku": "SECRET", "name": "Globex only"})
    missing = acme_api.get("/products/NOPE").json()["error"]
    foreign = acme_api.get("/products/SECRET").json()["error"]
    assert acme_api.get("/products/SECRET").status_code == 404
    assert foreign["code"] == missing["code"] == "PRODUCT_NOT_FOUND"
    assert acme_api.get("/products").json()["items"] == []
    assert acme_api.get("/products", {"q": "Globex"}).json()["items"] == []
    # And the SKU is free in Acme: SKUs are unique per tenant only.
    assert acme_api.post("/products", {"sku": "SECRET", "name": "Acme's own"}).status_code == 201


def test_create_warehouse_comes_with_a_receiving_bin(acme_api):
    response = acme_api.post("/warehouses", {"code": "DC1", "name": "Main DC"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "DC1"
    assert [(loc["code"], loc["kind"]) for loc in body["locations"]] == [("RECEIVING", "receiving")]


def test_duplicate_warehouse_code_is_a_conflict(acme_api):
    acme_api.post("/warehouses", {"code": "DC1", "name": "Main DC"})
    assert_error(
        acme_api.post("/warehouses", {"code": "dc1", "name": "Again"}),
        409,
        "DUPLICATE_WAREHOUSE_CODE",
    )


def test_unknown_time_zone_is_a_validation_error(acme_api):
    response = acme_api.post("/warehouses", {"code": "DC1", "name": "X", "time_zone": "Mars/Base"})
    assert_error(response, 422, "VALIDATION_ERROR")


def test_create_location(acme_api):
    acme_api.post("/warehouses", {"code": "DC1", "name": "Main DC"})
    response = acme_api.post(
        "/warehouses/DC1/locations", {"code": "Q-01", "kind": "quarantine", "pick_sequence": 5}
    )
    assert response.status_code == 201, response.content
    assert response.json() == {
        "id": response.json()["id"],
        "warehouse": "DC1",
        "code": "Q-01",
        "kind": "quarantine",
        "pick_sequence": 5,
    }
    assert_error(
        acme_api.post("/warehouses/DC1/locations", {"code": "q-01"}),
        409,
        "DUPLICATE_LOCATION_CODE",
    )


def test_location_in_unknown_or_foreign_warehouse_is_not_found(acme_api, globex_api):
    globex_api.post("/warehouses", {"code": "GX", "name": "Globex DC"})
    for code in ("NOPE", "GX", "W" * 500):
        response = acme_api.post(f"/warehouses/{code}/locations", {"code": "A-01"})
        assert_error(response, 404, "WAREHOUSE_NOT_FOUND")


# -- GTINs -------------------------------------------------------------------------


def test_a_product_may_carry_a_gtin_answered_in_its_14_digit_form(acme_api):
    response = acme_api.post(
        "/products", {"sku": "RICE-5", "name": "Rice", "gtin": "9501101020917"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["gtin"] == "09501101020917"
    assert acme_api.get("/products/RICE-5").json()["gtin"] == "09501101020917"
    assert acme_api.post("/products", {"sku": "OATS", "name": "Oats"}).json()["gtin"] == ""


@pytest.mark.parametrize("gtin", ["09501101020918", "1234567", "950110102091A", "123456789"])
def test_a_gtin_with_a_wrong_check_digit_or_length_is_refused(acme_api, gtin):
    response = acme_api.post("/products", {"sku": "RICE-5", "name": "Rice", "gtin": gtin})
    assert_error(response, 422, "INVALID_GTIN")
    assert_error(acme_api.get("/products/RICE-5"), 404, "PRODUCT_NOT_FOUND")


def test_an_over_long_gtin_is_refused_by_the_schema(acme_api):
    response = acme_api.post("/products", {"sku": "RICE-5", "name": "Rice", "gtin": "9" * 15})
    assert_error(response, 422, "VALIDATION_ERROR")


def test_two_products_of_a_tenant_never_share_a_gtin(acme_api, globex_api):
    body = {"sku": "RICE-5", "name": "Rice", "gtin": "09501101020917"}
    assert acme_api.post("/products", body).status_code == 201
    again = acme_api.post("/products", {**body, "sku": "RICE-6", "gtin": "9501101020917"})
    assert_error(again, 409, "DUPLICATE_GTIN")
    # GTINs are unique per tenant only.
    assert globex_api.post("/products", body).status_code == 201

"""``GET /products?attributes=...``: products whose attributes contain a JSON object."""

import json

import pytest

from tests.api.test_api_auth import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(acme_api, globex_api):
    for sku, colour in [("CHAIR-1", "oak"), ("CHAIR-2", "pine"), ("TABLE-1", "oak")]:
        body = {"sku": sku, "name": f"Item {sku}", "attributes": {"wood": colour, "legs": 4}}
        assert acme_api.post("/products", body).status_code == 201
    body = {"sku": "GLOBEX-OAK", "name": "Oak desk", "attributes": {"wood": "oak"}}
    assert globex_api.post("/products", body).status_code == 201


def skus(response):
    assert response.status_code == 200, response.content
    return [item["sku"] for item in response.json()["items"]]


def test_attribute_filter_lists_matching_products_of_the_tenant_by_sku(acme_api, catalog):
    response = acme_api.get("/products", {"attributes": json.dumps({"wood": "oak"})})
    assert skus(response) == ["CHAIR-1", "TABLE-1"]
    response = acme_api.get("/products", {"attributes": json.dumps({"wood": "oak", "legs": 3})})
    assert skus(response) == []


def test_an_empty_attribute_filter_lists_every_product(acme_api, catalog):
    assert skus(acme_api.get("/products", {"attributes": "{}"})) == [
        "CHAIR-1",
        "CHAIR-2",
        "TABLE-1",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        '"oak"',
        '{"wood": "o\\u0000ak"}',
        '{"size": 1e999}',
        '{"size": NaN}',
        '{"a": ' * 2000 + "1" + "}" * 2000,
        json.dumps({"wood": "x" * 20_000}),
        "{" + '"a":' + "9" * 5000 + "}",
    ],
)
def test_a_malformed_attribute_filter_is_a_validation_error(acme_api, catalog, text):
    assert_error(acme_api.get("/products", {"attributes": text}), 422, "VALIDATION_ERROR")


def test_search_and_attribute_filter_together_are_refused(acme_api, catalog):
    response = acme_api.get("/products", {"q": "chair", "attributes": '{"wood": "oak"}'})
    assert_error(response, 422, "VALIDATION_ERROR")

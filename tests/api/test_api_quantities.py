"""Numbers a client sends are bounded before anything touches them: 422 INVALID_QUANTITY."""

import json
from decimal import Decimal

import pytest

from inventory.core.errors import InvalidQuantity
from inventory.core.quantities import parse_amount, parse_quantity, to_decimal
from tests.api.conftest import ledger_count

pytestmark = pytest.mark.django_db

ENORMOUS = ["1E+999999", "1e1000000", "-1e1000000", "9" * 41, "1e100", "1e-100"]
NOT_ASCII = ["\u0661\u0662", "\uff11\uff10", "1\u0662", "\u0663.\u0665"]


@pytest.fixture
def stocked(seeded):
    return seeded


QUANTITY_BODIES = {
    "/receipts": lambda q: {"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L9", "quantity": q},
    "/adjustments": lambda q: {
        "sku": "WIDGET",
        "warehouse": "DC1",
        "lot_code": "L1",
        "quantity_delta": q,
        "reason": "found",
    },
    "/shipments": lambda q: {"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L1", "quantity": q},
    "/moves": lambda q: {
        "sku": "WIDGET",
        "lot_code": "L1",
        "warehouse": "DC1",
        "from_location": "RECEIVING",
        "to_location": "A-01",
        "quantity": q,
    },
    "/counts": lambda q: {
        "warehouse": "DC1",
        "lines": [
            {"sku": "WIDGET", "lot_code": "L1", "location": "RECEIVING", "counted_quantity": q}
        ],
    },
    "/products": lambda q: {"sku": "NEW-1", "name": "New", "unit_cost": q},
    "/receipts unit cost": lambda q: {
        "sku": "WIDGET",
        "warehouse": "DC1",
        "lot_code": "L9",
        "quantity": 1,
        "unit_cost": q,
    },
    "/reservations": lambda q: {"warehouse": "DC1", "lines": [{"sku": "WIDGET", "quantity": q}]},
    "/orders": lambda q: {
        "reference": "SO-1",
        "customer": "Ann",
        "warehouse": "DC1",
        "lines": [{"sku": "WIDGET", "quantity": q}],
    },
}


@pytest.mark.parametrize("value", ENORMOUS + NOT_ASCII)
@pytest.mark.parametrize("endpoint", sorted(QUANTITY_BODIES))
def test_unbounded_or_non_ascii_numbers_are_invalid_quantities(
    acme_api, stocked, tenant, endpoint, value
):
    before = ledger_count(tenant)
    response = acme_api.post(endpoint.split()[0], QUANTITY_BODIES[endpoint](value))
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "INVALID_QUANTITY"
    assert ledger_count(tenant) == before


@pytest.mark.parametrize("raw_number", ["1e1000000", "1E+999999", "-1e400"])
def test_json_numbers_beyond_a_float_are_invalid_quantities(acme_api, stocked, tenant, raw_number):
    raw = f'{{"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L9", "quantity": {raw_number}}}'
    response = acme_api.post("/receipts", raw=raw)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "INVALID_QUANTITY"
    assert ledger_count(tenant) == 1


def test_a_huge_json_integer_is_refused(acme_api, stocked, tenant):
    raw = '{"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L9", "quantity": 1%s}' % ("0" * 4000)
    response = acme_api.post("/receipts", raw=raw)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "INVALID_QUANTITY"


def test_five_hundred_enormous_reservation_lines_are_refused(acme_api, stocked, tenant):
    lines = [{"sku": "WIDGET", "quantity": "1E+999999"} for _ in range(500)]
    body = json.dumps({"warehouse": "DC1", "lines": lines})
    response = acme_api.post("/reservations", raw=body, key="enormous-1")
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "INVALID_QUANTITY"
    assert ledger_count(tenant) == 1


@pytest.mark.parametrize("quantity", ["12.5", "12", 12, 12.5, " 3 ", "+2", "1.", ".5", "2E1"])
def test_ordinary_quantities_still_work(acme_api, stocked, quantity):
    body = {"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L9", "quantity": quantity}
    acme_api.post("/products", {"sku": "FLOUR", "name": "Flour", "uom": "kg"})
    response = acme_api.post("/receipts", body | {"sku": "FLOUR"})
    assert response.status_code == 201, response.content
    expected = Decimal(str(quantity).strip()).quantize(Decimal("0.001"))
    assert Decimal(response.json()["quantity"]) == expected


@pytest.mark.parametrize(
    "value",
    [
        "1E+999999",
        "1e1000000",
        "\u0661\u0662",
        "\uff11\uff10",
        "NaN",
        "Infinity",
        "1_000",
        "0x10",
        10**40,
    ],
)
def test_parsers_refuse_unbounded_and_foreign_numbers(value):
    for parse in (to_decimal, parse_quantity, parse_amount):
        with pytest.raises(InvalidQuantity):
            parse(value)


def test_parsers_keep_their_answers_for_ordinary_values():
    assert to_decimal("12.50") == Decimal("12.5")
    assert parse_quantity(12.5) == Decimal("12.500")
    assert parse_quantity("1e2") == Decimal("100.000")
    assert parse_quantity("-0", allow_zero=True) == Decimal("0.000")
    assert parse_amount("0.0001") == Decimal("0.0001")
    with pytest.raises(InvalidQuantity, match="at most 3 decimal places"):
        parse_quantity("1.0001")
    with pytest.raises(InvalidQuantity, match="must not exceed"):
        parse_quantity("1000000001")

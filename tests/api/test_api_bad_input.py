"""The bad-input sweep: whatever a client sends to a POST endpoint, a 4xx with a
code, and not one ledger entry written."""

import json

import pytest

from tests.api.conftest import ledger_count

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(seeded):
    return seeded


HUGE = "1" + "0" * 30
LONG = "X" * 10_000

VALID = {
    "/products": {"sku": "NEW-1", "name": "New", "unit_cost": "1.5"},
    "/warehouses": {"code": "DC2", "name": "Second"},
    "/warehouses/DC1/locations": {"code": "C-01", "kind": "storage"},
    "/receipts": {"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L9", "quantity": 3},
    "/lots/{lot}/qc": {"status": "REJECTED", "note": "bad"},
    "/adjustments": {
        "sku": "WIDGET",
        "warehouse": "DC1",
        "lot_code": "L1",
        "quantity_delta": -1,
        "reason": "damaged",
    },
    "/shipments": {
        "sku": "WIDGET",
        "warehouse": "DC1",
        "lot_code": "L1",
        "quantity": 1,
    },
    "/moves": {
        "sku": "WIDGET",
        "lot_code": "L1",
        "warehouse": "DC1",
        "from_location": "RECEIVING",
        "to_location": "A-01",
        "quantity": 1,
    },
    "/counts": {
        "warehouse": "DC1",
        "lines": [
            {"sku": "WIDGET", "lot_code": "L1", "location": "RECEIVING", "counted_quantity": 9}
        ],
    },
}
QUANTITY_FIELD = {
    "/receipts": "quantity",
    "/adjustments": "quantity_delta",
    "/shipments": "quantity",
    "/moves": "quantity",
}
BAD_QUANTITIES = [
    0,
    -1,
    "-1",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    HUGE,
    1e300,
    "1e400",
    "1.0001",
    "abc",
    "",
    True,
    None,
    [],
    {},
    LONG,
]
WRONG_TYPES = [1, True, [], None]
# Fields that may be numbers, and references whose unknown value must be refused.
NUMBERS = {"unit_cost", "quantity", "quantity_delta", "counted_quantity"}
REFERENCES = {
    "/receipts": {"sku", "warehouse"},
    "/adjustments": {"sku", "warehouse", "lot_code"},
    "/shipments": {"sku", "warehouse", "lot_code"},
    "/moves": {"sku", "lot_code", "warehouse", "from_location", "to_location"},
    "/counts": {"warehouse"},
}


def cases():
    for path, valid in VALID.items():
        yield path, "empty body", {}
        yield path, "not an object", [valid]
        for field in valid:
            missing = {name: value for name, value in valid.items() if name != field}
            # Optional fields may be left out; required ones are swept below.
            yield path, f"without {field}", missing
            for wrong in WRONG_TYPES:
                if isinstance(valid[field], str) and field not in NUMBERS:
                    yield path, f"{field}={wrong!r}", valid | {field: wrong}
            if isinstance(valid[field], str):
                yield path, f"{field} oversized", valid | {field: LONG}
                yield path, f"{field} with NUL", valid | {field: "A\x00B"}
                if field in REFERENCES.get(path, ()):
                    yield path, f"unknown {field}", valid | {field: "UNKNOWN"}
        if path in QUANTITY_FIELD:
            for quantity in BAD_QUANTITIES:
                if path == "/adjustments" and quantity in (-1, "-1", "-Infinity"):
                    continue  # a negative delta is a removal; -Infinity is swept as Infinity
                yield path, f"quantity {quantity!r:.20}", valid | {QUANTITY_FIELD[path]: quantity}
    line = VALID["/counts"]["lines"][0]
    for quantity in BAD_QUANTITIES:
        if quantity != 0:
            yield (
                "/counts",
                f"counted {quantity!r:.20}",
                {"warehouse": "DC1", "lines": [line | {"counted_quantity": quantity}]},
            )
    for field in line:
        yield (
            "/counts",
            f"line without {field}",
            {"warehouse": "DC1", "lines": [{k: v for k, v in line.items() if k != field}]},
        )
        yield (
            "/counts",
            f"line {field} oversized",
            {"warehouse": "DC1", "lines": [line | {field: LONG}]},
        )
    yield (
        "/adjustments",
        "removing more than on hand",
        VALID["/adjustments"] | {"quantity_delta": "-11"},
    )
    yield "/adjustments", "huge negative", VALID["/adjustments"] | {"quantity_delta": "-" + HUGE}
    yield "/counts", "too many lines", {"warehouse": "DC1", "lines": [line] * 501}
    yield "/products", "uom unknown", VALID["/products"] | {"uom": "furlong"}
    yield "/products", "negative cost", VALID["/products"] | {"unit_cost": "-1"}
    yield "/products", "NaN cost", VALID["/products"] | {"unit_cost": "NaN"}
    yield "/products", "shelf life 0", VALID["/products"] | {"shelf_life_days": 0}
    yield "/products", "attributes list", VALID["/products"] | {"attributes": [1]}
    yield "/products", "attributes huge", VALID["/products"] | {"attributes": {"a": LONG}}
    yield "/warehouses/DC1/locations", "kind unknown", {"code": "C-02", "kind": "roof"}
    yield (
        "/warehouses/DC1/locations",
        "pick sequence huge",
        {"code": "C-02", "pick_sequence": 10**12},
    )
    yield "/receipts", "expiry not a date", VALID["/receipts"] | {"expires_on": "soon"}
    yield "/receipts", "unknown location", VALID["/receipts"] | {"location": "NOPE"}
    yield "/lots/{lot}/qc", "unknown status", {"status": "MAYBE"}


# Leaving out an optional field is a valid request, not a bad one.
OPTIONAL = {
    ("/products", "without unit_cost"),
    ("/warehouses/DC1/locations", "without kind"),
    ("/lots/{lot}/qc", "without note"),
}
CASES = [case for case in cases() if case[:2] not in OPTIONAL]


@pytest.mark.parametrize(
    ("path", "label", "body"), CASES, ids=[f"{path} {label}" for path, label, _ in CASES]
)
def test_bad_input_is_refused_and_writes_nothing(acme_api, stocked, tenant, path, label, body):
    path = path.replace("{lot}", str(stocked["lot_id"]))
    before = ledger_count(tenant)
    response = acme_api.post(path, raw=json.dumps(body))
    assert 400 <= response.status_code < 500, (label, response.status_code, response.content)
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert ledger_count(tenant) == before


@pytest.mark.parametrize("raw", ["{not json", "", "null", '"text"', "12", "\xff\xfe", "[" * 5000])
@pytest.mark.parametrize("path", sorted(VALID))
def test_unparseable_bodies_are_validation_errors(acme_api, stocked, tenant, path, raw):
    path = path.replace("{lot}", str(stocked["lot_id"]))
    before = ledger_count(tenant)
    response = acme_api.post(path, raw=raw)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert ledger_count(tenant) == before


def test_json_nan_literal_is_an_invalid_quantity(acme_api, stocked, tenant):
    raw = '{"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L9", "quantity": NaN}'
    response = acme_api.post("/receipts", raw=raw)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INVALID_QUANTITY"
    assert ledger_count(tenant) == 1


def test_the_valid_bodies_of_the_sweep_do_succeed(acme_api, stocked):
    """Guards the sweep: its bodies fail for the reason each case names, not by accident."""
    for path, body in VALID.items():
        response = acme_api.post(path.replace("{lot}", str(stocked["lot_id"])), body)
        if path == "/lots/{lot}/qc":
            # L1 needs no QC, so it is not in quarantine: the body itself was accepted.
            assert response.json()["error"]["code"] == "LOT_NOT_IN_QUARANTINE"
        else:
            assert response.status_code == 201, (path, response.content)


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/products", {"q": "a\x00b"}, "VALIDATION_ERROR"),
        ("/products", {"q": "q" * 201}, "VALIDATION_ERROR"),
        ("/products/A%00B", None, "PRODUCT_NOT_FOUND"),
        ("/stock", {"sku": "A\x00"}, "VALIDATION_ERROR"),
        ("/stock", {"sku": "WIDGET", "warehouse": "\x00"}, "VALIDATION_ERROR"),
        ("/stock", {"sku": "S" * 65}, "VALIDATION_ERROR"),
        ("/movements", {"sku": "A\x00"}, "VALIDATION_ERROR"),
        ("/movements", {"offset": 10**30}, "VALIDATION_ERROR"),
    ],
)
def test_bad_query_parameters_are_refused_before_the_database(
    acme_api, stocked, path, params, code, caplog
):
    response = acme_api.get(path, params)
    assert response.status_code in (404, 422), response.content
    assert response.json()["error"]["code"] == code
    assert "The database refused" not in response.content.decode()


def test_nul_in_a_path_code_is_not_found(acme_api, stocked, tenant):
    response = acme_api.post("/warehouses/DC%001/locations", {"code": "X"})
    assert response.json()["error"]["code"] == "WAREHOUSE_NOT_FOUND"
    assert ledger_count(tenant) == 1

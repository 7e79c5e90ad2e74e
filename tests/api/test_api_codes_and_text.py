"""Codes are plain ASCII; names any script; neither hides a control, invisible or bidi character."""

import pytest
from django.core.exceptions import ValidationError

from inventory.models import Lot, Product
from tests.api.conftest import ledger_count
from warehouse.models import Location, Warehouse
from warehouse.validators import CodeValidator, TextValidator, code_error, text_error

pytestmark = pytest.mark.django_db

SPOOFING = {
    "right-to-left override": "ABC\u202e321",
    "left-to-right isolate": "ABC\u2066X",
    "zero-width space": "AB\u200bC",
    "byte order mark": "\ufeffABC",
    "Cyrillic A": "\u0410BC",
    "full-width letters": "\uff21\uff22",
    "soft hyphen": "AB\u00adC",
    "tag character": "AB\U000e0041",
    "NUL": "AB\x00C",
    "newline": "AB\nC",
    "leading space": " ABC",
    "trailing space": "ABC ",
    "inner space": "AB C",
}
INVISIBLE = {
    name: value
    for name, value in SPOOFING.items()
    if name
    not in ("Cyrillic A", "full-width letters", "leading space", "trailing space", "inner space")
}


@pytest.fixture
def stocked(seeded):
    return seeded


def code_bodies(code):
    return {
        "/products": {"sku": code, "name": "Spoof"},
        "/warehouses": {"code": code, "name": "Spoof"},
        "/warehouses/DC1/locations": {"code": code},
        "/receipts": {"sku": "WIDGET", "warehouse": "DC1", "lot_code": code, "quantity": 1},
    }


@pytest.mark.parametrize("label", sorted(SPOOFING))
@pytest.mark.parametrize("path", sorted(code_bodies("X")))
def test_codes_with_spoofing_characters_are_refused(acme_api, stocked, tenant, path, label):
    before = ledger_count(tenant)
    response = acme_api.post(path, code_bodies(SPOOFING[label])[path])
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "code" in error["message"] or "SKU" in error["message"]
    assert ledger_count(tenant) == before


@pytest.mark.parametrize("label", sorted(INVISIBLE))
def test_names_with_invisible_characters_are_refused(acme_api, stocked, label):
    response = acme_api.post("/products", {"sku": "NEW-1", "name": f"Tea {INVISIBLE[label]}"})
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_names_may_use_any_script(acme_api, stocked):
    response = acme_api.post("/products", {"sku": "TEA-1", "name": "  Thé vert 緑茶 Чай  "})
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "Thé vert 緑茶 Чай"


@pytest.mark.parametrize(
    "attributes",
    [{"a\x00": 1}, {"a": "x\x00"}, {"a": {"b": ["\u202e"]}}, {"a": [{"\x17": 1}]}],
)
def test_attributes_with_nul_or_invisible_text_are_refused_before_the_database(
    acme_api, stocked, attributes, caplog
):
    response = acme_api.post("/products", {"sku": "NEW-2", "name": "N", "attributes": attributes})
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "The database refused" not in caplog.text


def test_nested_attributes_are_kept(acme_api, stocked):
    attributes = {"size": {"width": 2.5, "tags": ["a", None, True, 3]}}
    response = acme_api.post("/products", {"sku": "NEW-3", "name": "N", "attributes": attributes})
    assert response.status_code == 201, response.content
    assert response.json()["attributes"] == attributes


@pytest.mark.parametrize("value", ["A-01-03", "FLR-WHT-25", "lot_7.b/2", "0"])
def test_ordinary_codes_pass(value):
    assert code_error(value) is None
    CodeValidator()(value)


@pytest.mark.parametrize("label", sorted(SPOOFING))
def test_model_fields_refuse_spoofed_codes(label, tenant):
    for model, field in ((Product, "sku"), (Lot, "code"), (Warehouse, "code"), (Location, "code")):
        with pytest.raises(ValidationError):
            model._meta.get_field(field).clean(SPOOFING[label], None)


@pytest.mark.parametrize("label", sorted(INVISIBLE))
def test_model_name_fields_refuse_invisible_characters(label):
    for model in (Product, Warehouse):
        with pytest.raises(ValidationError):
            model._meta.get_field("name").clean(f"Name {INVISIBLE[label]}", None)
    assert text_error(INVISIBLE[label]) is not None
    TextValidator()("Thé vert 緑茶")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/stock", {"sku": "WIDGET\u202e"}),
        ("/movements", {"sku": "WID\u200bGET"}),
        ("/products", {"q": "tea\u202e"}),
    ],
)
def test_query_parameters_follow_the_same_rules(acme_api, stocked, path, params):
    response = acme_api.get(path, params)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"

"""The scan box, its results page, the scan-parse JSON and GS1 labels on the receive screen."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.catalog.services import create_product
from inventory.models import LedgerEntry, Lot
from inventory.scanning.gs1 import MAX_SCAN_LENGTH
from inventory.stock.receipts import receive_stock
from tests.clients import signed_in
from tests.conftest import PASSWORD, make_member, make_site
from warehouse.models import Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db

GTIN = "09501101020917"
GS = "\x1d"
LABEL = f"]C101{GTIN}17270131" + f"10L-77{GS}3012"


@pytest.fixture
def rice(tenant):
    return create_product(tenant=tenant, sku="RICE-5", name="Rice 5 kg", uom="kg", gtin=GTIN)


def receive(tenant, product, warehouse, lot_code):
    return receive_stock(
        tenant=tenant, product=product, warehouse=warehouse, lot_code=lot_code, quantity="5"
    )


def lot_named(tenant, code):
    with tenant_context(tenant.id):
        return Lot.objects.select_related("product").get(code=code)


def ledger_count(tenant):
    with tenant_context(tenant.id):
        return LedgerEntry.objects.count()


# -- the scan box ----------------------------------------------------------------


def test_every_page_of_a_member_has_the_scan_box(operator, inspector):
    for username in ("operator", "inspector"):
        page = signed_in(username).get("/").content.decode()
        assert 'data-testid="scan-box"' in page
        assert f'action="{reverse("inventory:scan")}"' in page
        assert 'maxlength="200"' in page


def test_signed_out_pages_have_no_scan_box(db):
    page = Client().get("/login/").content.decode()
    assert 'data-testid="scan-box"' not in page


@pytest.mark.parametrize("typed", ["rice-5", f" {GTIN} ", "9501101020917"])
def test_a_sku_or_gtin_opens_the_product(operator, rice, typed):
    response = signed_in("operator").get(reverse("inventory:scan"), {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == reverse("inventory:product", kwargs={"product_id": rice.pk})


def test_a_bin_code_opens_the_bin(tenant, operator):
    warehouse = make_site(tenant, "DC7", bins=("Z-99",))
    with tenant_context(tenant.id):
        location = warehouse.locations.get(code="Z-99")
    response = signed_in("operator").get(reverse("inventory:scan"), {"code": "z-99"})
    assert response["Location"] == reverse("inventory:bin", kwargs={"location_id": location.pk})


def test_a_lot_code_opens_the_lot_for_tracers_and_its_product_for_operators(
    tenant, operator, inspector, rice, site
):
    receive(tenant, rice, site, "L-55")
    lot = lot_named(tenant, "L-55")
    response = signed_in("inspector").get(reverse("inventory:scan"), {"code": "L-55"})
    assert response["Location"] == reverse("inventory:lot", kwargs={"lot_id": lot.pk})
    # Operators do not open lot pages (403): the lot's product is where they go.
    response = signed_in("operator").get(reverse("inventory:scan"), {"code": "L-55"})
    assert response["Location"] == reverse("inventory:product", kwargs={"product_id": rice.pk})


def test_a_gs1_label_opens_its_lot_or_else_its_product(tenant, inspector, rice, site):
    client = signed_in("inspector")
    response = client.get(reverse("inventory:scan"), {"code": LABEL})
    assert response["Location"] == reverse("inventory:product", kwargs={"product_id": rice.pk})
    receive(tenant, rice, site, "L-77")
    response = client.get(reverse("inventory:scan"), {"code": LABEL})
    lot = lot_named(tenant, "L-77")
    assert response["Location"] == reverse("inventory:lot", kwargs={"lot_id": lot.pk})


def test_several_matches_are_listed_with_links(tenant, inspector, rice, flour, site):
    receive(tenant, rice, site, "B-1")
    receive(tenant, flour, site, "B-1")
    response = signed_in("inspector").get(reverse("inventory:scan"), {"code": "b-1"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-testid="scan-match"') == 2
    for sku in ("RICE-5", "FLOUR-25"):
        with tenant_context(tenant.id):
            lot = Lot.objects.get(code="B-1", product__sku=sku)
        assert reverse("inventory:lot", kwargs={"lot_id": lot.pk}) in page
        assert sku in page


def test_the_results_page_reads_a_constant_number_of_queries(tenant, operator, site):
    """Two or twenty lots of one code: the same queries (products read with the lots)."""

    def queries_for(code, count):
        for number in range(count):
            product = create_product(tenant=tenant, sku=f"{code}-P{number}", name="Thing")
            receive(tenant, product, site, code)
        client = signed_in("operator")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("inventory:scan"), {"code": code})
        assert response.content.decode().count('data-testid="scan-match"') == count
        return len(queries)

    assert queries_for("FEW", 2) == queries_for("MANY", 20)


def test_nothing_found_says_so(operator, rice):
    response = signed_in("operator").get(reverse("inventory:scan"), {"code": "NOPE-9"})
    assert response.status_code == 404
    assert 'data-testid="scan-nothing"' in response.content.decode()
    assert "Nothing found for" in response.content.decode()


def test_an_empty_scan_says_what_to_do(operator):
    response = signed_in("operator").get(reverse("inventory:scan"))
    assert response.status_code == 200
    assert "Scan a barcode into the box above" in response.content.decode()


def test_an_over_long_scan_is_refused(operator):
    code = "A" * (MAX_SCAN_LENGTH + 1)
    response = signed_in("operator").get(reverse("inventory:scan"), {"code": code})
    assert response.status_code == 400
    assert "at most 200 characters" in response.content.decode()


def test_another_tenants_codes_are_not_found(tenant, other_tenant, other_tenant_user, rice, site):
    receive(tenant, rice, site, "L-1")
    client = signed_in("other")
    for code in ("RICE-5", GTIN, "L-1", "A-01", LABEL):
        response = client.get(reverse("inventory:scan"), {"code": code})
        page = response.content.decode()
        assert response.status_code == 404, code
        assert "Rice 5 kg" not in page
        assert 'data-testid="scan-match"' not in page


def test_the_scan_box_is_for_members_only(db):
    response = Client().get(reverse("inventory:scan"), {"code": "X"})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    # Signed in but a member of no tenant: refused, and no box to scan into.
    get_user_model().objects.create_user(username="drifter", password=PASSWORD)
    response = signed_in("drifter").get(reverse("inventory:scan"), {"code": "X"})
    assert response.status_code == 403
    assert 'data-testid="scan-box"' not in response.content.decode()


# -- what a scan fills (JSON) ---------------------------------------------------


def parse(client, code):
    return client.get(reverse("inventory:scan-parse"), {"code": code})


def test_a_gs1_label_fills_product_lot_expiry_and_quantity(operator, rice):
    response = parse(signed_in("operator"), LABEL)
    assert response.status_code == 200
    assert response.json() == {
        "kind": "gs1",
        "sku": "RICE-5",
        "lot_code": "L-77",
        "expires_on": "2027-01-31",
        "quantity": "12",
        "bin": None,
        "is_good": True,
        "message": "Read SKU RICE-5, lot L-77, expiry 2027-01-31, quantity 12.",
    }


def test_a_label_of_a_product_not_in_the_catalog_is_not_a_good_scan(operator, flour):
    answer = parse(signed_in("operator"), f"01{GTIN}10X1").json()
    assert answer["kind"] == "gs1"
    assert answer["sku"] is None
    assert answer["lot_code"] == "X1"
    assert answer["is_good"] is False
    assert answer["message"] == f"No product has GTIN {GTIN}."


def test_a_gtin_or_a_sku_fills_the_sku(operator, rice):
    client = signed_in("operator")
    for code in (GTIN, "rice-5"):
        answer = parse(client, code).json()
        assert (answer["kind"], answer["sku"], answer["is_good"]) == ("product", "RICE-5", True)


def test_nothing_found_is_unknown_with_a_message(operator, rice):
    answer = parse(signed_in("operator"), "NOPE-1").json()
    assert answer["kind"] == "unknown"
    assert answer["is_good"] is False
    assert answer["message"] == "Nothing found for 'NOPE-1'."


def test_a_broken_label_says_why(operator, rice):
    answer = parse(signed_in("operator"), f"01{GTIN[:-1]}3").json()
    assert answer["kind"] == "unknown"
    assert "wrong check digit" in answer["message"]


def test_an_over_long_scan_is_a_400_with_a_code(operator):
    response = parse(signed_in("operator"), "9" * (MAX_SCAN_LENGTH + 1))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "SCAN_TOO_LONG"


def test_scan_parse_is_for_members_only(tenant, other_tenant_user, rice):
    assert parse(Client(), GTIN).status_code == 302
    get_user_model().objects.create_user(username="drifter", password=PASSWORD)
    assert parse(signed_in("drifter"), GTIN).status_code == 403
    # A member of another tenant learns nothing of this one's catalog.
    answer = parse(signed_in("other"), GTIN).json()
    assert (answer["kind"], answer["sku"]) == ("unknown", None)


# -- the receive screen ----------------------------------------------------------


def receipt_form(site, **overrides):
    data = {
        "idempotency_key": "form:scan-1",
        "sku": "",
        "warehouse": site.pk,
        "location": "",
        "lot_code": "",
        "quantity": "",
        "expires_on": "",
        "unit_cost": "",
    }
    return {**data, **overrides}


def test_the_receive_form_is_set_up_for_scan_fill(operator, site):
    page = signed_in("operator").get(reverse("inventory:receive")).content.decode()
    assert f'data-scan-parse-url="{reverse("inventory:scan-parse")}"' in page
    for name in ("sku", "lot_code", "quantity", "expires_on"):
        assert f'data-gs1="{name}"' in page
    assert "data-scan-fill" in page
    assert "data-scan-message" in page


@pytest.mark.parametrize("label", [LABEL, f"01{GTIN}1727013110L-77" + "3012"])
def test_a_gs1_label_in_the_sku_field_fills_the_receipt_without_javascript(
    tenant, operator, rice, site, label
):
    response = signed_in("operator").post(
        reverse("inventory:receive"), receipt_form(site, sku=label), follow=True
    )
    assert "Received 12 kg of RICE-5 as lot L-77" in response.content.decode()
    lot = lot_named(tenant, "L-77")
    assert lot.product == rice
    assert lot.expires_on == datetime.date(2027, 1, 31)
    with tenant_context(tenant.id):
        assert lot.balances.get().on_hand == Decimal("12.000")


def test_typed_fields_win_over_the_label(tenant, operator, rice, site):
    form = receipt_form(site, sku=LABEL, quantity="3", lot_code="MINE-1")
    response = signed_in("operator").post(
        reverse("inventory:receive"), form, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="receive-panel"
    )
    assert response.status_code == 200
    assert 'data-scan-result="ok"' in response.content.decode()
    lot = lot_named(tenant, "MINE-1")
    assert lot.expires_on == datetime.date(2027, 1, 31)
    with tenant_context(tenant.id):
        assert lot.balances.get().on_hand == Decimal("3.000")


def test_a_gtin_typed_alone_finds_the_product(tenant, operator, rice, site):
    form = receipt_form(site, sku=GTIN, lot_code="G-1", quantity="2")
    response = signed_in("operator").post(reverse("inventory:receive"), form)
    assert response.status_code == 302
    assert lot_named(tenant, "G-1").product == rice


def test_a_label_of_an_unknown_gtin_is_refused_on_the_sku_field(tenant, operator, flour, site):
    response = signed_in("operator").post(
        reverse("inventory:receive"),
        receipt_form(site, sku=LABEL),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="receive-panel",
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert 'data-testid="error-sku"' in page
    assert f"No product has GTIN {GTIN}" in page
    assert 'data-scan-result="bad"' in page
    # What the label read stays in the form, ready once the product has its GTIN.
    assert 'value="L-77"' in page
    assert ledger_count(tenant) == 0


def test_an_over_long_sku_is_refused_before_any_lookup(tenant, operator, rice, site):
    form = receipt_form(site, sku="A" * (MAX_SCAN_LENGTH + 1), lot_code="X", quantity="1")
    response = signed_in("operator").post(reverse("inventory:receive"), form)
    assert response.status_code == 422
    assert "at most 200 characters" in response.content.decode()
    assert ledger_count(tenant) == 0


def test_the_scan_box_is_in_the_navbar_of_the_qc_inspector_too(tenant):
    make_member(tenant, "ines", Role.QC)
    page = signed_in("ines").get(reverse("inventory:qc-queue")).content.decode()
    assert 'data-testid="scan-box"' in page

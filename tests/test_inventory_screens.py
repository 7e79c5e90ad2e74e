"""The receive, QC queue and stock screens, as operators and inspectors use them."""

from decimal import Decimal

import pytest
from django.test import Client

from inventory.models import LedgerEntry, Lot, QcStatus
from inventory.selectors import stock_summary
from inventory.services import create_product, receive_stock
from tests.conftest import PASSWORD, make_site
from warehouse.models import Location, LocationKind
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def signed_in(username):
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


@pytest.fixture
def site(tenant):
    warehouse = make_site(tenant, "DC1", bins=("A-01",))
    with tenant_context(tenant.id):
        Location.objects.create(
            tenant=tenant, warehouse=warehouse, code="RCV-01", kind=LocationKind.RECEIVING
        )
    return warehouse


@pytest.fixture
def products(tenant):
    return {
        "cheese": create_product(
            tenant=tenant, sku="CHEESE-1", name="Aged cheddar", qc_required=True, uom="kg"
        ),
        "bolts": create_product(tenant=tenant, sku="BOLT-8", name="Hex bolt M8"),
    }


def receipt_form(site, **overrides):
    data = {
        "idempotency_key": "form:test-1",
        "sku": "bolt-8",
        "warehouse": site.pk,
        "location": "",
        "lot_code": "L-100",
        "quantity": "240",
        "expires_on": "",
        "unit_cost": "",
    }
    return {**data, **overrides}


def ledger_count(tenant):
    with tenant_context(tenant.id):
        return LedgerEntry.objects.count()


def test_operator_receives_into_the_receiving_bin(tenant, operator, site, products):
    response = signed_in("operator").post("/receive/", receipt_form(site), follow=True)
    page = response.content.decode()
    assert "Received 240 ea of BOLT-8 as lot L-100 into RCV-01: available." in page
    with tenant_context(tenant.id):
        lot = Lot.objects.get(code="L-100")
        assert lot.qc_status == QcStatus.APPROVED
        assert stock_summary(product=products["bolts"]).available == Decimal("240")


def test_double_submitted_receipt_is_received_once(tenant, operator, site, products):
    client = signed_in("operator")
    first = client.post("/receive/", receipt_form(site))
    second = client.post("/receive/", receipt_form(site), follow=True)
    assert first.status_code == 302
    assert "nothing was received twice" in second.content.decode()
    assert ledger_count(tenant) == 1
    with tenant_context(tenant.id):
        assert stock_summary(product=products["bolts"]).on_hand == Decimal("240")


def test_each_rendered_form_has_its_own_key(operator, site):
    client = signed_in("operator")
    keys = {client.get("/receive/").context["form"]["idempotency_key"].value() for _ in range(2)}
    assert len(keys) == 2


def test_htmx_receipt_swaps_the_panel_and_offers_a_fresh_form(tenant, operator, site, products):
    response = signed_in("operator").post(
        "/receive/", receipt_form(site, sku="CHEESE-1", quantity="2.5"), HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert 'data-testid="receive-result"' in page
    assert "in quarantine until QC decides" in page
    assert "form:test-1" not in page  # the next scan gets a new key


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sku": "NOPE"}, "No product with SKU"),
        ({"quantity": "0"}, "must not be zero"),
        ({"quantity": "-3"}, "must not be negative"),
        ({"quantity": "1.5"}, "whole number"),
        ({"location": "Z-99"}, "No location"),
        ({"lot_code": ""}, "This field is required"),
    ],
)
def test_bad_receipts_answer_422_and_write_nothing(
    tenant, operator, site, products, overrides, message
):
    response = signed_in("operator").post("/receive/", receipt_form(site, **overrides))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert ledger_count(tenant) == 0


def test_duplicate_lot_code_is_refused_on_the_form(tenant, operator, site, products):
    client = signed_in("operator")
    client.post("/receive/", receipt_form(site))
    response = client.post("/receive/", receipt_form(site, idempotency_key="form:test-2"))
    assert response.status_code == 422
    assert "already has a lot" in response.content.decode()
    assert ledger_count(tenant) == 1


def test_inspectors_may_not_receive(inspector, site):
    assert signed_in("inspector").get("/receive/").status_code == 403


def quarantined_lot(tenant, site, products, code="Q-1"):
    return receive_stock(
        tenant=tenant, product=products["cheese"], warehouse=site, lot_code=code, quantity="10"
    ).lot


def test_inspector_approves_a_quarantined_lot(tenant, inspector, site, products):
    lot = quarantined_lot(tenant, site, products)
    client = signed_in("inspector")
    assert "Q-1" in client.get("/qc/").content.decode()
    response = client.post(f"/qc/{lot.pk}/decide/", {"decision": "approve", "note": "Lab OK"})
    assert response.status_code == 302
    with tenant_context(tenant.id):
        lot.refresh_from_db()
        assert (lot.qc_status, lot.qc_by_id, lot.qc_note) == ("APPROVED", inspector.pk, "Lab OK")
        assert stock_summary(product=products["cheese"]).available == Decimal("10")
    assert 'data-testid="queue-empty"' in client.get("/qc/").content.decode()


def test_rejecting_needs_a_note_and_keeps_stock_unavailable(tenant, inspector, site, products):
    lot = quarantined_lot(tenant, site, products)
    client = signed_in("inspector")
    response = client.post(
        f"/qc/{lot.pk}/decide/", {"decision": "reject", "note": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "Say why the lot is rejected." in response.content.decode()
    response = client.post(
        f"/qc/{lot.pk}/decide/", {"decision": "reject", "note": "Mould"}, HTTP_HX_REQUEST="true"
    )
    assert 'data-testid="decision">Rejected<' in response.content.decode()
    with tenant_context(tenant.id):
        summary = stock_summary(product=products["cheese"])
    assert (summary.on_hand, summary.available, summary.rejected) == (10, 0, 10)


def test_a_lot_of_another_tenant_answers_404(
    tenant, other_tenant, inspector, site, products, other_tenant_user
):
    lot = quarantined_lot(tenant, site, products)
    other = signed_in("other")
    assert other.post(f"/qc/{lot.pk}/decide/", {"decision": "approve"}).status_code == 404


def test_operators_may_not_decide_qc(tenant, operator, site, products):
    lot = quarantined_lot(tenant, site, products)
    assert (
        signed_in("operator").post(f"/qc/{lot.pk}/decide/", {"decision": "approve"}).status_code
        == 403
    )


def test_stock_screen_shows_available_and_quarantined(tenant, operator, site, products):
    quarantined_lot(tenant, site, products)
    receive_stock(
        tenant=tenant, product=products["bolts"], warehouse=site, lot_code="B-1", quantity="40"
    )
    client = signed_in("operator")
    page = client.get("/stock/").content.decode()
    assert "CHEESE-1" in page and "BOLT-8" in page
    table = client.get("/stock/?q=cheddar", HTTP_HX_REQUEST="true").content.decode()
    assert "CHEESE-1" in table and "BOLT-8" not in table
    assert "<html" not in table
    assert "No stock matches" in client.get("/stock/?q=zzz").content.decode()


def test_stock_screen_of_another_tenant_shows_nothing(
    tenant, site, products, other_tenant_user, operator
):
    receive_stock(
        tenant=tenant, product=products["bolts"], warehouse=site, lot_code="B-1", quantity="40"
    )
    assert "BOLT-8" not in signed_in("other").get("/stock/").content.decode()

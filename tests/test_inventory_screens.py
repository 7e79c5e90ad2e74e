"""The receive, QC queue and stock screens, as operators and inspectors use them."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.catalog.services import create_product
from inventory.forms import ReceiveForm
from inventory.ledger.posting import Actor
from inventory.lots.services import approve_lot
from inventory.models import LedgerEntry, Lot, QcStatus
from inventory.stock.receipts import receive_stock
from inventory.stock.selectors import stock_summary
from tests.clients import signed_in
from tests.conftest import make_site
from warehouse.models import Location, LocationKind
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


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
    table = client.get(
        "/stock/?q=cheddar", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="stock-table"
    ).content.decode()
    assert "CHEESE-1" in table and "BOLT-8" not in table
    assert "<html" not in table
    assert table.lstrip().startswith('<div id="stock-table"')
    assert "No stock matches" in client.get("/stock/?q=zzz").content.decode()


def test_stock_screen_of_another_tenant_shows_nothing(
    tenant, site, products, other_tenant_user, operator
):
    receive_stock(
        tenant=tenant, product=products["bolts"], warehouse=site, lot_code="B-1", quantity="40"
    )
    assert "BOLT-8" not in signed_in("other").get("/stock/").content.decode()


# -- receiving: numbers, bins, expiry, the remembered warehouse ---------------------------


def received_lot(tenant, code):
    with tenant_context(tenant.id):
        return Lot.objects.select_related("product").get(code=code)


def on_hand_of(tenant, product):
    with tenant_context(tenant.id):
        return stock_summary(product=product).on_hand


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("12,5", "12.5"), ("12.5", "12.5"), ("0,125", "0.125"), ("1250", "1250"), ("1,25", "1.25")],
)
def test_decimal_comma_or_dot_is_read_as_written(tenant, operator, site, products, typed, expected):
    response = signed_in("operator").post(
        "/receive/", receipt_form(site, sku="CHEESE-1", quantity=typed), follow=True
    )
    assert f"Received {expected} kg of CHEESE-1" in response.content.decode()
    assert on_hand_of(tenant, products["cheese"]) == Decimal(expected)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1,250", "“1,250” could mean 1250 or 1.250. Type 1250, or 1.250 for a decimal."),
        ("12,500", "“12,500” could mean 12500 or 12.500."),
        ("1,250.5", "without thousands separators"),
        ("1.250,5", "without thousands separators"),
        ("1 250", "without thousands separators"),
        ("12,5,0", "without thousands separators"),
        ("1e3", "without thousands separators"),
        ("١٢", "without thousands separators"),
        ("x" * 40, "at most 32 characters"),
    ],
)
def test_ambiguous_or_malformed_quantities_are_refused_on_the_field(
    tenant, operator, site, products, typed, message
):
    response = signed_in("operator").post(
        "/receive/", receipt_form(site, sku="CHEESE-1", quantity=typed)
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-testid="error-quantity"' in page
    assert message in page
    assert ledger_count(tenant) == 0


def test_unit_cost_takes_a_decimal_comma(tenant, operator, site, products):
    signed_in("operator").post("/receive/", receipt_form(site, unit_cost="2,75"))
    assert received_lot(tenant, "L-100").unit_cost == Decimal("2.75")


def test_quantity_is_a_text_field_the_browser_does_not_rewrite(operator, site):
    page = signed_in("operator").get("/receive/").content.decode()
    assert 'type="text" name="quantity"' in page
    assert 'inputmode="decimal"' in page


def test_warehouse_and_bin_come_before_the_scanned_fields(operator, site):
    page = signed_in("operator").get("/receive/").content.decode()
    order = [page.index(f'name="{name}"') for name in ReceiveForm.SCAN_ORDER]
    assert page.index('name="warehouse"') < page.index('name="location"') < order[0]
    assert order == sorted(order)
    assert 'src="/static/js/floor.js"' in page


def test_the_last_warehouse_used_is_preselected(tenant, operator, site, products):
    second = make_site(tenant, "DC2", bins=("B-01",))
    client = signed_in("operator")
    initial = client.get("/receive/").context["form"]["warehouse"].value()
    assert initial is None or initial == site.pk
    client.post("/receive/", receipt_form(second, location="B-01"))
    assert client.get("/receive/").context["form"]["warehouse"].value() == second.pk
    response = client.post(
        "/receive/",
        receipt_form(second, location="B-01", lot_code="L-101", idempotency_key="form:test-2"),
        HTTP_HX_REQUEST="true",
    )
    assert response.context["form"]["warehouse"].value() == second.pk


@pytest.mark.parametrize(
    "kind", [LocationKind.SHIPPING, LocationKind.PICK, LocationKind.QUARANTINE]
)
def test_a_receipt_into_a_bin_not_for_receiving_is_refused_on_the_bin_field(
    tenant, operator, site, products, kind
):
    with tenant_context(tenant.id):
        Location.objects.create(tenant=tenant, warehouse=site, code="OUT-1", kind=kind)
    response = signed_in("operator").post("/receive/", receipt_form(site, location="OUT-1"))
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-testid="error-location"' in page
    assert "Bin OUT-1 is a" in page
    assert ledger_count(tenant) == 0


def test_an_expired_lot_is_received_as_expired_not_available(tenant, operator, site, products):
    client = signed_in("operator")
    page = client.post(
        "/receive/", receipt_form(site, expires_on="2020-01-01"), follow=True
    ).content.decode()
    assert "EXPIRED on 2020-01-01, on hand but not available" in page
    assert ": available." not in page
    fragment = client.post(
        "/receive/",
        receipt_form(site, lot_code="L-101", expires_on="2020-01-01", idempotency_key="form:2"),
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert 'data-testid="receive-state">expired — not available<' in fragment
    assert ">available<" not in fragment
    with tenant_context(tenant.id):
        summary = stock_summary(product=products["bolts"])
    assert (summary.on_hand, summary.available, summary.expired) == (480, 0, 480)


def test_a_tenant_refusing_expired_lots_shows_the_error_on_the_expiry(
    tenant, operator, site, products
):
    tenant.refuse_expired_receipts = True
    tenant.save(update_fields=["refuse_expired_receipts"])
    response = signed_in("operator").post("/receive/", receipt_form(site, expires_on="2020-01-01"))
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-testid="error-expires_on"' in page
    assert "Lot L-100 expired on 01 Jan 2020" in page
    assert ledger_count(tenant) == 0


# -- QC: explicit decisions, stale decisions, reversals ------------------------------------


def lot_state(tenant, lot):
    with tenant_context(tenant.id):
        lot.refresh_from_db()
    return lot.qc_status


def test_a_decision_without_its_button_decides_nothing(tenant, inspector, site, products):
    lot = quarantined_lot(tenant, site, products)
    client = signed_in("inspector")
    # What Enter in the note would send if a browser submitted without a button.
    response = client.post(
        f"/qc/{lot.pk}/decide/", {"note": "Seal broken, reject please"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "Choose Approve or Reject with its button; nothing was decided." in (
        response.content.decode()
    )
    response = client.post(f"/qc/{lot.pk}/decide/", {"note": "x", "decision": "APPROVE!"})
    assert response.status_code == 302
    assert lot_state(tenant, lot) == QcStatus.QUARANTINE


def test_enter_in_the_note_cannot_press_a_decision_button(tenant, inspector, site, products):
    quarantined_lot(tenant, site, products)
    page = signed_in("inspector").get("/qc/").content.decode()
    form = page[page.index("data-qc-form") :]
    form = form[: form.index("</form>")]
    # HTML's implicit submission presses the form's first submit button; it is disabled.
    first_button = form[form.index("<button") : form.index(">", form.index("<button"))]
    assert 'type="submit" disabled' in first_button and "decision" not in first_button


def test_a_stale_decision_is_not_recorded_and_says_who_decided(
    tenant, inspector, manager, site, products
):
    lot = quarantined_lot(tenant, site, products, code="L-77")
    decided_at = timezone.make_aware(datetime.datetime(2026, 3, 2, 10, 42))
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(manager), at=decided_at)
    client = signed_in("inspector")
    response = client.post(
        f"/qc/{lot.pk}/decide/",
        {"decision": "reject", "note": "Seal broken"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert "Not recorded: Lot L-77 was already approved by Manager at 10:42 on 02 Mar 2026." in page
    assert 'data-testid="decision">Approved<' in page
    assert "<form" not in page
    response = client.post(
        f"/qc/{lot.pk}/decide/", {"decision": "reject", "note": "Seal broken"}, follow=True
    )
    assert "Not recorded: Lot L-77 was already approved by Manager" in response.content.decode()
    assert lot_state(tenant, lot) == QcStatus.APPROVED


def test_manager_reverses_a_decision_with_a_reason(tenant, inspector, manager, site, products):
    lot = quarantined_lot(tenant, site, products, code="L-77")
    signed_in("inspector").post(f"/qc/{lot.pk}/decide/", {"decision": "approve", "note": "OK"})
    client = signed_in("manager")
    page = client.get("/qc/").content.decode()
    assert 'data-testid="reverse-L-77"' in page
    response = client.post(
        f"/qc/{lot.pk}/reverse/",
        {"previous_status": "APPROVED", "status": "QUARANTINE", "reason": "Wrong lot approved"},
        follow=True,
    )
    page = response.content.decode()
    assert "Decision on lot L-77 of CHEESE-1 reversed: now quarantine." in page
    assert lot_state(tenant, lot) == QcStatus.QUARANTINE
    assert 'data-testid="lot-L-77"' in page  # back in the queue
    assert "Wrong lot approved" in page and ">Reversed<" in page
    with tenant_context(tenant.id):
        assert stock_summary(product=products["cheese"]).available == 0


@pytest.mark.parametrize(
    "data",
    [
        {"previous_status": "APPROVED", "status": "QUARANTINE", "reason": ""},
        {"previous_status": "APPROVED", "status": "APPROVED", "reason": "x"},
        {"previous_status": "REJECTED", "status": "QUARANTINE", "reason": "stale"},
        {"previous_status": "APPROVED", "status": "SHIPPED", "reason": "x"},
        {},
    ],
)
def test_a_bad_reversal_changes_nothing(tenant, inspector, manager, site, products, data):
    lot = quarantined_lot(tenant, site, products, code="L-77")
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector))
    response = signed_in("manager").post(f"/qc/{lot.pk}/reverse/", data, follow=True)
    assert "Lot L-77: not reversed." in response.content.decode()
    assert lot_state(tenant, lot) == QcStatus.APPROVED


def test_only_managers_reverse_decisions(tenant, inspector, site, products, other_tenant_user):
    lot = quarantined_lot(tenant, site, products, code="L-77")
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector))
    client = signed_in("inspector")
    assert 'data-testid="reverse-L-77"' not in client.get("/qc/").content.decode()
    data = {"previous_status": "APPROVED", "status": "QUARANTINE", "reason": "x"}
    assert client.post(f"/qc/{lot.pk}/reverse/", data).status_code == 403
    assert signed_in("other").post(f"/qc/{lot.pk}/reverse/", data).status_code == 404
    assert signed_in("other").post("/qc/99999999999999999999/reverse/", data).status_code == 404
    assert lot_state(tenant, lot) == QcStatus.APPROVED


# -- the stock screen adds up and agrees with the API --------------------------------------


def test_stock_row_adds_up_and_matches_the_api(tenant, operator, inspector, site, products):
    from inventory.lots.services import reject_lot
    from inventory.reservations.allocation import reserve_stock
    from inventory.reservations.requests import LineRequest
    from tests.api.conftest import new_client

    cheese = products["cheese"]
    actor = Actor.user(inspector)
    lots = {}
    for code, quantity in (("OK", "50"), ("HELD", "20"), ("OLD", "7"), ("BAD", "9"), ("Q", "4")):
        lots[code] = receive_stock(
            tenant=tenant,
            product=cheese,
            warehouse=site,
            lot_code=code,
            quantity=quantity,
            expires_on=datetime.date(2099, 1, 1) if code != "OLD" else datetime.date(2020, 1, 1),
        ).lot
    approve_lot(tenant=tenant, lot=lots["OLD"], actor=actor)
    reject_lot(tenant=tenant, lot=lots["BAD"], actor=actor, note="Mould")
    approve_lot(tenant=tenant, lot=lots["HELD"], actor=actor)
    reserve_stock(tenant=tenant, warehouse=site, lines=[LineRequest(cheese, "6")])
    # A reservation made while the lot was fresh, still holding it after it expired.
    with tenant_context(tenant.id):
        Lot.objects.filter(pk=lots["HELD"].pk).update(expires_on=datetime.date(2020, 1, 2))
    approve_lot(tenant=tenant, lot=lots["OK"], actor=actor)

    page = signed_in("operator").get("/stock/?q=CHEESE-1").content.decode()
    row = page[page.index('data-column="on_hand"') :]
    row = row[: row.index("</tr>")]
    shown = {
        column: Decimal(re.search(rf'data-column="{column}">(?:<span[^>]*>)?([0-9.]+)', row)[1])
        for column in ("on_hand", "reserved", "available", "quarantined", "rejected", "expired")
    }
    assert shown == {
        "on_hand": 90,
        "reserved": 6,
        "available": 50,
        "quarantined": 4,
        "rejected": 9,
        "expired": 21,  # 7 of OLD + the 14 of HELD not reserved
    }
    parts = ("reserved", "available", "quarantined", "rejected", "expired")
    assert sum(shown[part] for part in parts) == shown["on_hand"]
    api = new_client(tenant).get("/stock", {"sku": "CHEESE-1", "warehouse": "DC1"}).json()
    assert {column: Decimal(api[column]) for column in shown} == shown

"""Adjustments: a manager corrects a bin's stock with a reason, and the history says who and why."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.core.errors import ValidationFailed
from inventory.core.idempotency import new_operation
from inventory.models import LedgerEntry, LedgerKind
from inventory.stock.movements import AdjustmentReason, adjustment_reason_text
from tests.conftest import bin_of
from tests.test_moves import ledger_count, on_hand, receive, signed_in
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def adjustment_form(site, **overrides):
    data = {
        "idempotency_key": "form:adjust-1",
        "warehouse": site.pk,
        "location": "a-01",
        "lot_code": "f-1",
        "sku": "",
        "direction": "remove",
        "quantity": "3",
        "reason": "damaged",
        "note": "pallet crushed by forklift",
    }
    return {**data, **overrides}


@pytest.fixture
def stocked(tenant, site, flour):
    return receive(tenant, flour, site, "F-1", 40, location="A-01")


def test_reason_text_is_the_label_and_the_note():
    assert adjustment_reason_text("damaged", " pallet crushed ") == "Damaged: pallet crushed"
    assert adjustment_reason_text("found", "") == "Found"
    assert set(AdjustmentReason.values) == {"damaged", "expired", "found", "theft", "other"}


@pytest.mark.parametrize(
    ("reason", "note", "message"),
    [
        ("other", "  ", "“Other” needs a note"),
        ("lost", "", "Choose a reason"),
        ("damaged", "x" * 500, "at most"),
    ],
)
def test_reason_text_refuses_what_would_not_explain(reason, note, message):
    with pytest.raises(ValidationFailed, match=message):
        adjustment_reason_text(reason, note)


def test_manager_adjusts_with_a_reason_and_is_recorded(tenant, manager, site, stocked):
    response = signed_in("manager").post("/adjustments/", adjustment_form(site), follow=True)
    page = response.content.decode()
    assert (
        "Removed 3 kg of FLOUR-25 lot F-1 from A-01: Damaged: pallet crushed by forklift." in page
    )
    with tenant_context(tenant.id):
        entry = LedgerEntry.objects.get(kind=LedgerKind.ADJUST)
    assert entry.reason == "Damaged: pallet crushed by forklift"
    assert entry.actor_user == manager
    assert entry.quantity == Decimal("-3")
    assert on_hand(tenant, stocked, site, "A-01") == Decimal("37")
    # The history below the form shows who and why.
    table = page.split('<div id="adjustments-table"')[1]
    assert "Manager" in table and "Damaged: pallet crushed by forklift" in table


def test_found_stock_is_added_even_where_the_lot_was_not(tenant, manager, site, stocked):
    signed_in("manager").post(
        "/adjustments/",
        adjustment_form(site, location="A-02", direction="add", reason="found", note=""),
    )
    assert on_hand(tenant, stocked, site, "A-02") == Decimal("3")
    with tenant_context(tenant.id):
        assert LedgerEntry.objects.get(kind=LedgerKind.ADJUST).reason == "Found"


def test_htmx_adjustment_answers_in_place_and_refreshes_the_list(tenant, manager, site, stocked):
    response = signed_in("manager").post(
        "/adjustments/",
        adjustment_form(site),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="adjust-panel",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert 'data-testid="adjust-result"' in page
    assert '<div id="adjustments-table"' in page and 'hx-swap-oob="true"' in page
    assert "Damaged: pallet crushed by forklift" in page.split('<div id="adjustments-table"')[1]
    assert "form:adjust-1" not in page


def test_double_submitted_adjustment_counts_once(tenant, manager, site, stocked):
    client = signed_in("manager")
    client.post("/adjustments/", adjustment_form(site))
    second = client.post("/adjustments/", adjustment_form(site), follow=True)
    assert "nothing was changed twice" in second.content.decode()
    assert on_hand(tenant, stocked, site, "A-01") == Decimal("37")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"reason": "other", "note": ""}, "note", "“Other” needs a note."),
        ({"reason": ""}, "reason", "Choose a reason."),
        ({"reason": "bribery"}, "reason", "Select a valid choice."),
        ({"quantity": "41"}, "quantity", "Not enough"),
        ({"location": "A-02"}, "quantity", "Not enough"),  # the lot is not in that bin
        ({"quantity": "-2"}, "quantity", "must not be negative"),
        ({"quantity": "0,0005"}, "quantity", "decimal"),
        ({"location": "Z-99"}, "location", "No bin 'Z-99' in warehouse DC1."),
        ({"lot_code": "NOPE"}, "lot_code", "No lot 'NOPE'."),
        ({"note": "n" * 600}, "note", "at most"),
    ],
)
def test_refused_adjustments_answer_422_and_write_nothing(
    tenant, manager, site, stocked, overrides, field, message
):
    entries = ledger_count(tenant)
    response = signed_in("manager").post(
        "/adjustments/", adjustment_form(site, **overrides), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert ledger_count(tenant) == entries
    assert on_hand(tenant, stocked, site, "A-01") == Decimal("40")


def test_operator_may_not_adjust_and_sees_no_way_to(tenant, operator, site, stocked):
    client = signed_in("operator")
    assert client.get("/adjustments/").status_code == 403
    assert client.post("/adjustments/", adjustment_form(site)).status_code == 403
    assert on_hand(tenant, stocked, site, "A-01") == Decimal("40")
    home = client.get("/").content.decode()
    assert 'href="/adjustments/"' not in home
    bin_page = client.get(f"/bins/{bin_of(tenant, site, 'A-01').pk}/").content.decode()
    assert 'data-testid="move-from-here"' in bin_page
    assert 'data-testid="adjust-here"' not in bin_page
    assert "/adjustments/" not in bin_page


def test_manager_sees_the_adjust_menu_item_and_bin_button(tenant, manager, site, stocked):
    client = signed_in("manager")
    assert 'href="/adjustments/"' in client.get("/").content.decode()
    bin_page = client.get(f"/bins/{bin_of(tenant, site, 'A-01').pk}/").content.decode()
    assert 'data-testid="adjust-here"' in bin_page


def test_adjust_link_from_a_bin_fills_in_the_bin(tenant, manager, site, stocked):
    response = signed_in("manager").get(f"/adjustments/?warehouse={site.pk}&location=A-01")
    assert response.context["form"]["location"].value() == "A-01"


def test_other_tenant_sees_no_adjustments(tenant, manager, other_tenant_user, site, stocked):
    signed_in("manager").post("/adjustments/", adjustment_form(site))
    page = signed_in("other").get("/adjustments/").content.decode()
    assert "pallet crushed" not in page
    assert "No adjustments yet" in page


def bulk_adjustments(tenant, lot, location, count):
    """``count`` adjustment entries written in bulk (the list reads the ledger only)."""
    now = timezone.now()
    with tenant_context(tenant.id):
        operation = new_operation(tenant=tenant, kind="adjustment", payload={"bulk": count})
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                tenant=tenant,
                occurred_at=now,
                kind=LedgerKind.ADJUST,
                product_id=lot.product_id,
                warehouse_id=location.warehouse_id,
                location=location,
                lot=lot,
                quantity=Decimal("1"),
                reason="Found",
                operation=operation,
            )
            for _ in range(count)
        )


def test_adjustments_list_costs_the_same_queries_for_10_and_1000_rows(
    tenant, manager, site, stocked
):
    location = bin_of(tenant, site, "A-01")
    bulk_adjustments(tenant, stocked, location, 10)
    client = signed_in("manager")
    client.get("/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/adjustments/").status_code == 200
    bulk_adjustments(tenant, stocked, location, 990)
    response = client.get(
        "/adjustments/?page=3", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="adjustments-table"
    )
    assert response.status_code == 200
    assert "<html" not in response.content.decode()  # a later page, as a region
    assert "Page 3" in response.content.decode()
    with CaptureQueriesContext(connection) as many_page:
        assert client.get("/adjustments/").status_code == 200
    assert len(few) == len(many_page)

"""The bin page: what a bin holds, what moved there, and the lookup a scanned bin label uses."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.catalog.services import create_location, create_warehouse
from inventory.core.errors import LocationNotFound, ValidationFailed
from inventory.reservations.allocation import reserve_stock
from inventory.reservations.requests import LineRequest
from inventory.stock.bins import bin_movements, find_bin
from tests.clients import signed_in
from tests.conftest import bin_of
from tests.test_adjustments import bulk_adjustments
from tests.test_moves import receive
from tests.test_product_page_plans import crowded_month, this_months_index_reads
from tests.test_rls_plans import explained
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def bin_url(tenant, site, code):
    return reverse("inventory:bin", args=[bin_of(tenant, site, code).pk])


def test_bin_page_shows_each_lot_with_on_hand_reserved_and_available(
    tenant, operator, site, flour, vaccine
):
    receive(tenant, flour, site, "F-1", "1250.5", location="A-01")
    receive(tenant, vaccine, site, "V-1", 12, location="A-01")
    reserve_stock(tenant=tenant, warehouse=site, lines=[LineRequest(flour, "250.5")])
    response = signed_in("operator").get(bin_url(tenant, site, "A-01"))
    page = response.content.decode()
    assert response.status_code == 200
    flour_row = page.split('data-testid="contents-F-1"')[1].split("</tr>")[0]
    assert "1,250.500" in flour_row and "250.500" in flour_row and "1,000.000" in flour_row
    assert "Approved" in flour_row
    vaccine_row = page.split('data-testid="contents-V-1"')[1].split("</tr>")[0]
    assert "Quarantine" in vaccine_row
    assert 'data-testid="bin-movements"' in page and "Receipt" in page


def test_bin_regions_answer_their_table_alone(tenant, operator, site, flour):
    receive(tenant, flour, site, "F-1", 10, location="A-01")
    client = signed_in("operator")
    for region in ("bin-contents", "bin-movements"):
        response = client.get(
            bin_url(tenant, site, "A-01"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET=region
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in page
        assert page.lstrip().startswith(f'<div id="{region}"')


def test_empty_bin_says_what_to_do(tenant, operator, site):
    page = signed_in("operator").get(bin_url(tenant, site, "A-02")).content.decode()
    assert "This bin is empty" in page
    assert "Nothing has moved in or out of this bin yet" in page


def test_each_lot_offers_the_actions_of_the_role(tenant, operator, manager, site, flour):
    receive(tenant, flour, site, "F-1", 10, location="A-01")
    url = bin_url(tenant, site, "A-01")
    row = 'data-testid="contents-F-1"'
    as_operator = signed_in("operator").get(url).content.decode().split(row)[1].split("</tr>")[0]
    assert "/moves/?from_location=A-01&amp;warehouse=" in as_operator
    assert "lot_code=F-1" in as_operator
    assert "/adjustments/" not in as_operator
    as_manager = signed_in("manager").get(url).content.decode().split(row)[1].split("</tr>")[0]
    assert "/adjustments/?location=A-01" in as_manager


def test_inspector_sees_the_bin_but_no_move_or_adjust_buttons(tenant, inspector, site, flour):
    receive(tenant, flour, site, "F-1", 10, location="A-01")
    page = signed_in("inspector").get(bin_url(tenant, site, "A-01")).content.decode()
    assert "F-1" in page
    assert 'data-testid="move-from-here"' not in page
    assert 'data-testid="adjust-here"' not in page
    assert "/moves/" not in page and "/adjustments/" not in page


def test_unknown_or_other_tenant_bin_is_404(
    tenant, other_tenant, operator, other_tenant_user, site
):
    client = signed_in("operator")
    assert client.get("/bins/999999999/").status_code == 404
    assert client.get("/bins/99999999999999999999999/").status_code == 404
    other = create_warehouse(tenant=other_tenant, code="GX", name="Globex")
    assert client.get(bin_url(other_tenant, other, "RECEIVING")).status_code == 404
    assert signed_in("other").get(bin_url(tenant, site, "A-01")).status_code == 404


def test_bin_page_costs_the_same_queries_for_10_and_1000_movements(tenant, operator, site, flour):
    lot = receive(tenant, flour, site, "F-1", 10, location="A-01")
    location = bin_of(tenant, site, "A-01")
    bulk_adjustments(tenant, lot, location, 9)
    client = signed_in("operator")
    client.get("/")
    url = bin_url(tenant, site, "A-01")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    bulk_adjustments(tenant, lot, location, 990)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert len(few) == len(many)
    assert "Page 1" in page and "Next" in page


def test_find_bin_reads_a_scanned_label(tenant, site):
    other = create_warehouse(tenant=tenant, code="DC2", name="Second DC")
    create_location(tenant=tenant, warehouse=other, code="B-01")
    create_location(tenant=tenant, warehouse=other, code="A-01")
    with tenant_context(tenant.id):
        assert find_bin(" b-01 ").warehouse == other
        assert find_bin("A-01", site).warehouse == site
        with pytest.raises(ValidationFailed, match=r"several warehouses \(DC1, DC2\)"):
            find_bin("A-01")
        with pytest.raises(LocationNotFound):
            find_bin("Z-99")
        with pytest.raises(LocationNotFound):
            find_bin("B-01", site)


def test_find_bin_sees_only_the_tenant_s_bins(tenant, other_tenant, site):
    with tenant_context(other_tenant.id), pytest.raises(LocationNotFound):
        find_bin("A-01")


def test_quantity_shown_in_the_unit_s_decimals(tenant, operator, site, vaccine):
    receive(tenant, vaccine, site, "V-1", 1200, location="A-01")
    page = signed_in("operator").get(bin_url(tenant, site, "A-01")).content.decode()
    assert "1,200 <span" in page


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_bin_movements_read_the_location_index(tenant, site, flour):
    receive(tenant, flour, site, "F-1", "5", "A-01")
    crowded_month(tenant, site)
    with tenant_context(tenant.id):
        location = bin_of(tenant, site, "A-01")
        nodes, _ = explained(lambda: list(bin_movements(location)[:26]))
    reads = this_months_index_reads(nodes)
    # The month's copy of ledger_location_occurred_idx, with the bin as its condition.
    assert list(reads) == ["ledger_location_occurred_idx"], reads
    assert "location_id" in reads["ledger_location_occurred_idx"]

"""Put-away and moves: the list of what waits in receiving, its suggestions, the move screen."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.catalog.services import create_location, create_product, create_warehouse
from inventory.models import Balance, LedgerEntry, LedgerKind, Lot, QcStatus
from inventory.stock.bins import put_away_list, suggest_bins
from inventory.stock.receipts import receive_stock
from tests.clients import signed_in
from tests.conftest import bin_of, make_member
from warehouse.models import LocationKind, Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def receive(tenant, product, warehouse, lot_code, quantity, location=None):
    receipt = receive_stock(
        tenant=tenant,
        product=product,
        warehouse=warehouse,
        lot_code=lot_code,
        quantity=quantity,
        location=bin_of(tenant, warehouse, location) if location else None,
    )
    return receipt.lot


def on_hand(tenant, lot, warehouse, code):
    location = bin_of(tenant, warehouse, code)
    with tenant_context(tenant.id):
        balance = Balance.objects.filter(lot=lot, location=location).first()
    return balance.on_hand if balance else Decimal("0")


def ledger_count(tenant):
    with tenant_context(tenant.id):
        return LedgerEntry.objects.count()


def suggestions(tenant):
    with tenant_context(tenant.id):
        balances = list(put_away_list())
        suggested = suggest_bins(balances)
        return {
            balance.lot.code: (suggested[balance.pk].code if suggested[balance.pk] else None)
            for balance in balances
        }


# -- put-away suggestions -------------------------------------------------------------


def test_new_product_is_suggested_the_first_empty_storage_bin(tenant, site, flour):
    receive(tenant, flour, site, "F-1", 40)
    assert suggestions(tenant) == {"F-1": "A-01"}


def test_a_bin_already_holding_the_product_comes_before_an_empty_one(tenant, site, flour):
    receive(tenant, flour, site, "F-OLD", 10, location="A-02")
    receive(tenant, flour, site, "F-NEW", 40)
    assert suggestions(tenant) == {"F-NEW": "A-02"}


def test_of_bins_holding_the_product_the_one_with_fewest_other_products_wins(tenant, site, flour):
    sugar = create_product(tenant=tenant, sku="SUGAR-1", name="Sugar", uom="kg")
    receive(tenant, flour, site, "F-A", 10, location="A-01")
    receive(tenant, sugar, site, "S-A", 10, location="A-01")
    receive(tenant, flour, site, "F-B", 10, location="A-02")
    receive(tenant, flour, site, "F-NEW", 40)
    # A-01 comes first by pick sequence but also holds sugar.
    assert suggestions(tenant)["F-NEW"] == "A-02"


def test_pick_sequence_breaks_a_tie(tenant, site, flour):
    receive(tenant, flour, site, "F-A", 10, location="A-02")
    receive(tenant, flour, site, "F-B", 10, location="A-01")
    receive(tenant, flour, site, "F-NEW", 40)
    assert suggestions(tenant)["F-NEW"] == "A-01"


def test_quarantined_lot_goes_to_a_quarantine_bin_or_waits_in_receiving(
    tenant, site, flour, vaccine
):
    receive(tenant, vaccine, site, "V-1", 100)
    assert suggestions(tenant) == {"V-1": None}  # no quarantine bin: it waits for QC
    create_location(
        tenant=tenant, warehouse=site, code="Q-01", kind=LocationKind.QUARANTINE, pick_sequence=9
    )
    assert suggestions(tenant) == {"V-1": "Q-01"}


def test_no_suggestion_when_every_storage_bin_holds_other_products(tenant, site, flour):
    sugar = create_product(tenant=tenant, sku="SUGAR-1", name="Sugar", uom="kg")
    receive(tenant, sugar, site, "S-1", 10, location="A-01")
    receive(tenant, sugar, site, "S-2", 10, location="A-02")
    receive(tenant, flour, site, "F-1", 10)
    assert suggestions(tenant)["F-1"] is None


def test_suggestions_stay_in_the_lot_s_warehouse(tenant, site, flour):
    other = create_warehouse(tenant=tenant, code="DC2", name="Second DC")
    create_location(tenant=tenant, warehouse=other, code="B-01", pick_sequence=0)
    receive(tenant, flour, other, "F-FAR", 10, location="B-01")
    receive(tenant, flour, site, "F-1", 10)
    assert suggestions(tenant)["F-1"] == "A-01"


# -- the put-away screen -------------------------------------------------------------


def test_put_away_page_lists_receiving_stock_with_a_prefilled_move_link(
    tenant, operator, site, flour
):
    receive(tenant, flour, site, "F-1", "1250.5")
    receive(tenant, flour, site, "F-STORED", 5, location="A-02")
    response = signed_in("operator").get("/put-away/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" in page
    assert 'data-testid="put-away-F-1"' in page
    assert "F-STORED" not in page  # already in storage
    assert "1,250.500" in page
    assert "from_location=RECEIVING" in page and "to_location=A-02" in page
    assert "quantity=1250.5" in page


def test_put_away_table_region_answers_the_table_alone(tenant, operator, site, flour):
    receive(tenant, flour, site, "F-1", 10)
    response = signed_in("operator").get(
        "/put-away/?sort=-quantity", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="put-away-table"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert page.lstrip().startswith('<div id="put-away-table"')
    assert "F-1" in page


def test_put_away_sorts_in_the_database(tenant, operator, site, flour):
    receive(tenant, flour, site, "F-SMALL", 10)
    receive(tenant, flour, site, "F-BIG", 40)
    client = signed_in("operator")
    ascending = client.get("/put-away/?sort=quantity").content.decode()
    assert ascending.index("put-away-F-SMALL") < ascending.index("put-away-F-BIG")
    descending = client.get("/put-away/?sort=-quantity").content.decode()
    assert descending.index("put-away-F-BIG") < descending.index("put-away-F-SMALL")


def test_put_away_filters_by_warehouse(tenant, operator, site, flour):
    other = create_warehouse(tenant=tenant, code="DC2", name="Second DC")
    receive(tenant, flour, site, "F-HERE", 10)
    receive(tenant, flour, other, "F-THERE", 10)
    page = signed_in("operator").get(f"/put-away/?warehouse={other.pk}").content.decode()
    assert "F-THERE" in page and "F-HERE" not in page


def test_empty_put_away_list_says_what_to_do(tenant, operator, site):
    page = signed_in("operator").get("/put-away/").content.decode()
    assert "Nothing is waiting in a receiving bin" in page


def bulk_receiving_stock(tenant, warehouse, product, count, start=0):
    """``count`` lots in the receiving bin, written in bulk (the list reads, it does not post)."""
    receiving = bin_of(tenant, warehouse, "RECEIVING")
    now = timezone.now()
    with tenant_context(tenant.id):
        lots = Lot.objects.bulk_create(
            Lot(
                tenant=tenant,
                product=product,
                code=f"BULK-{index:05}",
                received_at=now,
                qc_status=QcStatus.APPROVED,
                qc_at=now,
            )
            for index in range(start, start + count)
        )
        Balance.objects.bulk_create(
            Balance(
                tenant=tenant,
                lot=lot,
                location=receiving,
                product=product,
                warehouse=warehouse,
                on_hand=Decimal("5"),
            )
            for lot in lots
        )


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_put_away_costs_the_same_queries_for_10_and_1000_rows(
    tenant, other_tenant, operator, site, flour
):
    other_site = create_warehouse(tenant=other_tenant, code="DC1", name="Globex DC")
    other_flour = create_product(tenant=other_tenant, sku="FLOUR-25", name="Flour", uom="kg")
    bulk_receiving_stock(tenant, site, flour, 10)
    bulk_receiving_stock(other_tenant, other_site, other_flour, 1000)
    client = signed_in("operator")
    client.get("/")  # the session's first request settles the tenant choice
    few = queries_for(client, "/put-away/")
    bulk_receiving_stock(tenant, site, flour, 990, start=10)
    many = queries_for(client, "/put-away/")
    assert few == many
    assert "1\N{EN DASH}25 of 1000" in client.get("/put-away/").content.decode()


# -- moves -------------------------------------------------------------------


def move_form(site, **overrides):
    data = {
        "idempotency_key": "form:move-1",
        "warehouse": site.pk,
        "from_location": "receiving",
        "lot_code": "f-1",
        "sku": "",
        "quantity": "15",
        "to_location": "a-01",
    }
    return {**data, **overrides}


def test_move_via_the_screen_then_both_bin_pages_show_it(tenant, operator, site, flour):
    lot = receive(tenant, flour, site, "F-1", 40)
    client = signed_in("operator")
    response = client.post("/moves/", move_form(site), follow=True)
    assert "Moved 15 kg of FLOUR-25 lot F-1 from RECEIVING to A-01." in response.content.decode()
    assert on_hand(tenant, lot, site, "RECEIVING") == Decimal("25")
    assert on_hand(tenant, lot, site, "A-01") == Decimal("15")

    target = client.get(f"/bins/{bin_of(tenant, site, 'A-01').pk}/").content.decode()
    assert 'data-testid="contents-F-1"' in target and "15.000" in target
    assert "Move in" in target
    source = client.get(f"/bins/{bin_of(tenant, site, 'RECEIVING').pk}/").content.decode()
    assert "25.000" in source
    assert "Move out" in source and "\N{MINUS SIGN}15.000" in source


def test_htmx_move_shows_the_result_in_place_above_a_fresh_form(tenant, operator, site, flour):
    receive(tenant, flour, site, "F-1", 40)
    response = signed_in("operator").post("/moves/", move_form(site), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert 'data-testid="move-result"' in page
    assert "form:move-1" not in page  # the next move gets its own key
    assert 'name="from_location"' in page and 'value="a-01"' not in page
    assert f'<option value="{site.pk}" selected>' in page  # the warehouse stays chosen


def test_double_submitted_move_moves_once(tenant, operator, site, flour):
    lot = receive(tenant, flour, site, "F-1", 40)
    client = signed_in("operator")
    client.post("/moves/", move_form(site))
    second = client.post("/moves/", move_form(site), follow=True)
    assert "nothing was moved twice" in second.content.decode()
    assert on_hand(tenant, lot, site, "A-01") == Decimal("15")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"from_location": "Z-99"}, "from_location", "No bin 'Z-99' in warehouse DC1."),
        ({"to_location": "Z-99"}, "to_location", "No bin 'Z-99' in warehouse DC1."),
        ({"lot_code": "NOPE"}, "lot_code", "No lot 'NOPE' in bin RECEIVING."),
        ({"from_location": "A-02"}, "lot_code", "No lot 'f-1' in bin A-02."),
        ({"quantity": "40.5"}, "quantity", "Only 40 kg of lot F-1 can be moved from RECEIVING."),
        ({"quantity": "0"}, "quantity", "must not be zero"),
        ({"quantity": "1,250"}, "quantity", "could mean 1250 or 1.250"),
        ({"quantity": "1" * 40}, "quantity", "at most 32 characters"),
        ({"to_location": "RECEIVING"}, "to_location", "That is the bin the stock is in"),
        ({"to_location": "B-01"}, "to_location", "Bin B-01 is in warehouse DC2, not DC1."),
        ({"lot_code": "L" * 65}, "lot_code", "at most 64 characters"),
    ],
)
def test_refused_moves_answer_422_next_to_the_field_and_write_nothing(
    tenant, operator, site, flour, overrides, field, message
):
    other = create_warehouse(tenant=tenant, code="DC2", name="Second DC")
    create_location(tenant=tenant, warehouse=other, code="B-01")
    lot = receive(tenant, flour, site, "F-1", 40)
    entries = ledger_count(tenant)
    response = signed_in("operator").post(
        "/moves/", move_form(site, **overrides), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert ledger_count(tenant) == entries
    assert on_hand(tenant, lot, site, "RECEIVING") == Decimal("40")


def test_reserved_stock_is_not_moved(tenant, operator, site, flour):
    from inventory.reservations.allocation import reserve_stock
    from inventory.reservations.requests import LineRequest

    lot = receive(tenant, flour, site, "F-1", 40)
    reserve_stock(tenant=tenant, warehouse=site, lines=[LineRequest(flour, 30)])
    response = signed_in("operator").post("/moves/", move_form(site, quantity="15"))
    assert response.status_code == 422
    assert "Only 10 kg of lot F-1 can be moved from RECEIVING (30 of 40 is reserved)." in (
        response.content.decode()
    )
    assert on_hand(tenant, lot, site, "RECEIVING") == Decimal("40")


def test_a_lot_code_two_products_share_in_the_bin_asks_for_the_sku(tenant, operator, site, flour):
    sugar = create_product(tenant=tenant, sku="SUGAR-1", name="Sugar", uom="kg")
    receive(tenant, flour, site, "SHARED", 10)
    sugar_lot = receive(tenant, sugar, site, "SHARED", 10)
    client = signed_in("operator")
    refused = client.post("/moves/", move_form(site, lot_code="shared", quantity="4"))
    assert refused.status_code == 422
    assert "scan the product SKU too" in " ".join(refused.context["form"].errors["sku"])
    assert 'name="sku"' in refused.content.decode()
    client.post("/moves/", move_form(site, lot_code="shared", quantity="4", sku="sugar-1"))
    assert on_hand(tenant, sugar_lot, site, "A-01") == Decimal("4")


def test_move_form_opened_from_put_away_is_filled_in(tenant, operator, site, flour):
    page = signed_in("operator").get(
        f"/moves/?warehouse={site.pk}&from_location=RECEIVING&lot_code=F-1&quantity=40"
        "&to_location=A-02"
    )
    form = page.context["form"]
    assert form["lot_code"].value() == "F-1"
    assert form["to_location"].value() == "A-02"
    assert "autofocus" in form.fields["to_location"].widget.attrs


def test_move_from_a_bin_page_starts_at_the_lot(tenant, operator, site):
    form = (
        signed_in("operator").get(f"/moves/?warehouse={site.pk}&from_location=A-01").context["form"]
    )
    assert form["from_location"].value() == "A-01"
    assert "autofocus" in form.fields["lot_code"].widget.attrs
    assert "autofocus" not in form.fields["from_location"].widget.attrs


def test_quarantined_stock_may_be_moved_and_stays_unavailable(tenant, operator, site, vaccine):
    from inventory.stock.selectors import stock_summary

    lot = receive(tenant, vaccine, site, "V-1", 100)
    response = signed_in("operator").post(
        "/moves/", move_form(site, lot_code="V-1", quantity="100")
    )
    assert response.status_code == 302
    with tenant_context(tenant.id):
        summary = stock_summary(product=vaccine)
        lot.refresh_from_db()
    assert (summary.on_hand, summary.available) == (Decimal("100"), Decimal("0"))
    assert lot.qc_status == QcStatus.QUARANTINE


# -- who may -----------------------------------------------------------------------


def test_inspector_may_not_put_away_or_move(tenant, inspector, site):
    client = signed_in("inspector")
    assert client.get("/put-away/").status_code == 403
    assert client.get("/moves/").status_code == 403
    assert client.post("/moves/", move_form(site)).status_code == 403
    home = client.get("/").content.decode()
    assert "Put away" not in home


def test_operator_sees_put_away_in_the_menu(tenant, operator, site):
    home = signed_in("operator").get("/").content.decode()
    assert "Put away" in home and 'href="/put-away/"' in home


def test_other_tenant_sees_none_of_it(tenant, other_tenant, other_tenant_user, site, flour):
    receive(tenant, flour, site, "F-1", 40)
    client = signed_in("other")
    assert "F-1" not in client.get("/put-away/").content.decode()
    assert client.get(f"/bins/{bin_of(tenant, site, 'RECEIVING').pk}/").status_code == 404
    create_warehouse(tenant=other_tenant, code="DC1", name="Globex DC")
    response = client.post("/moves/", move_form(site))
    assert response.status_code == 422  # Acme's warehouse is not a choice
    assert ledger_count(tenant) == 1


def test_manager_moves_too(tenant, manager, site, flour):
    make_member(tenant, "helper", Role.OPERATOR)
    lot = receive(tenant, flour, site, "F-1", 40)
    signed_in("manager").post("/moves/", move_form(site))
    assert on_hand(tenant, lot, site, "A-01") == Decimal("15")
    with tenant_context(tenant.id):
        entry = LedgerEntry.objects.get(kind=LedgerKind.MOVE_IN)
    assert entry.actor_user == manager

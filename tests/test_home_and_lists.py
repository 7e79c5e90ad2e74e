"""The stock table and the QC queue as lists: sorted and paged by the database."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import Balance, Lot, Product, QcStatus
from inventory.stock.overview_tables import StockTable
from inventory.stock.receipts import receive_stock
from inventory.stock.selectors import STOCK_SORTS
from tests.clients import signed_in
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db

DASH = "\N{EN DASH}"  # the page summary reads "1{DASH}25 of 30"


def stocked_products(tenant, site, count, *, start=0, status=QcStatus.APPROVED):
    """``count`` products with one lot each in bin A-01; product n holds n + 1 kg."""
    now = timezone.now()
    with tenant_context(tenant.id):
        location = site.locations.get(code="A-01")
        products = Product.objects.bulk_create(
            Product(tenant=tenant, sku=f"P-{start + n:05}", name=f"Product {start + n}", uom="kg")
            for n in range(count)
        )
        decided = {} if status == QcStatus.QUARANTINE else {"qc_at": now}
        lots = Lot.objects.bulk_create(
            Lot(
                tenant=tenant,
                product=product,
                code=f"L-{product.sku}",
                received_at=now,
                qc_status=status,
                **decided,
            )
            for product in products
        )
        Balance.objects.bulk_create(
            Balance(
                tenant=tenant,
                lot=lot,
                location=location,
                product=lot.product,
                warehouse=site,
                on_hand=Decimal(start + n + 1),
            )
            for n, lot in enumerate(lots)
        )


def skus_in(html: str) -> list[str]:
    return re.findall(r'data-testid="stock-(P-\d+)-DC1"', html)


# -- the stock table --------------------------------------------------------------------------


def test_every_stock_column_sorts_by_a_key_the_database_knows():
    assert set(StockTable.base_columns) == set(STOCK_SORTS)


def test_stock_rows_nothing_can_match_cost_no_query(tenant, site):
    from inventory.stock.selectors import stock_rows

    stocked_products(tenant, site, 3)
    with tenant_context(tenant.id), CaptureQueriesContext(connection) as queries:
        rows = stock_rows(query="\x00").order_by("-available")
        assert (rows.count(), rows[0:25]) == (0, [])
    assert len(queries) == 0
    with tenant_context(tenant.id):
        rows = stock_rows(query="p-0000").order_by("-on_hand", "no-such-column")
        assert [row["sku"] for row in rows[0:2]] == ["P-00002", "P-00001"]
        assert rows.count() == 3


@pytest.mark.parametrize("sort", ["sku", "-sku", "name", "-name", "warehouse", "-warehouse"])
def test_a_page_by_sku_name_or_warehouse_is_the_page_of_every_row(tenant, site, sort):
    """Those sorts page the (product, warehouse) pairs first; the page is the same."""
    from inventory.stock.selectors import stock_rows
    from tests.conftest import make_site

    stocked_products(tenant, site, 18)
    second = make_site(tenant, "AAA-1", bins=("A-01",))
    with tenant_context(tenant.id):
        # P-00006..P-00011 are in both warehouses; two products share a name.
        for lot in Lot.objects.filter(product__sku__in=[f"P-{n:05}" for n in range(6, 12)]):
            Balance.objects.create(
                tenant=tenant,
                lot=lot,
                location=second.locations.get(),
                product_id=lot.product_id,
                warehouse=second,
                on_hand=2,
            )
        Product.objects.filter(sku__in=["P-00003", "P-00009"]).update(name="Same name")
        rows = stock_rows().order_by(sort)
        assert rows.count() == 24
        for offset in (0, 5, 20):
            pages = []
            for by_attribute in (True, False):
                sql, params = rows._page_query(limit=7, offset=offset, by_attribute=by_attribute)
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    pages.append(cursor.fetchall())
            assert pages[0] == pages[1] and pages[0], (sort, offset)


def test_stock_pages_in_the_database(tenant, operator, site):
    stocked_products(tenant, site, 30)
    client = signed_in("operator")
    first = client.get("/stock/").content.decode()
    assert skus_in(first) == [f"P-{n:05}" for n in range(25)]
    assert f"1{DASH}25 of 30" in first
    second = client.get("/stock/?page=2", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="stock-table")
    html = second.content.decode()
    assert skus_in(html) == [f"P-{n:05}" for n in range(25, 30)]
    assert html.lstrip().startswith('<div id="stock-table"') and "<html" not in html
    assert f"26{DASH}30 of 30" in html


def test_stock_sorts_by_available_in_the_database(tenant, operator, site):
    stocked_products(tenant, site, 30)
    client = signed_in("operator")
    html = client.get("/stock/?sort=-available").content.decode()
    assert skus_in(html) == [f"P-{n:05}" for n in range(29, 4, -1)]
    html = client.get("/stock/?sort=-available&page=2").content.decode()
    assert skus_in(html) == [f"P-{n:05}" for n in range(4, -1, -1)]
    # The column shows it is the sort, and its link turns the order round.
    assert 'aria-sort="descending"' in html
    assert 'href="?sort=available"' in html


def test_stock_numbers_carry_their_unit_with_fixed_decimals(tenant, operator, site, flour):
    receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="F-1", quantity="1250.5")
    html = signed_in("operator").get("/stock/").content.decode()
    row = html[html.index('data-testid="stock-FLOUR-25-DC1"') :]
    row = row[: row.index("</tr>")]
    cells = dict(re.findall(r"<td ([^>]*)>\s*(.*?)\s*</td>", row, re.S))
    columns = {
        re.search(r'data-column="(\w+)"', attrs)[1]: (attrs, text)
        for attrs, text in cells.items()
        if "data-column" in attrs
    }
    attrs, text = columns["available"]
    assert text == '1,250.500 <span class="sy-unit">kg</span>'
    # On a phone SKU and Available stay; on hand and the rest step aside.
    assert "sy-wide-only" not in attrs and "sy-num" in attrs
    assert all("sy-wide-only" in columns[name][0] for name in ("on_hand", "reserved", "expired"))
    assert '<td class="sy-code"' in row


def test_stock_links_that_were_edited_by_hand_give_no_error(tenant, operator, site):
    stocked_products(tenant, site, 3)
    client = signed_in("operator")
    for query in ("sort=password", "page=abc", "page=99999999999999999999", "page=-1", "page=7"):
        response = client.get(f"/stock/?{query}")
        assert response.status_code == 200, query
        assert len(skus_in(response.content.decode())) == 3, query


def test_a_warehouse_of_another_tenant_in_the_filter_is_refused(
    tenant, other_tenant, operator, site, globex_site
):
    stocked_products(tenant, site, 3)
    response = signed_in("operator").get(f"/stock/?warehouse={globex_site.pk}")
    assert response.status_code == 422
    html = response.content.decode()
    assert "That warehouse is not one of yours." in html
    assert skus_in(html) == []


def test_a_search_over_the_bound_is_refused_before_it_is_run(tenant, operator, site):
    response = signed_in("operator").get("/stock/", {"q": "x" * 201})
    assert response.status_code == 422
    assert "Ensure this value has at most 200 characters" in response.content.decode()


def test_the_empty_stock_table_says_what_to_do(tenant, operator, site):
    html = signed_in("operator").get("/stock/?q=nothing-like-this").content.decode()
    assert 'data-testid="empty-state"' in html
    assert "No stock matches “nothing-like-this”. Try part of the SKU or another word." in html


def test_another_tenant_sees_an_empty_stock_table(tenant, site, other_tenant_user):
    stocked_products(tenant, site, 3)
    html = signed_in("other").get("/stock/").content.decode()
    assert skus_in(html) == [] and 'data-testid="empty-state"' in html


def test_the_stock_table_costs_the_same_queries_with_10_or_1000_products(tenant, operator, site):
    client = signed_in("operator")
    stocked_products(tenant, site, 10)
    client.get("/stock/")
    with CaptureQueriesContext(connection) as few:
        client.get("/stock/?sort=-available&page=1")
    stocked_products(tenant, site, 990, start=10)
    with CaptureQueriesContext(connection) as many:
        html = client.get("/stock/?sort=-available&page=2").content.decode()
    assert skus_in(html)[0] == "P-00974"
    assert f"26{DASH}50 of 1000" in html
    assert len(many) == len(few)


# -- the QC queue -----------------------------------------------------------------------------


def quarantined_products(tenant, site, count, start=0):
    stocked_products(tenant, site, count, start=start, status=QcStatus.QUARANTINE)


def lot_id(tenant, code):
    with tenant_context(tenant.id):
        return Lot.objects.get(code=code).pk


def test_a_decision_in_place_updates_the_waiting_count(tenant, inspector, site):
    quarantined_products(tenant, site, 3)
    client = signed_in("inspector")
    assert 'data-testid="queue-size" aria-live="polite">3 waiting<' in (
        client.get("/qc/").content.decode()
    )
    response = client.post(
        f"/qc/{lot_id(tenant, 'L-P-00000')}/decide/",
        {"decision": "approve", "note": ""},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="lot-1",
    )
    html = response.content.decode()
    assert response.status_code == 200
    # The row, decided, in its place; the badge swapped out of band.
    assert html.lstrip().startswith("<tr") and 'data-testid="decision">Approved<' in html
    assert re.search(r'<template>\s*<span id="queue-size"[^>]*hx-swap-oob="true">2 waiting<', html)
    assert "2 waiting" in client.get("/qc/").content.decode()


def test_a_refused_decision_keeps_the_count_and_says_why(tenant, inspector, site):
    quarantined_products(tenant, site, 2)
    response = signed_in("inspector").post(
        f"/qc/{lot_id(tenant, 'L-P-00000')}/decide/",
        {"decision": "reject", "note": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Say why the lot is rejected." in html
    assert re.search(r'hx-swap-oob="true">2 waiting<', html)


def test_the_qc_queue_pages_oldest_first(tenant, inspector, site):
    quarantined_products(tenant, site, 30)
    client = signed_in("inspector")
    first = client.get("/qc/").content.decode()
    assert first.count('data-testid="lot-L-P-') == 25
    assert "30 waiting" in first and f"1{DASH}25 of 30" in first
    second = client.get("/qc/?page=2", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="qc-queue")
    html = second.content.decode()
    assert html.lstrip().startswith('<div id="qc-queue"') and "<html" not in html
    assert re.findall(r'data-testid="lot-(L-P-\d+)"', html) == [
        f"L-P-{n:05}" for n in range(25, 30)
    ]
    assert client.get("/qc/?page=abc").status_code == 200


def test_the_qc_queue_costs_the_same_queries_with_10_or_1000_lots(tenant, inspector, site):
    client = signed_in("inspector")
    quarantined_products(tenant, site, 10)
    client.get("/qc/")
    with CaptureQueriesContext(connection) as few:
        client.get("/qc/")
    quarantined_products(tenant, site, 990, start=10)
    with CaptureQueriesContext(connection) as many:
        html = client.get("/qc/").content.decode()
    assert "1,000 waiting" in html
    assert len(many) == len(few)


def test_operators_get_no_qc_queue_nor_its_menu_entry(tenant, operator, site):
    client = signed_in("operator")
    assert client.get("/qc/").status_code == 403
    assert 'href="/qc/"' not in client.get("/").content.decode()


def test_another_tenant_sees_an_empty_qc_queue(tenant, site, other_tenant_user):
    quarantined_products(tenant, site, 3)
    html = signed_in("other").get("/qc/").content.decode()
    assert "0 waiting" in html and 'data-testid="queue-empty"' in html
    assert "L-P-00000" not in html


def test_a_double_clicked_approval_is_recorded_once_and_answered_twice(tenant, inspector, site):
    from inventory.models import QcDecision

    quarantined_products(tenant, site, 1)
    client = signed_in("inspector")
    page = client.get("/qc/").content.decode()
    key = re.search(r'name="idempotency_key" value="(form:[0-9a-f-]+)"', page)[1]
    url = f"/qc/{lot_id(tenant, 'L-P-00000')}/decide/"
    data = {"decision": "approve", "note": "", "idempotency_key": key}
    first = client.post(url, data, HTTP_HX_REQUEST="true")
    second = client.post(url, data, HTTP_HX_REQUEST="true")
    assert first.status_code == second.status_code == 200
    assert 'data-testid="decision">Approved<' in second.content.decode()
    assert "Not recorded" not in second.content.decode()
    with tenant_context(tenant.id):
        assert QcDecision.objects.count() == 1
    # The same key for another decision is refused, and changes nothing.
    refused = client.post(url, {**data, "decision": "reject", "note": "Mould"})
    assert refused.status_code == 302
    with tenant_context(tenant.id):
        assert QcDecision.objects.count() == 1
        assert Lot.objects.get(code="L-P-00000").qc_status == QcStatus.APPROVED


def test_every_decision_form_carries_its_own_key(tenant, inspector, site):
    quarantined_products(tenant, site, 3)
    page = signed_in("inspector").get("/qc/").content.decode()
    keys = re.findall(r'name="idempotency_key" value="(form:[0-9a-f-]+)"', page)
    assert len(keys) == len(set(keys)) == 3


# -- warehouses, bins and the team --------------------------------------------------------------


def many_bins(tenant, warehouse, count, start=0):
    from warehouse.models import Location

    with tenant_context(tenant.id):
        Location.objects.bulk_create(
            Location(tenant=tenant, warehouse=warehouse, code=f"Z-{start + n:04}", pick_sequence=n)
            for n in range(count)
        )


def bin_codes(html: str) -> list[str]:
    return re.findall(r'data-testid="bin-([A-Z0-9-]+)"', html)


def test_bins_are_filtered_by_warehouse_and_code_and_paged(tenant, operator, site, acme_site):
    many_bins(tenant, site, 30)
    client = signed_in("operator")
    html = client.get("/warehouses/", {"warehouse": site.pk, "code": "z-00"}).content.decode()
    assert bin_codes(html) == [f"Z-{n:04}" for n in range(25)]
    assert 'data-testid="warehouse-DC1"' in html and 'data-testid="warehouse-ACME-DC"' in html
    response = client.get(
        "/warehouses/",
        {"warehouse": site.pk, "code": "z-00", "bin-page": 2},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="bins-table",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="bins-table"')
    assert bin_codes(html) == [f"Z-{n:04}" for n in range(25, 30)]
    html = client.get("/warehouses/", {"warehouse": acme_site.pk}).content.decode()
    assert bin_codes(html) == ["ACME-01", "ACME-02"]


def test_bins_sort_by_code_in_the_database(tenant, operator, site):
    many_bins(tenant, site, 30)
    html = signed_in("operator").get("/warehouses/?bin-sort=-code").content.decode()
    assert bin_codes(html)[:2] == ["Z-0029", "Z-0028"]


def test_a_foreign_warehouse_in_the_bin_filter_is_refused(
    tenant, other_tenant, operator, site, globex_site
):
    response = signed_in("operator").get("/warehouses/", {"warehouse": globex_site.pk})
    assert response.status_code == 422
    html = response.content.decode()
    assert "That warehouse is not one of yours." in html and bin_codes(html) == []
    assert "GLOBEX" not in html


def test_the_warehouse_page_costs_the_same_queries_with_10_or_1000_bins(tenant, operator, site):
    client = signed_in("operator")
    many_bins(tenant, site, 10)
    client.get("/warehouses/")
    with CaptureQueriesContext(connection) as few:
        client.get("/warehouses/")
    many_bins(tenant, site, 990, start=10)
    with CaptureQueriesContext(connection) as many:
        html = client.get("/warehouses/").content.decode()
    assert re.search(r'data-testid="warehouse-DC1".*?>1,003<', html, re.S)
    assert len(many) == len(few)


def test_the_team_table_sorts_and_leaves_out_other_tenants(
    tenant, manager, operator, inspector, other_tenant_user
):
    client = signed_in("manager")
    html = client.get("/team/?sort=-username").content.decode()
    names = re.findall(r'<td class="sy-code">([a-z]+)</td>', html)
    assert names == ["operator", "manager", "inspector"]
    fragment = client.get("/team/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="team-table")
    assert fragment.content.decode().lstrip().startswith('<div id="team-table"')
    assert signed_in("operator").get("/team/").status_code == 403

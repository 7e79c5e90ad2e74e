"""The report screens: each report's figures, its table and its CSV, for managers only.

The data set is ``build_reports_data`` (``test_reports_selectors``), all of it
before today: the screens report as of the real today, so the figures are
checked against the selectors called with the same filters, and against
numbers worked out by hand where the window covers every shipment.
"""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import reports
from analytics.models import ReorderRule
from analytics.reports.turnover import ORDER_KEYS
from analytics.web.report_specs import REPORTS
from analytics.web.report_tables import ReportTable
from inventory.catalog.services import create_product
from inventory.models import LedgerEntry, Product
from tests.analytics.conftest import DW_DATABASES
from tests.analytics.test_reports_selectors import build_reports_data, take_the_snapshots
from tests.clients import htmx, signed_in
from tests.conftest import make_member
from tests.test_home_and_lists import stocked_products
from warehouse.models import Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db

# Every screen with filters that show the data set (the whole ledger for windows).
SCREENS = {
    "abc": {"days": "3660"},
    "aging": {},
    "turnover": {"days": "3660"},
    "demand": {"days": "731"},
    "history": {"sku": "ALPHA", "since": "2026-02-09", "until": "2026-03-01"},
    "valuation": {"as_of": "2026-02-28"},
    "stock-outs": {"days": "731"},
    "low-stock": {},
}

# The stock-outs screen reads the daily snapshots and the current-stock view, which the
# jobs' connection writes from committed data only: its tests commit theirs.
SNAPSHOTTED = pytest.mark.django_db(transaction=True, databases=DW_DATABASES)


def screens(*extra) -> list:
    """Each screen's name and filters, the stock-outs screen's with its data committed."""
    return [
        pytest.param(name, query, marks=SNAPSHOTTED) if name == "stock-outs" else (name, query)
        for name, query in [*SCREENS.items(), *extra]
    ]


@pytest.fixture
def data(request, tenant, site):
    """The data set and ALPHA's rule; in a committing test, the snapshots of its March days."""
    found = build_reports_data(tenant, site)
    with tenant_context(tenant.pk):
        ReorderRule.objects.create(
            tenant=tenant,
            product=found["products"]["ALPHA"],
            warehouse=site,
            reorder_point=100,
            reorder_quantity=200,
        )
    if request.node.get_closest_marker("django_db").kwargs.get("transaction"):
        request.getfixturevalue("clean_dw")
        take_the_snapshots()
    return found


@pytest.fixture
def boss(manager):
    return signed_in("manager")


def url(name: str, csv_export: bool = False) -> str:
    return f"/reports/{name}.csv" if csv_export else f"/reports/{name}/"


def csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(content.decode())))


# -- every screen --------------------------------------------------------------------------


def test_every_report_has_a_screen_and_a_csv_at_its_fixed_address():
    assert [spec.name for spec in REPORTS] == list(SCREENS)


@pytest.mark.parametrize(("name", "query"), screens())
def test_each_screen_answers_the_page_and_its_regions(boss, data, name, query):
    page = boss.get(url(name), query)
    assert page.status_code == 200, page.content.decode()[:2000]
    html = page.content.decode()
    assert "<h1>" in html and 'id="report-results"' in html and 'id="report-table"' in html
    assert 'href="/reports/"' in html  # back to the dashboard
    assert html.count('data-testid="report-switcher"') == 1
    for spec in REPORTS:
        assert f'href="/reports/{spec.name}/"' in html
    for region in ("report-results", "report-table"):
        fragment = boss.get(url(name), query, **htmx(region))
        assert fragment.status_code == 200
        text = fragment.content.decode()
        assert text.lstrip().startswith(f'<div id="{region}"')
        assert "<h1>" not in text and 'data-testid="report-table"' in text


def test_abc_screen_shows_the_classes_the_cards_and_the_pareto_chart(boss, data):
    html = boss.get(url("abc"), {"days": "3660"}).content.decode()
    # Every shipment: ALPHA 90 (A), BRAVO 15 (B), CHARLIE 5 (C); total 110.00.
    assert 'data-testid="card-total-value"' in html and "110.00" in html
    for sku, value, share in (("ALPHA", "90.00", "81.8"), ("BRAVO", "15.00", "13.6")):
        assert f'<td class="sy-code">{sku}</td>' in html
        assert value in html and share in html
    assert html.count('data-testid="abc-class"><span class="badge text-bg-success">A') == 1
    assert 'data-chart="chart-pareto-data"' in html
    assert '<script id="chart-pareto-data" type="application/json">' in html
    assert '"labels": ["ALPHA", "BRAVO", "CHARLIE"]' in html
    assert "All 3 products that shipped" in html
    assert "<script>" not in html and "style=" not in html and " onclick" not in html


def test_valuation_and_aging_cards_read_first(boss, data):
    html = boss.get(url("valuation"), {"as_of": "2026-02-28"}).content.decode()
    # As in the selector test: DC1 105.00, DC2 4.00, total 109.00.
    assert "109.00" in html and "105.00" in html and 'data-testid="card-value-DC2"' in html
    aging = reports.aging(tenant=data["dc1"].tenant)
    html = boss.get(url("aging")).content.decode()
    old = next(b.value for b in aging.by_age if b.bucket == "over 180")
    expired = next(b.value for b in aging.by_expiry if b.bucket == "expired")
    assert 'data-testid="card-value-old"' in html and f"{old:,.2f}" in html
    assert 'data-testid="card-value-expired"' in html and f"{expired:,.2f}" in html
    assert 'id="chart-age-data"' in html and 'id="chart-expiry-data"' in html


def test_history_and_demand_show_the_product_in_its_unit(boss, data):
    html = boss.get(url("history"), SCREENS["history"]).content.decode()
    # 90 until 40 leave on 02-10; 50 of A2 arrive on 03-01 (as in the selector test).
    # Counted in units (ea): no decimals.
    assert '>90 <span class="sy-unit">ea</span>' in html
    assert '>100 <span class="sy-unit">ea</span>' in html
    assert '"kind": "line"' in html
    demand = boss.get(url("demand"), {"days": "731", "sku": "alpha"}).content.decode()
    assert '"kind": "demand"' in demand and 'data-testid="card-total-shipped"' in demand


def test_history_opened_without_a_sku_asks_for_one(boss, data):
    response = boss.get(url("history"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="report-prompt"' in html and "Type a product" in html
    assert 'id="report-table"' not in html


def test_an_empty_report_says_what_to_do(boss, tenant, site):
    create_product(tenant=tenant, sku="IDLE", name="Idle")
    html = boss.get(url("abc"), {"days": "7"}).content.decode()
    assert 'data-testid="report-empty"' in html
    assert "Nothing shipped in the last 7 days. Widen the window." in html
    assert 'data-chart="' not in html
    # A report with no rows says so once, where the rows would be.
    html = boss.get(url("stock-outs"), {"days": "7"}).content.decode()
    assert html.count("No product ran out in the last 7 days. Nothing to chase.") == 1
    assert 'data-testid="empty-state"' in html and 'data-testid="report-empty"' not in html


def _markup(html: str) -> str:
    """The page without the whitespace between tags and the per-request tokens."""
    html = re.sub(r">\s+<", "><", html)
    html = re.sub(r"\s+", " ", html)
    return re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": "|nonce=")[^"]+', r"\1", html)


@pytest.mark.parametrize(
    ("name", "query"),
    screens(("abc", {"days": "3660", "sort": "-share", "page": "1"})),
)
def test_the_tables_rows_are_the_markup_the_table_template_writes(
    boss, data, name, query, monkeypatch
):
    """The rows written in Python (``ReportTable.body_html``) are django-tables2's own."""
    written = boss.get(url(name), query).content.decode()
    for table_class in ReportTable.__subclasses__():
        assert table_class._meta.template_name == "analytics/reports/table.html"
        monkeypatch.setattr(table_class._meta, "template_name", "tables/table.html")
    templated = boss.get(url(name), query).content.decode()
    assert written.count("<tr") == templated.count("<tr") > 1
    assert _markup(written) == _markup(templated)


def test_an_empty_table_keeps_its_empty_state(boss, tenant, site, monkeypatch):
    html = boss.get(url("stock-outs"), {"days": "7"}).content.decode()
    assert 'data-testid="empty-state"' in html
    for table_class in ReportTable.__subclasses__():
        monkeypatch.setattr(table_class._meta, "template_name", "tables/table.html")
    assert _markup(boss.get(url("stock-outs"), {"days": "7"}).content.decode()) == _markup(html)


# -- sorting and paging --------------------------------------------------------------------


def test_the_table_sorts_and_pages_the_whole_list(boss, tenant, site):
    stocked_products(tenant, site, 30)
    first = boss.get(url("turnover"), {"sort": "-on_hand"}, **htmx("report-table"))
    text = first.content.decode()
    assert text.index("P-00029") < text.index("P-00028")
    assert "P-00004" not in text  # 30 rows, 25 a page: the smallest five are on page 2
    second = boss.get(url("turnover"), {"sort": "-on_hand", "page": "2"}, **htmx("report-table"))
    assert "P-00004" in second.content.decode() and "P-00029" not in second.content.decode()
    # Units of the page's products: kilograms.
    assert '30.000 <span class="sy-unit">kg</span>' in text


@pytest.mark.parametrize(
    "query",
    [
        {"page": "abc"},
        {"page": "99999999999"},
        {"page": "-1"},
        {"sort": "evil"},
        {"sort": "-__class__"},
    ],
)
def test_bad_page_or_sort_is_a_plain_page(boss, data, query):
    response = boss.get(url("abc"), {"days": "3660", **query})
    assert response.status_code == 200
    assert "ALPHA" in response.content.decode()


# -- CSV -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "query"), screens())
def test_csv_has_a_header_and_every_row_of_the_selector(boss, data, tenant, name, query):
    response = boss.get(url(name, csv_export=True), query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    spec = next(spec for spec in REPORTS if spec.name == name)
    rows = csv_rows(response)
    assert rows[0] == [header for header, _ in spec.csv_columns]
    filters = dict(query)
    if "days" in filters:
        filters["days"] = int(filters["days"])
    for key in ("since", "until", "as_of"):
        if key in filters:
            filters[key] = timezone.datetime.fromisoformat(filters[key]).date()
    expected = spec.rows(spec.read(tenant=tenant, **filters))
    assert len(rows) - 1 == len(expected) > 0


def test_abc_csv_is_plain_decimals_named_for_its_filters(boss, data):
    response = boss.get(url("abc", csv_export=True), {"days": "90"})
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="abc-90-days-{today}.csv"'
    response = boss.get(url("abc", csv_export=True), {"days": "3660", "sort": "sku"})
    rows = csv_rows(response)
    assert rows[1] == ["ALPHA", "Alpha", "90.00", "0.8182", "0.8182", "A"]
    assert [row[0] for row in rows[1:]] == ["ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO"]
    # The order shown: by value, lowest first.
    response = boss.get(url("abc", csv_export=True), {"days": "3660", "sort": "consumption_value"})
    assert [row[2] for row in csv_rows(response)[1:4]] == ["0.00", "0.00", "5.00"]


def test_csv_neutralises_formulas_in_text_and_keeps_negative_numbers(boss, tenant, site):
    create_product(tenant=tenant, sku="=CMD", name="=HYPERLINK(1)")
    create_product(tenant=tenant, sku="SAFE", name="@SUM(A1)")
    rows = csv_rows(boss.get(url("abc", csv_export=True), {"days": "30", "sort": "sku"}))
    assert rows[1][:2] == ["'=CMD", "'=HYPERLINK(1)"]
    assert rows[2][:2] == ["SAFE", "'@SUM(A1)"]
    assert rows[1][2] == "0.00"


def test_history_csv_file_name_names_the_product_and_days(boss, data):
    response = boss.get(url("history", csv_export=True), SCREENS["history"])
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="stock-history-ALPHA-since-2026-02-09-until-2026-03-01-{today}.csv"'
    )
    rows = csv_rows(response)
    # The screen's order, newest day first.
    assert (rows[1], rows[-1], len(rows)) == (
        ["2026-03-01", "100.000"],
        ["2026-02-09", "90.000"],
        22,
    )


# -- who may look --------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCREENS)
def test_operators_and_inspectors_are_refused_managers_and_admins_let_in(
    tenant, data, operator, inspector, manager, name
):
    make_member(tenant, "admin", Role.ADMIN)
    for username, status in (
        ("operator", 403),
        ("inspector", 403),
        ("manager", 200),
        ("admin", 200),
    ):
        client = signed_in(username)
        assert client.get(url(name), SCREENS[name]).status_code == status, username
        assert client.get(url(name, csv_export=True), SCREENS[name]).status_code == status


def test_the_report_switcher_and_controls_are_absent_for_an_operator(operator):
    response = signed_in("operator").get(url("abc"))
    html = response.content.decode()
    assert response.status_code == 403
    assert 'data-testid="report-switcher"' not in html and "report-csv" not in html


def test_another_tenants_manager_sees_none_of_the_figures(data, other_tenant_user):
    globex = signed_in("other")
    abc = globex.get(url("abc"), {"days": "3660"})
    assert abc.status_code == 200
    assert "ALPHA" not in abc.content.decode() and "110.00" not in abc.content.decode()
    valuation = globex.get(url("valuation")).content.decode()
    assert "DC1" not in valuation and "144.00" not in valuation
    assert 'data-testid="card-total-value"' in valuation
    rows = csv_rows(globex.get(url("turnover", csv_export=True), {"days": "3660"}))
    assert rows[1:] == []
    # Acme's SKU and warehouse do not exist for Globex: said next to the field.
    history = globex.get(url("history"), {"sku": "ALPHA"})
    assert history.status_code == 422
    assert "No product with SKU &#x27;ALPHA&#x27;." in history.content.decode()
    assert 'data-testid="error-sku"' in history.content.decode()
    in_dc1 = globex.get(url("abc"), {"warehouse": "DC1"})
    assert in_dc1.status_code == 422 and 'data-testid="error-warehouse"' in in_dc1.content.decode()


# -- refused filters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "query", "field", "message"),
    [
        ("abc", {"days": "0"}, "days", "from 1 to 3,660"),
        ("abc", {"days": "99999"}, "days", "from 1 to 3,660"),
        ("turnover", {"days": "ten"}, "days", "whole number of days"),
        ("demand", {"days": "732"}, "days", "from 1 to 731"),
        ("stock-outs", {"days": "-5"}, "days", "from 1 to 731"),
        ("demand", {"sku": "X" * 65}, "sku", "at most 64 characters"),
        ("demand", {"sku": "NOPE"}, "sku", "No product with SKU"),
        ("history", {"sku": ""}, "sku", "Type the SKU"),
        (
            "history",
            {"sku": "ALPHA", "since": "2026-03-02", "until": "2026-03-01"},
            "since",
            "Swap",
        ),
        ("history", {"sku": "ALPHA", "until": "yesterday"}, "until", "YYYY-MM-DD"),
        ("valuation", {"as_of": "garbage"}, "as_of", "YYYY-MM-DD"),
        ("valuation", {"as_of": "0001-01-01"}, "as_of", "year 2000"),
        ("aging", {"warehouse": "NOWHERE"}, "warehouse", "No warehouse with that code"),
    ],
)
def test_a_bad_filter_is_refused_next_to_its_field_with_no_table(
    boss, data, name, query, field, message
):
    ledger = LedgerEntry.objects.count
    with tenant_context(data["dc1"].tenant_id):
        before = ledger()
    for headers in ({}, htmx("report-results"), htmx("report-table")):
        response = boss.get(url(name), query, **headers)
        html = response.content.decode()
        assert response.status_code == 422
        assert f'data-testid="error-{field}"' in html and message in html
        assert 'id="report-table"' not in html and "report-csv" not in html
    # A refusal aimed at the table is swapped where the filter is.
    assert response["HX-Retarget"] == "#report-results"
    assert boss.get(url(name, csv_export=True), query).status_code == 422
    with tenant_context(data["dc1"].tenant_id):
        assert ledger() == before


# -- cost ----------------------------------------------------------------------------------


def queries_of(client, name: str, query: dict) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(name), query)
    assert response.status_code == 200
    return len(queries)


def with_rules(tenant, site):
    """A rule for every product without one, each below its reorder point."""
    with tenant_context(tenant.pk):
        ruled = ReorderRule.objects.values("product_id")
        ReorderRule.objects.bulk_create(
            ReorderRule(
                tenant=tenant,
                product=product,
                warehouse=site,
                reorder_point=1000,
                reorder_quantity=1,
            )
            for product in Product.objects.exclude(pk__in=ruled)
        )


def test_no_screen_costs_more_queries_for_more_rows(boss, tenant, site):
    queries = {"history": {"sku": "P-00000"}}
    stocked_products(tenant, site, 10)
    with_rules(tenant, site)
    boss.get(url("abc"))  # the session's first request notes the tenant it works in
    few = {name: queries_of(boss, name, queries.get(name, {})) for name in SCREENS}
    stocked_products(tenant, site, 190, start=10)
    with_rules(tenant, site)
    many = {name: queries_of(boss, name, queries.get(name, {})) for name in SCREENS}
    assert many == few
    assert "P-00199" in boss.get(url("low-stock"), {"sort": "-sku"}).content.decode()


@SNAPSHOTTED
def test_turnover_stock_outs_low_stock_and_demand_show_the_selectors_numbers(boss, data, tenant):
    turnover = {row.sku: row for row in reports.turnover(tenant=tenant, days=3660)}
    html = boss.get(url("turnover"), {"days": "3660"}).content.decode()
    alpha = turnover["ALPHA"]
    assert f"{alpha.turnover:,.2f}</td>" in html and f"{alpha.days_of_supply:,.1f}</td>" in html
    assert f'>{alpha.shipped:,.0f} <span class="sy-unit">ea</span>' in html
    outs = boss.get(url("stock-outs"), {"days": "731"}).content.decode()
    stock_outs = reports.stock_outs(tenant=tenant, days=731)
    assert [row.sku for row in stock_outs] == ["DELTA", "CHARLIE", "ALPHA"]
    for row in stock_outs:
        assert f'<td class="sy-code">{row.sku}</td>' in outs
        assert f'<td class="sy-num">{row.days_at_zero}</td>' in outs
    # ALPHA's rule in DC1 (a reorder point of 100), short by what is not available, in ea.
    low = boss.get(url("low-stock")).content.decode()
    (rule,) = reports.low_stock(tenant=tenant)
    assert f'<td class="sy-num">{rule.shortfall:,.0f} <span class="sy-unit">ea</span>' in low
    assert 'data-testid="card-below"' in low
    shipped = sum(row.shipped for row in reports.demand(tenant=tenant, days=731))
    demand = boss.get(url("demand"), {"days": "731"}).content.decode()
    assert f"{shipped:,.3f}" in demand and 'id="chart-demand-data"' in demand


@SNAPSHOTTED
def test_a_warehouse_code_in_any_letter_case_is_the_warehouse(boss, data):
    html = boss.get(url("abc"), {"days": "3660", "warehouse": "dc1"}).content.decode()
    assert '<option value="DC1" selected>' in html and "90.00" in html
    rows = csv_rows(boss.get(url("stock-outs", csv_export=True), {"days": "731"}))
    assert {row[4] for row in rows[1:]} == {"yes"}
    # In DC2: B2 expired on 03-01 (BRAVO) and D1 waits for QC (DELTA).
    rows = csv_rows(
        boss.get(url("stock-outs", csv_export=True), {"days": "731", "warehouse": "dc2"})
    )
    assert [row[0] for row in rows[1:]] == ["BRAVO", "DELTA"]


def test_text_from_the_catalog_is_escaped_in_the_rows_and_the_chart(boss, data, tenant):
    """A product name holding markup is shown as text, in the table and in the chart's data."""
    create_product(tenant=tenant, sku="MARKUP-1", name='<img src=x onerror="alert(1)">')
    html = boss.get(url("abc"), {"days": "3660", "sort": "sku"}).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


# -- a page sorted and cut by the database (turnover) ---------------------------------------


def _python_sorted(rows: list, alias: str) -> list:
    """``rows`` sorted as the table sorts a list (``ReportRows``): no value last, ties kept."""
    name, descending = alias.removeprefix("-"), alias.startswith("-")
    present = [row for row in rows if getattr(row, name) is not None]
    absent = [row for row in rows if getattr(row, name) is None]
    return sorted(present, key=lambda row: getattr(row, name), reverse=descending) + absent


def test_the_database_sorts_and_cuts_the_turnover_pages_as_the_table_sorts_a_list(
    tenant, site, data
):
    stocked_products(tenant, site, 12)
    every = reports.turnover(tenant=tenant, days=3660)
    # Ties, and missing values (days of supply of products that never shipped).
    assert any(row.days_of_supply is None for row in every)
    assert any(row.days_of_supply for row in every)
    for name in ORDER_KEYS:
        for alias in (name, f"-{name}"):
            expected = _python_sorted(every, alias)
            for offset in (0, 5, 15):
                page = reports.turnover_page(
                    tenant=tenant, days=3660, order=[alias], limit=5, offset=offset
                )
                assert page.rows == expected[offset : offset + 5], (alias, offset)
                assert page.count == len(every)
    page = reports.turnover_page(tenant=tenant, days=3660, limit=5)
    assert page.idle == sum(1 for row in every if not row.shipped)
    assert page.slow == sum(1 for row in every if row.turnover is not None and row.turnover < 1)
    # No order: the report's (by SKU). Past the end: no rows, the count still there.
    assert reports.turnover_page(tenant=tenant, days=3660, limit=100).rows == every
    past = reports.turnover_page(tenant=tenant, days=3660, limit=5, offset=500)
    assert (past.rows, past.count) == ([], len(every))


@pytest.mark.parametrize("page", ["99", "0", "999999", "-1", "99999999999999", " 2"])
def test_a_turnover_page_past_the_last_shows_the_last(boss, tenant, site, page):
    stocked_products(tenant, site, 30)
    html = boss.get(url("turnover"), {"sort": "-on_hand", "page": page}).content.decode()
    # 30 products, 25 a page: the last page holds the five smallest.
    assert all(f"P-{number:05d}" in html for number in range(5))
    assert "P-00005" not in html and "P-00029" not in html

"""The reorder rule screens: list, add, edit, toggle and delete, by role and by tenant."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.models import ReorderRule
from inventory.catalog.services import create_product
from inventory.stock.receipts import receive_stock
from tests.conftest import PASSWORD, bin_of, make_member, make_site
from warehouse.models import Role
from warehouse.tenancy import tenant_context

URL = "/reports/reorder-rules/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx(target: str) -> dict:
    return {**HTMX, "HTTP_HX_TARGET": target}


@pytest.fixture
def boss(client, manager):
    assert client.login(username="manager", password=PASSWORD)
    return client


@pytest.fixture
def main(tenant):
    return make_site(tenant, "MAIN")


def rules_of(tenant) -> list[tuple]:
    with tenant_context(tenant.id):
        return list(
            ReorderRule.objects.order_by("id").values_list(
                "product__sku", "warehouse__code", "reorder_point", "reorder_quantity", "enabled"
            )
        )


def make_rule(tenant, product, warehouse, point="10", quantity="50", enabled=True):
    with tenant_context(tenant.id):
        return ReorderRule.objects.create(
            tenant=tenant,
            product=product,
            warehouse=warehouse,
            reorder_point=Decimal(point),
            reorder_quantity=Decimal(quantity),
            enabled=enabled,
        )


def new_rule(site, **fields) -> dict:
    data = {
        "idempotency_key": f"form:{fields.pop('key', 'one')}",
        "sku": "FLOUR-25",
        "warehouse": str(site.pk),
        "reorder_point": "10",
        "reorder_quantity": "50",
        "enabled": "on",
    }
    data.update(fields)
    return data


def error_text(html: str, field: str) -> str:
    match = re.search(rf'data-testid="error-{field}">(.*?)</div>', html, re.S)
    assert match, f"no error on {field}"
    return match.group(1)


# -- the list -----------------------------------------------------------------------------


def test_the_full_page_lists_rules_with_their_units(boss, tenant, main, flour, vaccine):
    make_rule(tenant, flour, main, point="12.5", quantity="100")
    make_rule(tenant, vaccine, main, point="3", quantity="20", enabled=False)
    response = boss.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Reorder rules</h1>" in html and 'id="rule-form"' in html
    flour_row = re.search(r'data-testid="rule-FLOUR-25-MAIN".*?</tr>', html, re.S).group(0)
    assert "Wheat flour 25 kg" in flour_row
    assert '12.500 <span class="sy-unit">kg</span>' in flour_row
    assert '100.000 <span class="sy-unit">kg</span>' in flour_row
    vaccine_row = re.search(r'data-testid="rule-VAX-10-MAIN".*?</tr>', html, re.S).group(0)
    assert '3 <span class="sy-unit">ea</span>' in vaccine_row
    assert ">Off</button>" in vaccine_row


def test_available_now_counts_approved_stock_and_marks_what_is_below_the_point(
    boss, tenant, main, flour, vaccine
):
    make_rule(tenant, flour, main, point="10")
    make_rule(tenant, vaccine, main, point="0")
    main_bin = bin_of(tenant, main, "A-01")
    receive_stock(
        tenant=tenant, product=flour, warehouse=main, location=main_bin, lot_code="F1", quantity=7
    )
    # Waiting for QC: on hand, not available.
    receive_stock(
        tenant=tenant,
        product=vaccine,
        warehouse=main,
        location=main_bin,
        lot_code="V1",
        quantity=40,
    )
    html = boss.get(URL, {"sort": "available"}, **htmx("rules-table")).content.decode()
    cells = re.findall(r'<td class="([^"]*)" data-testid="available">(.*?)</td>', html, re.S)
    # Sorted by what is available: VAX-10 0 first, then FLOUR-25 7 kg, below its point of 10.
    assert cells == [
        ("sy-num", '0 <span class="sy-unit">ea</span>'),
        ("fw-semibold sy-num text-danger", '7.000 <span class="sy-unit">kg</span>'),
    ]


def test_the_fragment_is_the_table_alone(boss, tenant, main, flour):
    make_rule(tenant, flour, main)
    response = boss.get(URL, **htmx("rules-table"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="rules-table"')
    assert "<h1>" not in html and "rule-FLOUR-25-MAIN" in html


def test_sorting_paging_and_filters(boss, tenant, main):
    other = make_site(tenant, "SIDE")
    for number in range(30):
        product = create_product(tenant=tenant, sku=f"SKU-{number:02d}", name=f"P{number}")
        make_rule(tenant, product, main if number % 2 else other, point=str(number))
    html = boss.get(URL, {"sort": "-reorder_point"}, **htmx("rules-table")).content.decode()
    skus = re.findall(r'data-testid="rule-(SKU-\d\d)-', html)
    assert skus[:3] == ["SKU-29", "SKU-28", "SKU-27"] and len(skus) == 25
    html = boss.get(URL, {"sort": "sku", "page": "2"}, **htmx("rules-table")).content.decode()
    assert re.findall(r'data-testid="rule-(SKU-\d\d)-', html) == [f"SKU-{n}" for n in range(25, 30)]
    html = boss.get(URL, {"sku": "sku-1"}).content.decode()
    assert re.findall(r'data-testid="rule-(SKU-\d\d)-', html) == [f"SKU-1{n}" for n in range(10)]
    html = boss.get(URL, {"warehouse": str(other.pk), "sku": "SKU-0"}).content.decode()
    assert re.findall(r'data-testid="rule-(SKU-\d\d)-', html) == [
        "SKU-00",
        "SKU-02",
        "SKU-04",
        "SKU-06",
        "SKU-08",
    ]
    html = boss.get(URL, {"sku": "NOPE"}).content.decode()
    assert "No rules match these filters." in html
    # Bounded before they cost anything: absurd pages, sorts and prefixes.
    for query in ({"page": "9" * 30}, {"sort": "x" * 500}, {"sku": "S" * 500}, {"enabled": "?"}):
        assert boss.get(URL, query).status_code == 200


def test_enabled_filter(boss, tenant, main, flour, vaccine):
    make_rule(tenant, flour, main)
    make_rule(tenant, vaccine, main, enabled=False)
    html = boss.get(URL, {"enabled": "no"}).content.decode()
    assert "rule-VAX-10-MAIN" in html and "rule-FLOUR-25-MAIN" not in html


def list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, **htmx("rules-table")).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_rules(boss, tenant, main):
    def add(numbers):
        for number in numbers:
            product = create_product(tenant=tenant, sku=f"Q-{number:03d}", name=f"Q {number}")
            make_rule(tenant, product, main)

    add(range(3))
    boss.get(URL)  # the first visit saves the session
    few = list_queries(boss)
    add(range(3, 60))
    assert list_queries(boss) == few


# -- adding -----------------------------------------------------------------------------


def test_adding_in_place_shows_the_rule_in_the_table(boss, tenant, main, flour):
    response = boss.post(URL, new_rule(main), **htmx("rule-form"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Reorder rule for FLOUR-25 in MAIN added." in html
    assert 'hx-swap-oob="true"' in html and "rule-FLOUR-25-MAIN" in html
    assert rules_of(tenant) == [("FLOUR-25", "MAIN", Decimal("10.000"), Decimal("50.000"), True)]


def test_adding_with_a_plain_post_redirects_with_a_message(boss, tenant, main, flour):
    response = boss.post(URL, new_rule(main, enabled=""), follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "Reorder rule for FLOUR-25 in MAIN added." in response.content.decode()
    assert rules_of(tenant) == [("FLOUR-25", "MAIN", Decimal("10.000"), Decimal("50.000"), False)]


def test_a_double_submit_adds_one_rule(boss, tenant, main, flour):
    first = boss.post(URL, new_rule(main), **htmx("rule-form"))
    second = boss.post(URL, new_rule(main), **htmx("rule-form"))
    assert first.status_code == second.status_code == 200
    assert "nothing was changed twice" in second.content.decode()
    assert len(rules_of(tenant)) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"sku": "NOPE-1"}, "sku", "No product with SKU or GTIN NOPE-1"),
        ({"sku": "X" * 65}, "sku", "A SKU has at most 64 characters."),
        ({"warehouse": "999999"}, "warehouse", "Choose one of the warehouses in the list."),
        ({"reorder_point": "-1"}, "reorder_point", "The reorder point must not be negative."),
        ({"reorder_quantity": "0"}, "reorder_quantity", "The reorder quantity must not be zero."),
        ({"reorder_quantity": "-5"}, "reorder_quantity", "must not be negative"),
        ({"reorder_point": "12345678901"}, "reorder_point", "must not exceed 1,000,000,000"),
        ({"reorder_quantity": "1.0001"}, "reorder_quantity", "at most 3 decimal places"),
        ({"reorder_quantity": "1" * 40}, "reorder_quantity", "at most 32 characters"),
        ({"reorder_point": "ten"}, "reorder_point", "Enter a number such as 12.5"),
    ],
)
def test_refusals_are_shown_next_to_the_field_with_422(
    boss, tenant, main, flour, fields, field, message
):
    response = boss.post(URL, new_rule(main, **fields), **htmx("rule-form"))
    assert response.status_code == 422
    assert message in error_text(response.content.decode(), field)
    assert rules_of(tenant) == []


def test_a_duplicate_rule_is_refused_and_offers_to_edit_it(boss, tenant, main, flour):
    existing = make_rule(tenant, flour, main)
    response = boss.post(URL, new_rule(main, reorder_point="99"), **htmx("rule-form"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "A rule for FLOUR-25 in MAIN exists: edit it." in error_text(html, "sku")
    assert f'href="/reports/reorder-rules/{existing.pk}/edit/"' in html
    assert rules_of(tenant) == [("FLOUR-25", "MAIN", Decimal("10.000"), Decimal("50.000"), True)]
    # A plain post gets the whole page with the same refusal.
    response = boss.post(URL, new_rule(main, key="two"))
    assert response.status_code == 422
    assert "<h1>Reorder rules</h1>" in response.content.decode()


def test_a_whole_unit_refuses_decimals(boss, tenant, main, vaccine):
    response = boss.post(
        URL, new_rule(main, sku="VAX-10", reorder_point="2.5"), **htmx("rule-form")
    )
    assert response.status_code == 422
    assert "must be a whole number" in error_text(response.content.decode(), "reorder_point")


# -- editing, the toggle, deleting ----------------------------------------------------------


def test_editing_in_place_and_by_plain_post(boss, tenant, main, flour):
    rule = make_rule(tenant, flour, main)
    url = f"/reports/reorder-rules/{rule.pk}/edit/"
    assert boss.get(url).status_code == 200
    data = {"idempotency_key": "form:e1", "reorder_point": "20", "reorder_quantity": "80"}
    response = boss.post(url, data, **htmx("edit-form"))
    assert response.status_code == 200 and response["HX-Redirect"] == URL
    assert rules_of(tenant) == [("FLOUR-25", "MAIN", Decimal("20.000"), Decimal("80.000"), False)]
    data = {**data, "idempotency_key": "form:e2", "reorder_point": "5", "enabled": "on"}
    response = boss.post(url, data, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "Reorder rule for FLOUR-25 in MAIN: reorder 80 kg below 5 kg." in (
        response.content.decode()
    )
    response = boss.post(
        url, {**data, "idempotency_key": "form:e3", "reorder_quantity": "0"}, **htmx("edit-form")
    )
    assert response.status_code == 422
    assert "must not be zero" in error_text(response.content.decode(), "reorder_quantity")
    assert rules_of(tenant)[0][2:] == (Decimal("5.000"), Decimal("80.000"), True)


def test_the_toggle_answers_with_the_table_as_it_was(boss, tenant, main, flour):
    rule = make_rule(tenant, flour, main)
    url = f"/reports/reorder-rules/{rule.pk}/toggle/?sort=warehouse"
    response = boss.post(url, {"idempotency_key": "form:t1", "enabled": "0"}, **htmx("rules-table"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="rules-table"') and ">On</button>" not in html
    assert "toggle/?sort=warehouse" in html  # the next toggle keeps the sort
    assert rules_of(tenant)[0][4] is False
    response = boss.post(url, {"idempotency_key": "form:t2", "enabled": "1"})
    assert response.status_code == 302 and response["Location"] == URL + "?sort=warehouse"
    assert rules_of(tenant)[0][4] is True


def test_a_toggle_without_a_state_changes_nothing(boss, tenant, main, flour):
    rule = make_rule(tenant, flour, main)
    url = f"/reports/reorder-rules/{rule.pk}/toggle/"
    response = boss.post(
        url, {"idempotency_key": "form:t1", "enabled": "maybe"}, **htmx("rules-table")
    )
    assert response.status_code == 422
    assert "Choose to enable or disable the rule." in response.content.decode()
    assert rules_of(tenant)[0][4] is True


def test_deleting_asks_first(boss, tenant, main, flour, vaccine):
    rule = make_rule(tenant, flour, main)
    kept = make_rule(tenant, vaccine, main)
    url = f"/reports/reorder-rules/{rule.pk}/delete/"
    response = boss.get(url)
    assert response.status_code == 200
    assert "Delete this reorder rule?" in response.content.decode()
    assert len(rules_of(tenant)) == 2
    response = boss.post(url, {"idempotency_key": "form:d1"}, **htmx("delete-form"))
    assert response["HX-Redirect"] == URL
    assert [row[0] for row in rules_of(tenant)] == ["VAX-10"]
    # The same confirmation sent again answers as the first did; another is not found.
    response = boss.post(url, {"idempotency_key": "form:d1"}, follow=True)
    assert "FLOUR-25 in MAIN deleted. (It was already done" in response.content.decode()
    assert boss.post(url, {"idempotency_key": "form:d9"}).status_code == 404
    assert [row[0] for row in rules_of(tenant)] == ["VAX-10"]
    response = boss.post(
        f"/reports/reorder-rules/{kept.pk}/delete/", {"idempotency_key": "form:d2"}, follow=True
    )
    assert response.redirect_chain == [(URL, 302)]
    assert "Reorder rule for VAX-10 in MAIN deleted." in response.content.decode()
    assert rules_of(tenant) == []


# -- roles and tenants -----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.QC])
def test_operators_and_inspectors_are_refused(client, tenant, main, flour, role):
    rule = make_rule(tenant, flour, main)
    make_member(tenant, "someone", role)
    assert client.login(username="someone", password=PASSWORD)
    assert client.get(URL).status_code == 403
    assert client.post(URL, new_rule(main)).status_code == 403
    for action in ("edit", "delete", "toggle"):
        path = f"/reports/reorder-rules/{rule.pk}/{action}/"
        data = {
            "idempotency_key": "form:x",
            "enabled": "0",
            "reorder_point": "1",
            "reorder_quantity": "1",
        }
        assert client.post(path, data).status_code == 403
    assert len(rules_of(tenant)) == 1 and rules_of(tenant)[0][4] is True


def test_an_admin_may_keep_rules(client, tenant, main, flour):
    make_member(tenant, "ada", Role.ADMIN)
    assert client.login(username="ada", password=PASSWORD)
    assert client.post(URL, new_rule(main)).status_code == 302
    assert len(rules_of(tenant)) == 1


def test_another_tenants_rule_is_not_found(client, tenant, other_tenant, main, flour):
    rule = make_rule(tenant, flour, main)
    make_member(other_tenant, "globex-boss", Role.MANAGER)
    assert client.login(username="globex-boss", password=PASSWORD)
    assert "FLOUR-25" not in client.get(URL).content.decode()
    data = {
        "idempotency_key": "form:x",
        "enabled": "0",
        "reorder_point": "1",
        "reorder_quantity": "1",
    }
    for action in ("edit", "delete"):
        assert client.get(f"/reports/reorder-rules/{rule.pk}/{action}/").status_code == 404
    for action in ("edit", "delete", "toggle"):
        assert client.post(f"/reports/reorder-rules/{rule.pk}/{action}/", data).status_code == 404
    # Nor can Acme's warehouse be named in a new rule.
    response = client.post(URL, new_rule(main, sku="FLOUR-25"), **htmx("rule-form"))
    assert response.status_code == 422
    assert rules_of(tenant) == [("FLOUR-25", "MAIN", Decimal("10.000"), Decimal("50.000"), True)]

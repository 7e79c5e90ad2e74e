"""The report endpoints: the selectors' numbers, the token's tenant only, bounded parameters.

The data set is ``build_reports_data`` (``test_reports_selectors``), all of
it before today: the endpoints report as of the real today.
"""

import datetime

import pytest
from django.utils import timezone

from analytics import api, reports
from analytics.models import ReorderRule
from tests.analytics.conftest import DW_DATABASES
from tests.analytics.test_reports_selectors import build_reports_data, take_the_snapshots
from tests.api.conftest import ApiClient, new_client
from warehouse.tenancy import tenant_context


@pytest.fixture
def acme(tenant):
    return new_client(tenant)


@pytest.fixture
def globex(other_tenant):
    return new_client(other_tenant)


@pytest.fixture
def data(tenant, site):
    return build_reports_data(tenant, site)


def test_abc_answers_decimal_strings_and_classes(acme, data):
    response = acme.get("/reports/abc", {"days": 3660})
    assert response.status_code == 200, response.content
    # Every shipment: ALPHA 10 x 1 + 40 x 1 + 20 x 2 = 90; BRAVO 15; CHARLIE 5; total 110.
    # ALPHA 90/110 = 0.8182 (A); BRAVO before 0.8182 (B); CHARLIE before 105/110 = 0.9545 (C).
    assert response.json()["items"][:3] == [
        {
            "sku": "ALPHA",
            "name": "Alpha",
            "consumption_value": "90.00",
            "share": "0.8182",
            "cumulative_share": "0.8182",
            "class": "A",
        },
        {
            "sku": "BRAVO",
            "name": "Bravo",
            "consumption_value": "15.00",
            "share": "0.1364",
            "cumulative_share": "0.9545",
            "class": "B",
        },
        {
            "sku": "CHARLIE",
            "name": "Charlie",
            "consumption_value": "5.00",
            "share": "0.0455",
            "cumulative_share": "1.0000",
            "class": "C",
        },
    ]


def test_valuation_as_of_a_past_day(acme, data):
    response = acme.get("/reports/valuation", {"as_of": "2026-02-28"})
    assert response.status_code == 200, response.content
    # As in the selector test: DC1 105.00 (A1 50, B1 30, C1 25), DC2 4.00.
    assert response.json() == {
        "as_of": "2026-02-28",
        "warehouses": [
            {"warehouse": "DC1", "lots": None, "quantity": "120.000", "value": "105.00"},
            {"warehouse": "DC2", "lots": None, "quantity": "4.000", "value": "4.00"},
        ],
        "total_quantity": "124.000",
        "total_value": "109.00",
    }


FEBRUARY, MARCH_END = datetime.date(2026, 2, 1), datetime.date(2026, 3, 31)
ENDPOINTS = {
    "/reports/abc": (
        {"days": 400},
        lambda t: api.AbcOut(items=reports.abc(tenant=t, days=400)),
    ),
    "/reports/aging": (
        {},
        lambda t: api.AgingOut.model_validate(reports.aging(tenant=t), from_attributes=True),
    ),
    "/reports/turnover": (
        {"days": 400, "warehouse": "DC1"},
        lambda t: api.TurnoverOut(items=reports.turnover(tenant=t, days=400, warehouse="DC1")),
    ),
    "/reports/demand": (
        {"sku": "ALPHA", "days": 731},
        lambda t: api.DemandOut(items=reports.demand(tenant=t, sku="ALPHA", days=731)),
    ),
    "/reports/stock-history": (
        {"sku": "ALPHA", "since": "2026-02-01", "until": "2026-03-31"},
        lambda t: api.HistoryOut(
            items=reports.stock_history(tenant=t, sku="ALPHA", since=FEBRUARY, until=MARCH_END)
        ),
    ),
    "/reports/valuation": (
        {},
        lambda t: api.ValuationOut.model_validate(
            reports.valuation(tenant=t), from_attributes=True
        ),
    ),
    "/reports/low-stock": ({}, lambda t: api.LowStockOut(items=reports.low_stock(tenant=t))),
}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_each_endpoint_answers_what_its_selector_returns(acme, tenant, data, path):
    params, expected = ENDPOINTS[path]
    with tenant_context(tenant.pk):
        ReorderRule.objects.create(
            tenant=tenant,
            product=data["products"]["ALPHA"],
            warehouse=data["dc1"],
            reorder_point=100,
            reorder_quantity=10,
        )
    response = acme.get(path, params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == expected(tenant).model_dump(mode="json", by_alias=True)
    # Something to compare: every report has rows for this data set.
    assert any(body.values())


def test_stock_history_and_stock_outs_hold_their_figures(acme, data):
    body = acme.get(
        "/reports/stock-history", {"sku": "alpha", "since": "2026-02-09", "until": "2026-02-10"}
    ).json()
    assert body == {
        "items": [
            {"day": "2026-02-09", "on_hand": "90.000"},
            {"day": "2026-02-10", "on_hand": "50.000"},
        ]
    }


def test_dates_out_of_range_are_held_within_bounds(acme, data):
    def history(**params):
        response = acme.get("/reports/stock-history", {"sku": "ALPHA", **params})
        assert response.status_code == 200, response.content
        return response.json()["items"]

    assert len(history(since="2020-01-01", until="2026-01-01")) == 731
    assert history(since="2026-03-02", until="2026-03-01") == []
    assert history(since="0001-01-01", until="0001-01-02") == []
    assert history(until="9999-12-31")[-1]["day"] == timezone.localdate().isoformat()
    future = acme.get("/reports/valuation", {"as_of": "9999-12-31"}).json()
    assert (future["as_of"], future["total_value"]) == (timezone.localdate().isoformat(), "144.00")
    ancient = acme.get("/reports/valuation", {"as_of": "0001-01-01"}).json()
    assert (ancient["warehouses"], ancient["total_value"]) == ([], "0.00")


def assert_pages_of_one_row(client: ApiClient, path: str, params: dict) -> None:
    whole = client.get(path, params).json()
    assert whole["count"] == len(whole["items"]) >= 2
    pages = [
        client.get(path, {**params, "limit": 1, "offset": offset}).json()
        for offset in range(whole["count"] + 1)
    ]
    # Every page is one row of the same ordered report (ABC classes and shares
    # decided on the whole), and past the end a page is empty.
    assert [page["items"] for page in pages] == [[row] for row in whole["items"]] + [[]]
    assert {page["count"] for page in pages} == {whole["count"]}


@pytest.mark.parametrize("path", ["/reports/abc", "/reports/turnover"])
def test_lists_come_a_page_at_a_time_with_the_whole_count(acme, data, path):
    assert_pages_of_one_row(acme, path, {"days": 400})


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_stock_outs_answer_the_selectors_rows_a_page_at_a_time(clean_dw, acme, tenant, site):
    build_reports_data(tenant, site)
    take_the_snapshots()
    body = acme.get("/reports/stock-outs", {"days": 731}).json()
    expected = api.StockOutsOut(items=reports.stock_outs(tenant=tenant, days=731))
    assert body == expected.model_dump(mode="json", by_alias=True)
    # The ten snapshotted days of March and today (the view: the data set's stock now, when
    # ALPHA's lots have expired): DELTA at zero from its receipt on 03-25 (five days and
    # today), CHARLIE from 03-29 (two and today), ALPHA today.
    assert [(row["sku"], row["days_at_zero"], row["days_counted"]) for row in body["items"]] == [
        ("DELTA", 6, 6),
        ("CHARLIE", 3, 11),
        ("ALPHA", 1, 11),
    ]
    assert_pages_of_one_row(acme, "/reports/stock-outs", {"days": 731})


def test_low_stock_pages_by_sku_and_warehouse(acme, data):
    whole = acme.get("/reports/low-stock").json()
    second = acme.get("/reports/low-stock", {"limit": 1, "offset": 1}).json()
    assert second == {"items": whole["items"][1:2], "count": whole["count"]}


def test_another_tenant_sees_none_of_it(globex, data):
    assert globex.get("/reports/abc").json() == {"items": [], "count": 0}
    assert globex.get("/reports/turnover").json() == {"items": [], "count": 0}
    assert globex.get("/reports/stock-outs").json() == {"items": [], "count": 0}
    assert globex.get("/reports/low-stock").json() == {"items": [], "count": 0}
    assert globex.get("/reorder-rules").json()["items"] == []
    valuation = globex.get("/reports/valuation").json()
    assert (valuation["warehouses"], valuation["total_value"]) == ([], "0.00")
    aging = globex.get("/reports/aging").json()
    assert {bucket["quantity"] for bucket in aging["by_age"]} == {"0.000"}
    demand = globex.get("/reports/demand", {"days": 731}).json()
    assert {day["shipped"] for day in demand["items"]} == {"0.000"}
    for path, params, code in (
        ("/reports/stock-history", {"sku": "ALPHA"}, "PRODUCT_NOT_FOUND"),
        ("/reports/demand", {"sku": "ALPHA"}, "PRODUCT_NOT_FOUND"),
        ("/reports/abc", {"warehouse": "DC1"}, "WAREHOUSE_NOT_FOUND"),
        ("/reports/aging", {"warehouse": "DC1"}, "WAREHOUSE_NOT_FOUND"),
    ):
        response = globex.get(path, params)
        assert (response.status_code, response.json()["error"]["code"]) == (404, code), path


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/reports/abc", {"days": 0}),
        ("/reports/abc", {"days": 3661}),
        ("/reports/abc", {"days": "ninety"}),
        ("/reports/abc", {"days": "9" * 40}),
        ("/reports/abc", {"warehouse": "DC 1"}),
        ("/reports/abc", {"warehouse": "W" * 33}),
        ("/reports/turnover", {"days": -1}),
        ("/reports/demand", {"days": 732}),
        ("/reports/demand", {"sku": "\x00"}),
        ("/reports/stock-outs", {"days": 732}),
        ("/reports/stock-history", {}),
        ("/reports/stock-history", {"sku": "ALPHA", "since": "2026-02-30"}),
        ("/reports/valuation", {"as_of": "yesterday"}),
        ("/reports/valuation", {"as_of": "2026-13-01"}),
        ("/reports/abc", {"limit": 0}),
        ("/reports/abc", {"limit": 10_001}),
        ("/reports/turnover", {"offset": -1}),
        ("/reports/stock-outs", {"offset": 1_000_001}),
        ("/reports/low-stock", {"limit": "9" * 40}),
    ],
)
def test_bad_parameters_answer_422_with_a_code(acme, data, path, params):
    response = acme.get(path, params)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_reports_need_a_token(data):
    response = ApiClient(None).get("/reports/abc")
    assert response.status_code == 401


def test_reorder_rules_are_written_with_the_write_scope(acme, tenant, other_tenant, data):
    created = acme.post(
        "/reorder-rules",
        {"sku": "ALPHA", "warehouse": "DC1", "reorder_point": "100", "reorder_quantity": 200},
    )
    assert created.status_code == 201, created.content
    rule = created.json()
    assert {k: rule[k] for k in ("sku", "warehouse", "reorder_point", "enabled")} == {
        "sku": "ALPHA",
        "warehouse": "DC1",
        "reorder_point": "100.000",
        "enabled": True,
    }
    duplicate = acme.post(
        "/reorder-rules",
        {"sku": "alpha", "warehouse": "dc1", "reorder_point": 1, "reorder_quantity": 1},
    )
    assert duplicate.json()["error"]["code"] == "DUPLICATE_REORDER_RULE"
    assert acme.get("/reports/low-stock").json()["items"][0]["sku"] == "ALPHA"

    changed = acme.client.put(
        f"/api/v1/reorder-rules/{rule['id']}",
        '{"reorder_point": 0, "reorder_quantity": 5, "enabled": false}',
        content_type="application/json",
        **acme._headers(),
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["reorder_point"], changed.json()["enabled"]) == ("0.000", False)
    assert acme.get("/reports/low-stock").json()["items"] == []
    assert acme.get("/reorder-rules").json()["items"] == [changed.json()]

    # Globex can neither see nor change nor delete Acme's rule.
    globex = new_client(other_tenant)
    assert (
        globex.client.delete(f"/api/v1/reorder-rules/{rule['id']}", **globex._headers()).json()[
            "error"
        ]["code"]
        == "REORDER_RULE_NOT_FOUND"
    )
    # A read-only token may list, not write.
    reader = new_client(tenant, scopes=["read"])
    assert reader.get("/reorder-rules").status_code == 200
    refused = reader.post(
        "/reorder-rules",
        {"sku": "BRAVO", "warehouse": "DC1", "reorder_point": 1, "reorder_quantity": 1},
    )
    assert refused.status_code == 403

    deleted = acme.client.delete(f"/api/v1/reorder-rules/{rule['id']}", **acme._headers())
    assert deleted.status_code == 204
    with tenant_context(tenant.pk):
        assert not ReorderRule.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"sku": "NOPE"}, 404, "PRODUCT_NOT_FOUND"),
        ({"warehouse": "NOPE"}, 404, "WAREHOUSE_NOT_FOUND"),
        ({"reorder_point": -1}, 422, None),
        ({"reorder_quantity": 0}, 422, None),
        ({"reorder_point": "1e999"}, 422, None),
        ({"reorder_quantity": "0.0001"}, 422, None),
    ],
)
def test_bad_reorder_rules_are_refused_and_write_nothing(acme, tenant, data, body, status, code):
    good = {"sku": "ALPHA", "warehouse": "DC1", "reorder_point": 1, "reorder_quantity": 1}
    response = acme.post("/reorder-rules", good | body)
    assert response.status_code == status, response.content
    if code:
        assert response.json()["error"]["code"] == code
    with tenant_context(tenant.pk):
        assert not ReorderRule.objects.exists()


def test_a_rule_id_out_of_range_is_not_found(acme, data):
    for rule_id in (0, 2**63, 10**30):
        response = acme.client.delete(f"/api/v1/reorder-rules/{rule_id}", **acme._headers())
        assert response.status_code in (404, 422), response.content

"""QC decisions: explicit, stale ones refused by name, reversals recorded; the QC lists."""

import datetime
import re

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.catalog.services import create_product, create_warehouse
from inventory.core import errors
from inventory.ledger.posting import Actor
from inventory.lots.selectors import recent_qc_decisions
from inventory.lots.services import approve_lot, reject_lot, reverse_qc_decision
from inventory.models import Balance, Lot, Product, QcDecision, QcDecisionKind, QcStatus
from inventory.reservations.allocation import reserve_stock
from inventory.reservations.requests import LineRequest
from inventory.stock.receipts import receive_stock
from inventory.stock.selectors import stock_summary
from tests.clients import signed_in
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def lot(tenant, site, vaccine):
    return receive_stock(
        tenant=tenant, product=vaccine, warehouse=site, lot_code="L-77", quantity=40
    ).lot


def history(tenant, lot):
    with tenant_context(tenant.id):
        return list(
            QcDecision.objects.filter(lot_id=lot.pk)
            .order_by("decided_at", "id")
            .values_list("kind", "previous_status", "status", "note", "decided_by_id")
        )


def current(tenant, lot):
    with tenant_context(tenant.id):
        return Lot.objects.get(pk=lot.pk)


def available(tenant, product):
    return stock_summary(tenant=tenant, product=product).available


def test_a_decision_is_recorded_in_the_history(tenant, lot, inspector):
    reject_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector), note="Seal broken")
    assert history(tenant, lot) == [
        ("DECISION", "QUARANTINE", "REJECTED", "Seal broken", inspector.pk)
    ]


def test_a_stale_decision_names_who_decided_and_when_and_changes_nothing(
    tenant, lot, inspector, manager
):
    decided_at = timezone.make_aware(datetime.datetime(2026, 3, 2, 10, 42))
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector), at=decided_at)
    with pytest.raises(errors.LotNotInQuarantine) as refused:
        reject_lot(tenant=tenant, lot=lot, actor=Actor.user(manager), note="Seal broken")
    assert refused.value.message == (
        "Lot L-77 was already approved by Inspector at 10:42 on 02 Mar 2026."
    )
    stored = current(tenant, lot)
    assert (stored.qc_status, stored.qc_by_id, stored.qc_note) == ("APPROVED", inspector.pk, "")
    assert len(history(tenant, lot)) == 1


def test_a_stale_decision_names_the_api_token_that_decided(tenant, lot, manager):
    from inventory.core.tokens import issue_api_token

    token, _ = issue_api_token(tenant=tenant, name="LIMS")
    reject_lot(tenant=tenant, lot=lot, actor=Actor.token(token), note="Failed assay")
    with pytest.raises(errors.LotNotInQuarantine, match="already rejected by API token 'LIMS'"):
        approve_lot(tenant=tenant, lot=lot, actor=Actor.user(manager))


def test_manager_sends_an_approved_lot_back_to_quarantine(tenant, lot, vaccine, inspector, manager):
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector))
    assert available(tenant, vaccine) == 40
    reversed_lot = reverse_qc_decision(
        tenant=tenant,
        lot=current(tenant, lot),
        actor=Actor.user(manager),
        reason="Approved the wrong lot",
        status=QcStatus.QUARANTINE,
    )
    assert (reversed_lot.qc_status, reversed_lot.qc_at, reversed_lot.qc_by_id) == (
        "QUARANTINE",
        None,
        None,
    )
    assert available(tenant, vaccine) == 0
    assert history(tenant, lot)[-1] == (
        "REVERSAL",
        "APPROVED",
        "QUARANTINE",
        "Approved the wrong lot",
        manager.pk,
    )
    # Back in the queue, it can be decided again.
    reject_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector), note="Seal broken")
    assert current(tenant, lot).qc_status == QcStatus.REJECTED


def test_manager_flips_a_rejection_to_an_approval(tenant, lot, vaccine, inspector, manager):
    reject_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector), note="Dent")
    approved = reverse_qc_decision(
        tenant=tenant,
        lot=current(tenant, lot),
        actor=Actor.user(manager),
        reason="Dent is cosmetic",
        status=QcStatus.APPROVED,
    )
    assert (approved.qc_status, approved.qc_by_id) == ("APPROVED", manager.pk)
    assert approved.qc_note == "Reversed: Dent is cosmetic"
    assert available(tenant, vaccine) == 40
    with tenant_context(tenant.id):
        decisions = recent_qc_decisions()
    assert [(d.kind, d.status, d.is_reversible) for d in decisions] == [
        (QcDecisionKind.REVERSAL, "APPROVED", True),
        (QcDecisionKind.DECISION, "REJECTED", False),
    ]


@pytest.mark.parametrize(
    ("reason", "status", "error"),
    [
        ("", QcStatus.QUARANTINE, errors.ValidationFailed),
        ("   ", QcStatus.QUARANTINE, errors.ValidationFailed),
        ("Oops", QcStatus.APPROVED, errors.ValidationFailed),  # already approved
        ("Oops", "SHIPPED", errors.ValidationFailed),
    ],
)
def test_a_reversal_needs_a_reason_and_a_new_status(
    tenant, lot, inspector, manager, reason, status, error
):
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector))
    with pytest.raises(error):
        reverse_qc_decision(
            tenant=tenant,
            lot=current(tenant, lot),
            actor=Actor.user(manager),
            reason=reason,
            status=status,
        )
    assert current(tenant, lot).qc_status == QcStatus.APPROVED
    assert len(history(tenant, lot)) == 1


def test_a_lot_in_quarantine_has_no_decision_to_reverse(tenant, lot, manager):
    with pytest.raises(errors.LotNotDecided):
        reverse_qc_decision(
            tenant=tenant, lot=lot, actor=Actor.user(manager), reason="x", status="APPROVED"
        )


def test_a_reversal_of_a_decision_that_has_changed_since_is_refused(
    tenant, lot, inspector, manager
):
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector))
    seen = current(tenant, lot)
    reverse_qc_decision(
        tenant=tenant, lot=seen, actor=Actor.user(manager), reason="Wrong lot", status="REJECTED"
    )
    with pytest.raises(errors.LotNotDecided, match="already rejected by Manager"):
        reverse_qc_decision(
            tenant=tenant, lot=seen, actor=Actor.user(manager), reason="Again", status="QUARANTINE"
        )
    assert current(tenant, lot).qc_status == QcStatus.REJECTED


def test_an_approval_is_not_reversed_while_part_of_the_lot_is_reserved(
    tenant, site, lot, vaccine, inspector, manager
):
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector))
    reserve_stock(tenant=tenant, warehouse=site, lines=[LineRequest(product=vaccine, quantity=5)])
    with pytest.raises(errors.LotReserved, match="5 of lot L-77 is reserved"):
        reverse_qc_decision(
            tenant=tenant,
            lot=current(tenant, lot),
            actor=Actor.user(manager),
            reason="Recall",
            status=QcStatus.QUARANTINE,
        )
    assert current(tenant, lot).qc_status == QcStatus.APPROVED
    summary = stock_summary(tenant=tenant, product=vaccine)
    assert (summary.reserved, summary.available, summary.quarantined) == (5, 35, 0)


def test_the_history_is_append_only(tenant, lot, inspector):
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector))
    with tenant_context(tenant.id):
        for change in (
            lambda rows: rows.update(note="rewritten"),
            lambda rows: rows.delete(),
        ):
            with pytest.raises(DatabaseError), transaction.atomic():
                change(QcDecision.objects.filter(lot_id=lot.pk))
        assert QcDecision.objects.get(lot_id=lot.pk).note == ""


def test_another_tenant_sees_no_decisions(tenant, other_tenant, lot, inspector):
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector))
    with tenant_context(other_tenant.id):
        assert QcDecision.objects.count() == 0
        assert recent_qc_decisions() == []
    with pytest.raises(errors.LotNotFound):
        reverse_qc_decision(
            tenant=other_tenant,
            lot=current(tenant, lot),
            actor=Actor(),
            reason="x",
            status=QcStatus.QUARANTINE,
        )


# -- the QC queue and the decision history as lists ------------------------------------------

DAY = datetime.timedelta(days=1)
DASH = "\N{EN DASH}"  # the page summary reads "1{DASH}25 of 30"


def lot_codes(html: str) -> list[str]:
    return re.findall(r'data-testid="lot-([A-Z]-\d+)"', html)


@pytest.fixture
def queue(tenant):
    """Three quarantined lots whose order differs by every sort key of the queue.

    received: B, A, C   code: A, B, C   SKU: C, A, B   warehouse: B, C, A   expiry: A, C, B
    """
    now = timezone.now()
    today = timezone.localdate()
    warehouses = {
        code: create_warehouse(tenant=tenant, code=code, name=code)
        for code in ("DC1", "DC2", "DC3")
    }
    rows = [
        ("A-300", "CHEESE-1", "DC3", 2, 10),
        ("B-200", "MILK-2", "DC1", 3, 40),
        ("C-100", "BREAD-1", "DC2", 1, 20),
    ]
    for code, sku, warehouse, age_days, expires_in in rows:
        product = create_product(tenant=tenant, sku=sku, name=f"{sku} name", qc_required=True)
        receive_stock(
            tenant=tenant,
            product=product,
            warehouse=warehouses[warehouse],
            lot_code=code,
            quantity=5,
            expires_on=today + expires_in * DAY,
            occurred_at=now - age_days * DAY,
        )
    return warehouses


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["B-200", "A-300", "C-100"]),  # oldest first
        ("received_at", ["B-200", "A-300", "C-100"]),
        ("-received_at", ["C-100", "A-300", "B-200"]),
        ("code", ["A-300", "B-200", "C-100"]),
        ("product", ["C-100", "A-300", "B-200"]),
        ("warehouse_code", ["B-200", "C-100", "A-300"]),
        ("-warehouse_code", ["A-300", "C-100", "B-200"]),
        ("expires_on", ["A-300", "C-100", "B-200"]),
        # A key the table does not know, or an absurd one, is ignored: oldest first.
        ("on_hand", ["B-200", "A-300", "C-100"]),
        ("bogus", ["B-200", "A-300", "C-100"]),
        ("x" * 5000, ["B-200", "A-300", "C-100"]),
    ],
)
def test_the_qc_queue_sorts_by_each_key_in_the_database(tenant, inspector, queue, sort, expected):
    response = signed_in("inspector").get("/qc/", {"sort": sort})
    assert response.status_code == 200
    assert lot_codes(response.content.decode()) == expected


def test_the_qc_queue_sort_swaps_only_its_table(tenant, inspector, queue):
    client = signed_in("inspector")
    response = client.get("/qc/?sort=-code", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="qc-queue")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="qc-queue"') and "<html" not in html
    assert lot_codes(html) == ["C-100", "B-200", "A-300"]
    assert "Recent decisions" not in html
    # Its sort links keep to the region and the address bar.
    assert 'href="?sort=code" hx-get="?sort=code" hx-push-url="true"' in html
    page = client.get("/qc/?sort=-code").content.decode()
    assert "<html" in page and lot_codes(page) == ["C-100", "B-200", "A-300"]
    with tenant_context(tenant.id):
        lot = Lot.objects.get(code="A-300")
    approve_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector))
    assert "Recent decisions" in client.get("/qc/?sort=-code").content.decode()
    fragment = client.get("/qc/?sort=-code", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="qc-queue")
    assert "Recent decisions" not in fragment.content.decode()


def test_a_queue_row_shows_its_warehouse_and_links_its_lot(tenant, inspector, queue):
    html = signed_in("inspector").get("/qc/").content.decode()
    with tenant_context(tenant.id):
        lot = Lot.objects.get(code="B-200")
    row = html[html.index('data-testid="lot-B-200"') :]
    row = row[: row.index("</tr>")]
    assert f'href="/lots/{lot.pk}/"' in row and "DC1" in row
    assert 'data-testid="on-hand">5 <span class="sy-unit">ea</span>' in row


def test_a_decision_keeps_the_sorted_row_in_place_and_counts_down(tenant, inspector, queue):
    client = signed_in("inspector")
    with tenant_context(tenant.id):
        lot = Lot.objects.get(code="C-100")
    response = client.post(
        f"/qc/{lot.pk}/decide/",
        {"decision": "reject", "note": "Crushed"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"lot-{lot.pk}",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="lot-{lot.pk}" data-testid="lot-C-100"')
    assert 'data-testid="decision">Rejected<' in html and "Crushed" in html
    assert "DC2" in html  # the same cells as the table's row
    assert re.search(r'hx-swap-oob="true">2 waiting<', html)


def quarantined(tenant, warehouse, count, *, start=0):
    """``count`` quarantined lots of one product each, bulk-created with their stock."""
    now = timezone.now()
    with tenant_context(tenant.id):
        location = warehouse.locations.first()
        products = Product.objects.bulk_create(
            Product(tenant=tenant, sku=f"P-{start + n:05}", name=f"Product {n}", qc_required=True)
            for n in range(count)
        )
        lots = Lot.objects.bulk_create(
            Lot(tenant=tenant, product=product, code=f"L-{start + n:05}", received_at=now)
            for n, product in enumerate(products)
        )
        Balance.objects.bulk_create(
            Balance(
                tenant=tenant,
                lot=lot,
                location=location,
                product=lot.product,
                warehouse=warehouse,
                on_hand=1,
            )
            for lot in lots
        )
    return lots


def test_the_qc_queue_sorted_by_warehouse_costs_the_same_with_10_or_1000_lots(
    tenant, inspector, site
):
    client = signed_in("inspector")
    quarantined(tenant, site, 10)
    client.get("/qc/?sort=-warehouse_code&page=2")
    with CaptureQueriesContext(connection) as few:
        client.get("/qc/?sort=-warehouse_code")
    quarantined(tenant, site, 990, start=10)
    with CaptureQueriesContext(connection) as many:
        html = client.get("/qc/?sort=-warehouse_code&page=3").content.decode()
    assert "1,000 waiting" in html and len(lot_codes_any(html)) == 25
    assert len(many) == len(few)


def lot_codes_any(html: str) -> list[str]:
    return re.findall(r'data-testid="lot-(L-\d+)"', html)


def decisions(tenant, lot, count, *, start, by=None, status=QcStatus.APPROVED, step=DAY):
    """``count`` decisions on ``lot``, one ``step`` apart from ``start``, bulk-created."""
    with tenant_context(tenant.id):
        QcDecision.objects.bulk_create(
            QcDecision(
                tenant=tenant,
                lot=lot,
                kind=QcDecisionKind.DECISION,
                previous_status=QcStatus.QUARANTINE,
                status=status,
                decided_by=by,
                decided_at=start + n * step,
            )
            for n in range(count)
        )


def decision_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-testid="decision-(\d+)"', html)]


@pytest.fixture
def story(tenant, site, inspector, manager):
    """Three lots with a history: approved, rejected, approved then reversed to quarantine.

    The manager approved A-1 and reversed C-3; the inspector decided the rest.
    """
    cheese = create_product(tenant=tenant, sku="CHEESE-1", name="Cheddar", qc_required=True)
    milk = create_product(tenant=tenant, sku="MILK-2", name="Milk", qc_required=True)
    lots = {
        code: receive_stock(
            tenant=tenant, product=product, warehouse=site, lot_code=code, quantity=3
        ).lot
        for code, product in (("A-1", cheese), ("B-2", milk), ("C-3", cheese))
    }
    first = timezone.make_aware(datetime.datetime(2026, 3, 2, 10, 0))
    approve_lot(tenant=tenant, lot=lots["A-1"], actor=Actor.user(manager), at=first)
    reject_lot(
        tenant=tenant, lot=lots["B-2"], actor=Actor.user(inspector), note="Sour", at=first + DAY
    )
    approve_lot(tenant=tenant, lot=lots["C-3"], actor=Actor.user(inspector), at=first + 2 * DAY)
    with tenant_context(tenant.id):
        seen = Lot.objects.get(pk=lots["C-3"].pk)
    reverse_qc_decision(
        tenant=tenant,
        lot=seen,
        actor=Actor.user(manager),
        reason="Wrong lot approved",
        status=QcStatus.QUARANTINE,
    )
    return lots


def history_rows(html: str) -> list[str]:
    """The lot code of each history row, in order."""
    return re.findall(
        r'data-testid="decision-\d+"[^>]*>.*?<a class="sy-code" href="[^"]+">([^<]+)<', html, re.S
    )


def test_the_history_lists_every_decision_and_reversal_newest_first(tenant, inspector, story):
    response = signed_in("inspector").get("/qc/history/")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert history_rows(html) == ["C-3", "C-3", "B-2", "A-1"]
    assert ">Reversed<" in html and "Wrong lot approved" in html and "Sour" in html
    # Each lot code opens the lot's page.
    assert f'href="/lots/{story["B-2"].pk}/"' in html


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("decided_at", ["A-1", "B-2", "C-3", "C-3"]),
        ("-lot", ["C-3", "C-3", "B-2", "A-1"]),
        ("product", ["A-1", "C-3", "C-3", "B-2"]),
        ("status", ["A-1", "C-3", "C-3", "B-2"]),
        ("decided_by", ["B-2", "C-3", "A-1", "C-3"]),  # inspector, then manager
        ("bogus", ["C-3", "C-3", "B-2", "A-1"]),
    ],
)
def test_the_history_sorts_in_the_database(tenant, inspector, story, sort, expected):
    html = signed_in("inspector").get("/qc/history/", {"sort": sort}).content.decode()
    assert history_rows(html) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "REJECTED"}, ["B-2"]),
        ({"status": "QUARANTINE"}, ["C-3"]),
        ({"kind": "REVERSAL"}, ["C-3"]),
        ({"kind": "DECISION"}, ["C-3", "B-2", "A-1"]),
        ({"q": "b-2"}, ["B-2"]),
        ({"q": "cheese"}, ["C-3", "C-3", "A-1"]),
        ({"since": "2026-03-03", "until": "2026-03-04"}, ["C-3", "B-2"]),
        ({"until": "2026-03-02"}, ["A-1"]),
        ({"status": "APPROVED", "kind": "DECISION", "q": "C-"}, ["C-3"]),
    ],
)
def test_the_history_filters(tenant, inspector, story, query, expected):
    response = signed_in("inspector").get("/qc/history/", query)
    assert response.status_code == 200
    assert history_rows(response.content.decode()) == expected


def test_filtering_the_history_keeps_its_order(tenant, inspector, story):
    html = signed_in("inspector").get("/qc/history/?sort=lot&kind=DECISION").content.decode()
    assert history_rows(html) == ["A-1", "B-2", "C-3"]
    assert '<input type="hidden" name="sort" value="lot">' in html


def test_a_history_filter_that_matches_nothing_says_what_to_do(tenant, inspector, story):
    html = signed_in("inspector").get("/qc/history/?q=NOPE").content.decode()
    assert history_rows(html) == []
    assert "No decisions match these filters. Clear one, or widen the dates." in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"status": "SHIPPED"}, "Choose an outcome from the list."),
        ({"kind": "DELETE"}, "Choose decisions or reversals from the list."),
        ({"q": "X" * 65}, "Type at most 64 characters: part of a lot code or a SKU."),
        ({"since": "yesterday"}, "Enter a valid date."),
        ({"since": "1900-01-01"}, "Enter a date between 2000 and 2999."),
        (
            {"since": "2026-03-04", "until": "2026-03-02"},
            "The “to” date is before the “from” date.",
        ),
    ],
)
def test_a_bad_history_filter_is_refused_by_name(tenant, inspector, story, query, message):
    client = signed_in("inspector")
    response = client.get("/qc/history/", query)
    assert response.status_code == 422
    assert message in response.content.decode()
    fragment = client.get(
        "/qc/history/", query, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="qc-history"
    )
    assert fragment.status_code == 422
    html = fragment.content.decode()
    assert html.lstrip().startswith('<div id="qc-history"') and message in html


def test_the_history_pages_and_swaps_only_its_table(tenant, inspector, site):
    lot = quarantined(tenant, site, 1)[0]
    start = timezone.make_aware(datetime.datetime(2026, 1, 1, 8, 0))
    decisions(tenant, lot, 30, start=start)
    client = signed_in("inspector")
    first = client.get("/qc/history/").content.decode()
    assert len(decision_ids(first)) == 25 and f"1{DASH}25 of 30" in first
    second = client.get("/qc/history/?page=2", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="qc-history")
    html = second.content.decode()
    assert html.lstrip().startswith('<div id="qc-history"') and "<html" not in html
    assert len(decision_ids(html)) == 5 and f"26{DASH}30 of 30" in html
    assert set(decision_ids(html)).isdisjoint(decision_ids(first))
    assert decision_ids(html) == sorted(decision_ids(html), reverse=True)  # newest first
    for page in ("abc", "-1", "99999999999999"):
        assert client.get("/qc/history/", {"page": page}).status_code == 200


def test_the_history_costs_the_same_queries_with_10_or_1000_decisions(tenant, inspector, site):
    lot = quarantined(tenant, site, 1)[0]
    start = timezone.make_aware(datetime.datetime(2026, 1, 1, 8, 0))
    decisions(tenant, lot, 10, start=start, by=inspector)
    client = signed_in("inspector")
    client.get("/qc/history/?status=APPROVED&sort=product")
    with CaptureQueriesContext(connection) as few:
        client.get("/qc/history/?status=APPROVED&sort=product")
    decisions(
        tenant, lot, 990, start=start + 10 * DAY, by=inspector, step=datetime.timedelta(hours=1)
    )
    with CaptureQueriesContext(connection) as many:
        html = client.get("/qc/history/?status=APPROVED&sort=product&page=7").content.decode()
    assert f"151{DASH}175 of 1000" in html
    assert len(many) == len(few)


def test_the_queue_shows_the_latest_ten_and_links_to_the_history(tenant, inspector, site):
    lot = quarantined(tenant, site, 1)[0]
    start = timezone.make_aware(datetime.datetime(2026, 1, 1, 8, 0))
    decisions(tenant, lot, 12, start=start)
    html = signed_in("inspector").get("/qc/").content.decode()
    recent = html[html.index('data-testid="recent-decisions"') :]
    assert len(decision_ids(recent)) == 10
    assert 'href="/qc/history/" data-testid="all-decisions">All decisions →<' in html


@pytest.mark.parametrize("path", ["/qc/", "/qc/history/"])
def test_every_form_in_a_row_carries_the_csrf_token(tenant, site, inspector, manager, story, path):
    quarantined(tenant, site, 2)
    html = signed_in("manager").get(path).content.decode()
    forms = re.findall(r"<form method=\"post\".*?</form>", html, re.S)
    assert len(forms) >= 2  # decision forms on the queue, reversal forms on both
    assert all('name="csrfmiddlewaretoken"' in form for form in forms)


def test_a_manager_reverses_from_the_history_and_comes_back_to_it(
    tenant, inspector, manager, story
):
    client = signed_in("manager")
    html = client.get("/qc/history/").content.decode()
    # Only the rows that still say what the lot is may be reversed.
    assert 'data-testid="reverse-B-2"' in html and 'data-testid="reverse-A-1"' in html
    assert 'data-testid="reverse-C-3"' not in html
    form = html[html.index('data-testid="reverse-B-2"') :]
    assert 'name="return_to" value="history"' in form[: form.index("</form>")]
    response = client.post(
        f"/qc/{story['B-2'].pk}/reverse/",
        {
            "previous_status": "REJECTED",
            "status": "APPROVED",
            "reason": "Sour is the style",
            "return_to": "history",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/qc/history/"
    with tenant_context(tenant.id):
        assert Lot.objects.get(pk=story["B-2"].pk).qc_status == QcStatus.APPROVED
    page = client.get(response["Location"]).content.decode()
    assert "Decision on lot B-2 of MILK-2 reversed: now approved." in page
    assert "Sour is the style" in page


def test_inspectors_see_the_history_without_reverse_controls(tenant, inspector, story):
    html = signed_in("inspector").get("/qc/history/").content.decode()
    assert history_rows(html) and "Reverse…" not in html and 'data-testid="reverse-' not in html


def test_operators_get_neither_the_queue_nor_the_history_nor_a_link(tenant, operator, story):
    client = signed_in("operator")
    assert client.get("/qc/history/").status_code == 403
    assert client.get("/qc/").status_code == 403
    home = client.get("/").content.decode()
    assert 'href="/qc/history/"' not in home and 'href="/qc/"' not in home


def test_another_tenant_sees_none_of_the_history(tenant, story, other_tenant_user):
    client = signed_in("other")
    for query in ({}, {"q": "A-1"}, {"kind": "REVERSAL"}, {"sort": "lot"}):
        response = client.get("/qc/history/", query)
        html = response.content.decode()
        assert response.status_code == 200
        assert history_rows(html) == [] and "CHEESE-1" not in html
        assert f'href="/lots/{story["A-1"].pk}/"' not in html
    assert "No QC decisions yet." in client.get("/qc/history/").content.decode()
    assert "Wrong lot approved" not in client.get("/qc/").content.decode()


def test_the_qc_screens_carry_no_inline_code_the_policy_would_block(tenant, manager, story):
    from tests.test_csp import inline_code

    client = signed_in("manager")
    for path in ("/qc/", "/qc/history/", "/qc/history/?status=SHIPPED"):
        page = client.get(path).content.decode()
        assert "Reverse…" in page
        assert inline_code(page) == []

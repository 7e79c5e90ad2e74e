"""Cycle counts: a blind count of bins or a product, reviewed, approved and posted."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.catalog.services import create_product
from inventory.counts.errors import (
    CountNeedsApproval,
    CountNotInReview,
    CountNotOpen,
    CountOverlaps,
)
from inventory.counts.services import (
    add_found_lot,
    post_count_session,
    save_count_line,
    start_count,
    submit_count,
)
from inventory.models import (
    Balance,
    CountLine,
    CountSession,
    CountStatus,
    LedgerEntry,
    LedgerKind,
    Lot,
)
from inventory.stock.movements import adjust_stock
from inventory.stock.receipts import receive_stock
from tests.clients import signed_in
from tests.conftest import bin_of, make_member
from warehouse.models import Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def bolts(tenant):
    return create_product(tenant=tenant, sku="BOLT-8", name="Hex bolt M8", unit_cost="2.50")


@pytest.fixture
def stock(tenant, site, bolts, flour):
    """Distinctive quantities, so a test can tell they are nowhere on a page."""
    a01, a02 = bin_of(tenant, site, "A-01"), bin_of(tenant, site, "A-02")
    lots = {
        "B-1": receive_stock(
            tenant=tenant,
            product=bolts,
            warehouse=site,
            location=a01,
            lot_code="B-1",
            quantity=4321,
            unit_cost="2.50",
        ).lot,
        "B-2": receive_stock(
            tenant=tenant,
            product=bolts,
            warehouse=site,
            location=a02,
            lot_code="B-2",
            quantity=17,
            unit_cost="2.50",
        ).lot,
        "F-1": receive_stock(
            tenant=tenant,
            product=flour,
            warehouse=site,
            location=a01,
            lot_code="F-1",
            quantity="12.345",
            unit_cost="1.20",
        ).lot,
    }
    return {"a01": a01, "a02": a02, "lots": lots}


@pytest.fixture
def bin_count(tenant, site, stock, operator):
    """A count of bin A-01 (bolts B-1 and flour F-1 on the books)."""
    return start_count(tenant=tenant, warehouse=site, user=operator, locations=[stock["a01"]])


def lines_of(tenant, session):
    with tenant_context(tenant.id):
        return {
            line.lot.code: line
            for line in CountLine.objects.filter(session=session).select_related("lot")
        }


def count_all(tenant, session, user, quantities):
    for code, line in lines_of(tenant, session).items():
        save_count_line(
            tenant=tenant, session=session, line_id=line.pk, quantity=quantities[code], user=user
        )


def add_lines(tenant, session, location, product, codes, *, counted=None):
    """Lines for new lots ``codes`` of ``product`` at ``location``, inserted in that order."""
    now = timezone.now()
    with tenant_context(tenant.id):
        lots = Lot.objects.bulk_create(
            Lot(tenant=tenant, product=product, code=code, received_at=now, unit_cost="2.50")
            for code in codes
        )
        CountLine.objects.bulk_create(
            CountLine(
                tenant=tenant,
                session=session,
                location=location,
                lot=lot,
                product=product,
                counted_quantity=counted,
                counted_at=None if counted is None else now,
            )
            for lot in lots
        )


def count_entries(tenant):
    with tenant_context(tenant.id):
        return list(LedgerEntry.objects.filter(kind=LedgerKind.COUNT).select_related("lot"))


def on_hand(tenant, lot, location):
    with tenant_context(tenant.id):
        return Balance.objects.get(lot=lot, location=location).on_hand


def status_of(tenant, session):
    with tenant_context(tenant.id):
        return CountSession.objects.get(pk=session.pk).status


# -- starting --------------------------------------------------------------------------


def test_a_bin_count_lists_every_lot_with_stock_in_its_bins(tenant, bin_count):
    lines = lines_of(tenant, bin_count)
    assert sorted(lines) == ["B-1", "F-1"]
    assert all(line.counted_quantity is None for line in lines.values())
    assert all(line.expected_quantity is None for line in lines.values())


def test_a_product_count_lists_the_product_in_every_bin(tenant, site, stock, bolts, operator):
    session = start_count(tenant=tenant, warehouse=site, user=operator, product=bolts)
    lines = lines_of(tenant, session)
    assert sorted(lines) == ["B-1", "B-2"]


def test_the_start_form_opens_a_count_once_for_a_double_submit(tenant, site, stock, operator):
    client = signed_in("operator")
    form = {
        "idempotency_key": "form:count-1",
        "warehouse": site.pk,
        "bins": "a-01, A-02",
        "sku": "",
    }
    first = client.post("/counts/", form)
    second = client.post("/counts/", form)
    with tenant_context(tenant.id):
        session = CountSession.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/counts/{session.pk}/"
    assert sorted(lines_of(tenant, session)) == ["B-1", "B-2", "F-1"]


@pytest.mark.parametrize(
    ("bins", "sku", "message"),
    [
        ("A-01 Z-99", "", "No bin Z-99 in warehouse DC1."),
        ("", "", "Enter the bins to count, or a product SKU below."),
        ("A-01", "BOLT-8", "Count either bins or a product, not both"),
        ("", "NOPE", "No product with SKU"),
        ("A" * 2001, "", "at most 2000 characters"),
    ],
)
def test_a_bad_start_answers_422_next_to_the_field_and_opens_nothing(
    tenant, site, stock, operator, bins, sku, message
):
    form = {"idempotency_key": "form:count-2", "warehouse": site.pk, "bins": bins, "sku": sku}
    response = signed_in("operator").post(
        "/counts/", form, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="start-form"
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert "<html" not in page
    with tenant_context(tenant.id):
        assert not CountSession.objects.exists()


# -- counting, blind -------------------------------------------------------------------


def test_the_counting_sheet_never_shows_the_expected_quantity(tenant, bin_count, operator):
    client = signed_in("operator")
    page = client.get(f"/counts/{bin_count.pk}/").content.decode()
    assert "B-1" in page and "F-1" in page
    for shown in ("4321", "4,321", "12.345", "12,345", "12.35"):
        assert shown not in page
    line = lines_of(tenant, bin_count)["B-1"]
    fragment = client.post(
        f"/counts/{bin_count.pk}/lines/{line.pk}/",
        {"counted": "4300"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"line-{line.pk}",
    ).content.decode()
    assert "4321" not in fragment and "4,321" not in fragment


def test_a_line_saves_in_place_with_htmx(tenant, bin_count, operator):
    line = lines_of(tenant, bin_count)["F-1"]
    response = signed_in("operator").post(
        f"/counts/{bin_count.pk}/lines/{line.pk}/",
        {"counted": "12,5"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"line-{line.pk}",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert f'id="line-{line.pk}"' in page
    assert "Saved: 12.5 kg by operator" in page
    assert lines_of(tenant, bin_count)["F-1"].counted_quantity == Decimal("12.5")


def test_a_line_saves_with_a_plain_post_too(tenant, bin_count, operator):
    line = lines_of(tenant, bin_count)["B-1"]
    response = signed_in("operator").post(
        f"/counts/{bin_count.pk}/lines/{line.pk}/", {"counted": "7"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/counts/{bin_count.pk}/"
    assert lines_of(tenant, bin_count)["B-1"].counted_quantity == 7


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-3", "must not be negative"),
        ("1.5", "whole number"),
        ("abc", "Enter a number such as 12.5"),
        ("1,250", "could mean 1250 or 1.250"),
        ("9" * 40, "at most 32 characters"),
    ],
)
def test_a_bad_count_is_refused_on_its_line_and_nothing_is_saved(
    tenant, bin_count, operator, typed, message
):
    line = lines_of(tenant, bin_count)["B-1"]
    response = signed_in("operator").post(
        f"/counts/{bin_count.pk}/lines/{line.pk}/",
        {"counted": typed},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"line-{line.pk}",
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert lines_of(tenant, bin_count)["B-1"].counted_quantity is None


def test_a_count_resumes_after_signing_in_again(tenant, bin_count, operator):
    line = lines_of(tenant, bin_count)["B-1"]
    first = signed_in("operator")
    first.post(f"/counts/{bin_count.pk}/lines/{line.pk}/", {"counted": "4300"})
    first.logout()
    later = signed_in("operator")
    listing = later.get("/counts/").content.decode()
    assert f'href="/counts/{bin_count.pk}/">Resume</a>' in listing
    assert "1 of 2" in listing  # lines counted
    page = later.get(f"/counts/{bin_count.pk}/").content.decode()
    assert 'value="4300"' in page
    assert "Saved: 4300 ea by operator" in page


def test_a_lot_found_on_the_shelf_joins_the_count_once(tenant, bin_count, stock, operator):
    client = signed_in("operator")
    form = {
        "idempotency_key": "form:found-1",
        "location": "A-01",
        "sku": "bolt-8",
        "lot_code": "b-2",
        "counted": "3",
    }
    for _ in range(2):  # a double submit
        response = client.post(
            f"/counts/{bin_count.pk}/found/",
            form,
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="count-sheet",
        )
        assert response.status_code == 200
        assert 'data-testid="line-A-01-B-2"' in response.content.decode()
        assert "form:found-1" not in response.content.decode()  # a fresh key for the next lot
    found = lines_of(tenant, bin_count)["B-2"]
    assert found.is_found and found.counted_quantity == 3
    assert len(lines_of(tenant, bin_count)) == 3


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"location": "A-02", "sku": "BOLT-8", "lot_code": "B-2"}, "Bin A-02 is not part of"),
        ({"location": "A-01", "sku": "BOLT-8", "lot_code": "B-1"}, "already on this count"),
        ({"location": "A-01", "sku": "BOLT-8", "lot_code": "NOPE"}, "has no lot"),
        ({"location": "Z-9", "sku": "BOLT-8", "lot_code": "B-2"}, "No location"),
    ],
)
def test_a_found_lot_is_refused_with_a_reason(tenant, bin_count, operator, form, message):
    response = signed_in("operator").post(
        f"/counts/{bin_count.pk}/found/",
        {**form, "counted": "1", "idempotency_key": "form:found-2"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="count-sheet",
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert len(lines_of(tenant, bin_count)) == 2


def test_submitting_needs_every_line_counted(tenant, bin_count, operator):
    line = lines_of(tenant, bin_count)["B-1"]
    client = signed_in("operator")
    client.post(f"/counts/{bin_count.pk}/lines/{line.pk}/", {"counted": "4321"})
    response = client.post(
        f"/counts/{bin_count.pk}/submit/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="count-sheet"
    )
    assert response.status_code == 422
    assert "1 line still has no count" in response.content.decode()
    assert status_of(tenant, bin_count) == CountStatus.OPEN


def test_nothing_can_be_counted_into_a_submitted_count(tenant, bin_count, operator):
    count_all(tenant, bin_count, operator, {"B-1": 4321, "F-1": "12.345"})
    submit_count(tenant=tenant, session=bin_count, user=operator)
    line = lines_of(tenant, bin_count)["B-1"]
    with pytest.raises(CountNotOpen):
        save_count_line(
            tenant=tenant, session=bin_count, line_id=line.pk, quantity=1, user=operator
        )
    response = signed_in("operator").post(
        f"/counts/{bin_count.pk}/lines/{line.pk}/",
        {"counted": "1"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"line-{line.pk}",
    )
    assert response.status_code == 422
    assert "is in review; nothing more can be counted" in response.content.decode()
    assert lines_of(tenant, bin_count)["B-1"].counted_quantity == 4321


# -- review and posting ------------------------------------------------------------------


def test_review_shows_each_difference_and_its_value(tenant, bin_count, operator):
    count_all(tenant, bin_count, operator, {"B-1": 4319, "F-1": "12.845"})
    client = signed_in("operator")
    response = client.post(f"/counts/{bin_count.pk}/submit/")
    assert response["Location"] == f"/counts/{bin_count.pk}/review/"
    review = client.get(f"/counts/{bin_count.pk}/review/")
    page = review.content.decode()
    assert review.context["review"].total_value == Decimal("5.60")  # 2 x 2.50 + 0.5 x 1.20
    bolts_row = page.split('data-testid="review-A-01-B-1"')[1].split("</tr>")[0]
    assert "4,321" in bolts_row and "4,319" in bolts_row
    assert "\N{MINUS SIGN}2 <span" in bolts_row and "\N{MINUS SIGN}5.00" in bolts_row
    flour_row = page.split('data-testid="review-A-01-F-1"')[1].split("</tr>")[0]
    assert "+0.500 <span" in flour_row and "0.60" in flour_row
    assert 'data-testid="post-count"' in page
    assert "gains 0.60 · losses 5.00" in page


def test_posting_writes_count_entries_for_the_differences_only(tenant, bin_count, stock, operator):
    count_all(tenant, bin_count, operator, {"B-1": 4319, "F-1": "12.345"})
    submit_count(tenant=tenant, session=bin_count, user=operator)
    response = signed_in("operator").post(
        f"/counts/{bin_count.pk}/post/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="count-review"
    )
    assert response.status_code == 200
    assert "1 difference written to stock" in response.content.decode()
    (entry,) = count_entries(tenant)
    assert (entry.lot.code, entry.quantity) == ("B-1", Decimal("-2"))
    assert on_hand(tenant, stock["lots"]["B-1"], stock["a01"]) == 4319
    assert on_hand(tenant, stock["lots"]["F-1"], stock["a01"]) == Decimal("12.345")
    lines = lines_of(tenant, bin_count)
    assert (lines["B-1"].expected_quantity, lines["B-1"].difference) == (4321, -2)
    assert (lines["F-1"].expected_quantity, lines["F-1"].difference) == (Decimal("12.345"), 0)
    with tenant_context(tenant.id):
        posted = CountSession.objects.get(pk=bin_count.pk)
    assert posted.status == CountStatus.POSTED
    assert posted.operation_id == entry.operation_id
    assert posted.posted_by == operator and posted.approved_by is None


def test_a_difference_counts_against_the_books_at_posting(tenant, bin_count, stock, operator):
    count_all(tenant, bin_count, operator, {"B-1": 4300, "F-1": "12.345"})
    submit_count(tenant=tenant, session=bin_count, user=operator)
    # Stock moved after counting: the count still states what is on the shelf now.
    adjust_stock(
        tenant=tenant,
        lot=stock["lots"]["B-1"],
        location=stock["a01"],
        quantity_delta=-1,
        reason="Damaged",
    )
    post_count_session(tenant=tenant, session=bin_count, user=operator)
    (entry,) = count_entries(tenant)
    assert entry.quantity == -20  # 4300 counted against 4320 on the books at posting
    assert on_hand(tenant, stock["lots"]["B-1"], stock["a01"]) == 4300


def test_above_the_limit_an_operator_is_refused_and_a_manager_approves(
    tenant, bin_count, stock, operator, manager
):
    tenant.count_approval_value = Decimal("50.00")
    tenant.save()
    count_all(tenant, bin_count, operator, {"B-1": 4300, "F-1": "12.345"})  # -21 x 2.50 = 52.50
    submit_count(tenant=tenant, session=bin_count, user=operator)
    as_operator = signed_in("operator")
    page = as_operator.get(f"/counts/{bin_count.pk}/review/").content.decode()
    assert "A manager will approve and post it." in page
    assert 'data-testid="post-count"' not in page and 'data-testid="approve-post"' not in page

    refused = as_operator.post(f"/counts/{bin_count.pk}/post/", follow=True)
    assert "Not posted: The differences are worth 52.50 in total" in refused.content.decode()
    assert status_of(tenant, bin_count) == CountStatus.SUBMITTED
    assert count_entries(tenant) == []
    assert as_operator.post(f"/counts/{bin_count.pk}/post/", {"approve": "1"}).status_code == 403

    as_manager = signed_in("manager")
    assert (
        'data-testid="approve-post"'
        in as_manager.get(f"/counts/{bin_count.pk}/review/").content.decode()
    )
    approved = as_manager.post(
        f"/counts/{bin_count.pk}/post/",
        {"approve": "1"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="count-review",
    )
    assert "approved and posted: 1 difference" in approved.content.decode()
    (entry,) = count_entries(tenant)
    assert entry.quantity == -21
    with tenant_context(tenant.id):
        posted = CountSession.objects.get(pk=bin_count.pk)
    assert posted.approved_by == manager and posted.posted_by == manager


def test_a_posted_count_is_not_posted_again(tenant, bin_count, operator):
    count_all(tenant, bin_count, operator, {"B-1": 4320, "F-1": "12.345"})
    submit_count(tenant=tenant, session=bin_count, user=operator)
    post_count_session(tenant=tenant, session=bin_count, user=operator)
    with pytest.raises(CountNotInReview, match="already posted"):
        post_count_session(tenant=tenant, session=bin_count, user=operator)
    assert len(count_entries(tenant)) == 1


def test_the_service_refuses_an_approval_from_someone_not_a_manager(tenant, bin_count, operator):
    count_all(tenant, bin_count, operator, {"B-1": 1, "F-1": 1})
    submit_count(tenant=tenant, session=bin_count, user=operator)
    with pytest.raises(CountNeedsApproval, match="Only a manager"):
        post_count_session(tenant=tenant, session=bin_count, user=operator, approve=True)


def test_a_manager_cancels_a_count_and_no_stock_changes(tenant, bin_count, operator, manager):
    assert signed_in("operator").post(f"/counts/{bin_count.pk}/cancel/").status_code == 403
    response = signed_in("manager").post(f"/counts/{bin_count.pk}/cancel/", follow=True)
    assert "cancelled; no stock changed" in response.content.decode()
    assert status_of(tenant, bin_count) == CountStatus.CANCELLED
    assert count_entries(tenant) == []


def test_a_found_lot_posts_as_a_gain(tenant, bin_count, stock, operator):
    add_found_lot(
        tenant=tenant,
        session=bin_count,
        location=stock["a01"],
        lot=stock["lots"]["B-2"],
        quantity=3,
        user=operator,
    )
    count_all(tenant, bin_count, operator, {"B-1": 4321, "F-1": "12.345", "B-2": 3})
    submit_count(tenant=tenant, session=bin_count, user=operator)
    post_count_session(tenant=tenant, session=bin_count, user=operator)
    (entry,) = count_entries(tenant)
    assert (entry.lot.code, entry.location_id, entry.quantity) == ("B-2", stock["a01"].pk, 3)
    assert on_hand(tenant, stock["lots"]["B-2"], stock["a02"]) == 17


# -- who may see what ------------------------------------------------------------------


def test_counts_are_for_operators_and_managers(tenant, inspector, operator, bin_count):
    as_inspector = signed_in("inspector")
    assert as_inspector.get("/counts/").status_code == 403
    assert as_inspector.get(f"/counts/{bin_count.pk}/").status_code == 403
    assert 'href="/counts/"' not in as_inspector.get("/").content.decode()
    assert 'href="/counts/"' in signed_in("operator").get("/").content.decode()


def test_another_tenant_sees_none_of_it(tenant, bin_count, other_tenant_user, operator):
    client = signed_in("other")
    line = lines_of(tenant, bin_count)["B-1"]
    assert client.get(f"/counts/{bin_count.pk}/").status_code == 404
    assert client.get(f"/counts/{bin_count.pk}/review/").status_code == 404
    assert (
        client.post(f"/counts/{bin_count.pk}/lines/{line.pk}/", {"counted": "1"}).status_code == 404
    )
    assert client.post(f"/counts/{bin_count.pk}/post/").status_code == 404
    assert client.post(f"/counts/{bin_count.pk}/cancel/").status_code == 404
    listing = client.get("/counts/")
    assert listing.status_code == 200
    assert list(listing.context["table"].page.object_list) == []
    assert "No counts yet" in listing.content.decode()
    assert lines_of(tenant, bin_count)["B-1"].counted_quantity is None


# -- the list -----------------------------------------------------------------------------


def test_the_list_answers_its_table_to_htmx_and_the_page_otherwise(tenant, bin_count, operator):
    client = signed_in("operator")
    fragment = client.get(
        "/counts/?status=OPEN", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="counts-table"
    ).content.decode()
    assert fragment.lstrip().startswith('<div id="counts-table"')
    assert f'data-testid="count-{bin_count.pk}"' in fragment
    assert "<html" not in fragment and "start-form" not in fragment
    page = client.get("/counts/?status=POSTED").content.decode()
    assert 'data-testid="start-form"' in page
    assert f'data-testid="count-{bin_count.pk}"' not in page


def _sessions(tenant, site, user, how_many):
    with tenant_context(tenant.id):
        CountSession.objects.bulk_create(
            CountSession(tenant=tenant, warehouse=site, created_by=user) for _ in range(how_many)
        )


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/counts/?sort=-created_at")
    assert response.status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_10_and_1000_counts(tenant, site, operator):
    client = signed_in("operator")
    client.get("/counts/")  # the session's first page settles its tenant choice
    _sessions(tenant, site, operator, 10)
    few = _list_queries(client)
    _sessions(tenant, site, operator, 990)
    many = _list_queries(client)
    assert few == many
    assert "1\u201325 of 1000" in client.get("/counts/").content.decode()


def test_a_second_member_of_the_tenant_resumes_anothers_count(tenant, bin_count):
    make_member(tenant, "olga", Role.OPERATOR)
    page = signed_in("olga").get(f"/counts/{bin_count.pk}/")
    assert page.status_code == 200
    assert 'data-testid="submit-count"' in page.content.decode()


def test_an_open_count_has_no_review_yet_so_it_stays_blind(tenant, bin_count, operator):
    response = signed_in("operator").get(f"/counts/{bin_count.pk}/review/")
    assert response.status_code == 302
    assert response["Location"] == f"/counts/{bin_count.pk}/"


def test_htmx_start_and_submit_take_the_browser_to_the_next_page(tenant, site, stock, operator):
    client = signed_in("operator")
    started = client.post(
        "/counts/",
        {"idempotency_key": "form:count-3", "warehouse": site.pk, "bins": "", "sku": "BOLT-8"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="start-form",
    )
    with tenant_context(tenant.id):
        session = CountSession.objects.get()
    assert started["HX-Redirect"] == f"/counts/{session.pk}/"
    count_all(tenant, session, operator, {"B-1": 4321, "B-2": 17})
    submitted = client.post(
        f"/counts/{session.pk}/submit/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="count-sheet"
    )
    assert submitted["HX-Redirect"] == f"/counts/{session.pk}/review/"
    assert status_of(tenant, session) == CountStatus.SUBMITTED


def test_a_manager_cancels_from_the_counting_sheet(tenant, bin_count, manager):
    client = signed_in("manager")
    assert 'data-testid="cancel-count"' in client.get(f"/counts/{bin_count.pk}/").content.decode()
    response = client.post(
        f"/counts/{bin_count.pk}/cancel/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="count-sheet"
    )
    assert response["HX-Redirect"] == f"/counts/{bin_count.pk}/review/"
    assert status_of(tenant, bin_count) == CountStatus.CANCELLED


def test_operators_see_no_cancel_button(tenant, bin_count, operator):
    page = signed_in("operator").get(f"/counts/{bin_count.pk}/").content.decode()
    assert 'data-testid="cancel-count"' not in page


def _page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_sheet_and_the_review_cost_the_same_queries_for_10_and_1000_lines(
    tenant, site, bolts, operator
):
    sessions = []
    for how_many, code in ((10, "A-01"), (1000, "A-02")):
        location = bin_of(tenant, site, code)
        session = start_count(tenant=tenant, warehouse=site, user=operator, locations=[location])
        add_lines(
            tenant, session, location, bolts, [f"L{how_many}-{n:04d}" for n in range(how_many)]
        )
        sessions.append(session)
    client = signed_in("operator")
    client.get("/counts/")  # the session's first page settles its tenant choice
    for url in ("/counts/{}/", "/counts/{}/?page=2", "/counts/{}/?page=999"):
        few, many = (_page_queries(client, url.format(session.pk)) for session in sessions)
        assert few == many, url
    for session in sessions:
        with tenant_context(tenant.id):
            CountLine.objects.filter(session=session).update(
                counted_quantity=3, counted_at=timezone.now()
            )
        submit_count(tenant=tenant, session=session, user=operator)
    for url in ("/counts/{}/review/", "/counts/{}/review/?sort=-variance_value&page=2"):
        few, many = (_page_queries(client, url.format(session.pk)) for session in sessions)
        assert few == many, url
    review = client.get(f"/counts/{sessions[1].pk}/review/")
    assert review.context["review"].total_value == Decimal("7500.00")  # 1000 x 3 x 2.50
    assert "1\u201325 of 1000" in review.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/counts/99999999999999999999999/",
        "/counts/99999999999999999999999/review/",
        "/counts/{session}/lines/99999999999999999999999/",
    ],
)
def test_ids_out_of_range_answer_404(tenant, bin_count, operator, url):
    client = signed_in("operator")
    target = url.format(session=bin_count.pk)
    response = client.post(target, {"counted": "1"}) if "lines" in url else client.get(target)
    assert response.status_code == 404


def test_a_product_count_takes_a_found_lot_of_its_product_in_any_bin(
    tenant, site, stock, bolts, operator
):
    session = start_count(tenant=tenant, warehouse=site, user=operator, product=bolts)
    client = signed_in("operator")
    page = client.get(f"/counts/{session.pk}/").content.decode()
    assert 'name="sku"' not in page  # the lot is looked up under the counted product
    added = client.post(
        f"/counts/{session.pk}/found/",
        {"idempotency_key": "form:found-3", "location": "A-01", "lot_code": "B-2", "counted": "2"},
    )
    assert added.status_code == 302
    assert lines_of(tenant, session)["B-2"].is_found
    refused = client.post(
        f"/counts/{session.pk}/found/",
        {"idempotency_key": "form:found-4", "location": "A-01", "lot_code": "F-1", "counted": "2"},
        follow=True,
    )
    assert "Nothing added: Product BOLT-8 has no lot" in refused.content.decode()


def test_a_bin_or_product_already_being_counted_cannot_be_counted_twice(
    tenant, site, bin_count, bolts, operator, manager
):
    client = signed_in("operator")
    form = {"idempotency_key": "form:count-4", "warehouse": site.pk, "bins": "A-02 A-01", "sku": ""}
    response = client.post("/counts/", form, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="start-form")
    assert response.status_code == 422
    assert (
        f"Bin A-01 is already being counted in count {bin_count.pk}: finish or cancel"
        in response.content.decode()
    )
    by_product = start_count(tenant=tenant, warehouse=site, user=operator, product=bolts)
    with pytest.raises(
        CountOverlaps, match=f"BOLT-8 is already being counted in count {by_product.pk}"
    ):
        start_count(tenant=tenant, warehouse=site, user=operator, product=bolts)
    signed_in("manager").post(f"/counts/{bin_count.pk}/cancel/")
    again = client.post("/counts/", {**form, "idempotency_key": "form:count-5"})
    assert again.status_code == 302


# -- the sheet a page at a time ------------------------------------------------------------


@pytest.fixture
def long_count(tenant, site, bolts, operator, settings):
    """25 lines on pages of 10: walking order (A-01 before A-02) is lot L-0000 to L-0024.

    The lines are inserted in another order (A-02 first, lots backwards), so
    a sheet in insertion order would show different lines on each page.
    """
    settings.COUNT_SHEET_PAGE_SIZE = 10
    a01, a02 = bin_of(tenant, site, "A-01"), bin_of(tenant, site, "A-02")
    session = start_count(tenant=tenant, warehouse=site, user=operator, locations=[a01, a02])
    add_lines(tenant, session, a02, bolts, [f"L-{n:04d}" for n in range(24, 14, -1)])
    add_lines(tenant, session, a01, bolts, [f"L-{n:04d}" for n in range(14, -1, -1)])
    return session


def shown_lots(page: str) -> list[str]:
    return re.findall(r'data-testid="line-A-0\d-(L-\d+)"', page)


def count_lots(tenant, session, codes):
    with tenant_context(tenant.id):
        CountLine.objects.filter(session=session, lot__code__in=codes).update(
            counted_quantity=1, counted_at=timezone.now()
        )


def test_page_2_of_the_sheet_shows_the_next_lines_in_walking_order(tenant, long_count, operator):
    page = signed_in("operator").get(f"/counts/{long_count.pk}/?page=2").content.decode()
    assert shown_lots(page) == [f"L-{n:04d}" for n in range(10, 20)]
    assert "Lines 11\u201320 of 25" in page
    assert f'href="/counts/{long_count.pk}/?page=3"' in page
    assert 'rel="next" data-count-page data-count-next' in page
    assert "0 of 25</span> lines counted" in page


@pytest.mark.parametrize(
    ("asked", "first_shown"),
    [
        ("abc", "L-0000"),
        ("-1", "L-0000"),
        ("0", "L-0000"),
        ("2.5", "L-0000"),
        ("9" * 20, "L-0000"),  # bounded before it costs anything
        ("999999", "L-0020"),  # past the end: the last page
        ("3", "L-0020"),
    ],
)
def test_a_bad_page_number_shows_a_page_of_the_sheet(
    tenant, long_count, operator, asked, first_shown
):
    response = signed_in("operator").get(f"/counts/{long_count.pk}/", {"page": asked})
    assert response.status_code == 200
    assert shown_lots(response.content.decode())[0] == first_shown


def test_the_sheet_opens_on_the_page_of_the_first_line_not_counted(tenant, long_count, operator):
    client = signed_in("operator")
    count_lots(tenant, long_count, [f"L-{n:04d}" for n in range(14)] + ["L-0016"])
    page = client.get(f"/counts/{long_count.pk}/").content.decode()
    assert shown_lots(page)[0] == "L-0010"  # page 2 holds L-0014, the first not counted
    assert "15 of 25</span> lines counted" in page
    count_lots(tenant, long_count, [f"L-{n:04d}" for n in range(25)])
    assert shown_lots(client.get(f"/counts/{long_count.pk}/").content.decode())[0] == "L-0000"


def test_the_sheet_answers_its_region_to_htmx_and_the_page_otherwise(tenant, long_count, operator):
    client = signed_in("operator")
    fragment = client.get(
        f"/counts/{long_count.pk}/?page=3", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="count-sheet"
    ).content.decode()
    assert fragment.lstrip().startswith('<div id="count-sheet">')
    assert "<html" not in fragment
    assert shown_lots(fragment) == [f"L-{n:04d}" for n in range(20, 25)]
    assert f'hx-get="/counts/{long_count.pk}/?page=2"' in fragment
    assert 'data-testid="found-form"' in fragment and 'data-testid="submit-form"' in fragment
    assert '<input type="hidden" name="page" value="3">' in fragment
    page = client.get(f"/counts/{long_count.pk}/?page=3").content.decode()
    assert "<html" in page and shown_lots(page) == shown_lots(fragment)


def test_a_plain_post_on_page_2_comes_back_to_page_2(tenant, long_count, operator):
    line = lines_of(tenant, long_count)["L-0012"]
    client = signed_in("operator")
    url = f"/counts/{long_count.pk}/lines/{line.pk}/"
    saved = client.post(url, {"counted": "5", "page": "2"})
    assert saved["Location"] == f"/counts/{long_count.pk}/?page=2"
    assert lines_of(tenant, long_count)["L-0012"].counted_quantity == 5
    refused = client.post(url, {"counted": "-1", "page": "2"})
    assert refused["Location"] == f"/counts/{long_count.pk}/?page=2"
    for page in ("//evil.example/", "2#x", "https://evil.example", "1" * 40):
        response = client.post(url, {"counted": "5", "page": page})
        assert response["Location"] == f"/counts/{long_count.pk}/"


def test_a_saved_line_brings_the_progress_of_the_whole_count(tenant, long_count, operator):
    count_lots(tenant, long_count, ["L-0001", "L-0024"])  # on pages 1 and 3
    line = lines_of(tenant, long_count)["L-0012"]
    response = signed_in("operator").post(
        f"/counts/{long_count.pk}/lines/{line.pk}/",
        {"counted": "5", "page": "2"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"line-{line.pk}",
    )
    fragment = response.content.decode()
    assert response.status_code == 200
    assert fragment.lstrip().startswith(
        f'<li class="list-group-item sy-count-line" id="line-{line.pk}"'
    )
    progress = fragment.split('<div id="count-progress"')[1]
    assert 'hx-swap-oob="true"' in progress.split(">")[0]
    assert "3 of 25</span> lines counted" in progress
    assert '<input type="hidden" name="page" value="2">' in fragment


def test_a_found_lot_opens_the_page_that_holds_it(tenant, bin_count, operator, settings):
    settings.COUNT_SHEET_PAGE_SIZE = 1  # walking order: B-1, then the found B-2, then F-1
    response = signed_in("operator").post(
        f"/counts/{bin_count.pk}/found/",
        {
            "idempotency_key": "form:found-5",
            "location": "A-01",
            "sku": "BOLT-8",
            "lot_code": "B-2",
            "counted": "3",
            "page": "3",
        },
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="count-sheet",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Push-Url"] == f"/counts/{bin_count.pk}/?page=2"
    assert 'data-testid="line-A-01-B-2"' in page and "B-1" not in page
    assert "1 of 3</span> line" in page
    for shown in ("4321", "4,321", "12.345"):
        assert shown not in page  # still blind


def test_a_refused_submit_turns_to_the_first_line_not_counted(tenant, long_count, operator):
    count_lots(tenant, long_count, [f"L-{n:04d}" for n in range(25) if n != 13])
    client = signed_in("operator")
    response = client.post(
        f"/counts/{long_count.pk}/submit/",
        {"page": "3"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="count-sheet",
    )
    assert response.status_code == 422
    assert response["HX-Push-Url"] == f"/counts/{long_count.pk}/?page=2"
    page = response.content.decode()
    assert "Not submitted: 1 line still has no count" in page
    assert "L-0013" in shown_lots(page)
    plain = client.post(f"/counts/{long_count.pk}/submit/", {"page": "3"})
    assert plain["Location"] == f"/counts/{long_count.pk}/"
    assert status_of(tenant, long_count) == CountStatus.OPEN


# -- the review a page at a time -----------------------------------------------------------


@pytest.fixture
def long_review(tenant, site, bolts, operator):
    """30 counted lines in review, none on the books: line L-n differs by n + 1 (2.50 each)."""
    location = bin_of(tenant, site, "A-01")
    session = start_count(tenant=tenant, warehouse=site, user=operator, locations=[location])
    add_lines(tenant, session, location, bolts, [f"L-{n:04d}" for n in range(30)])
    with tenant_context(tenant.id):
        for line in CountLine.objects.filter(session=session).select_related("lot"):
            line.counted_quantity = int(line.lot.code[2:]) + 1
            line.counted_at = timezone.now()
            line.save(update_fields=["counted_quantity", "counted_at"])
    submit_count(tenant=tenant, session=session, user=operator)
    return session


def review_rows(page: str) -> list[str]:
    return re.findall(r'data-testid="review-A-01-(L-\d+)"', page)


def test_the_review_pages_its_lines_and_totals_the_whole_count(tenant, long_review, operator):
    response = signed_in("operator").get(f"/counts/{long_review.pk}/review/?page=2")
    page = response.content.decode()
    assert review_rows(page) == [f"L-{n:04d}" for n in range(25, 30)]
    assert "26\u201330 of 30" in page
    review = response.context["review"]
    # 1 + 2 + ... + 30 = 465 pieces found at 2.50: the whole count, not the page.
    assert (review.gain_value, review.loss_value, review.total_value) == (
        Decimal("1162.50"),
        Decimal("0"),
        Decimal("1162.50"),
    )
    assert review.needs_approval  # above the tenant's limit, judged on every line
    assert "30 of 30" in page.split('data-testid="differing"')[1].split("</div>")[0]


@pytest.mark.parametrize(
    ("sort", "first", "last"),
    [
        ("location", "L-0000", "L-0024"),
        ("-variance", "L-0029", "L-0005"),
        ("-variance_value", "L-0029", "L-0005"),
        ("variance", "L-0000", "L-0024"),
        ("lot", "L-0000", "L-0024"),
        ("nonsense", "L-0000", "L-0024"),
    ],
)
def test_the_review_sorts_in_the_database(tenant, long_review, operator, sort, first, last):
    fragment = (
        signed_in("operator")
        .get(
            f"/counts/{long_review.pk}/review/",
            {"sort": sort},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="review-table",
        )
        .content.decode()
    )
    assert fragment.lstrip().startswith('<div id="review-table"')
    assert "<html" not in fragment and 'data-testid="count-actions"' not in fragment
    rows = review_rows(fragment)
    assert (rows[0], rows[-1], len(rows)) == (first, last, 25)


def test_posting_from_the_review_still_answers_the_whole_review(tenant, long_review, manager):
    response = signed_in("manager").post(
        f"/counts/{long_review.pk}/post/",
        {"approve": "1"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="count-review",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "approved and posted: 30 differences written to stock" in page
    assert 'id="review-table"' in page and len(review_rows(page)) == 25
    assert status_of(tenant, long_review) == CountStatus.POSTED

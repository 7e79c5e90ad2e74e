"""The order screens: list, new order, detail, actions and picking, as people use them."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.catalog.services import create_product
from inventory.models import Balance, LedgerEntry, Order, OrderLine, OrderStatus, Pick
from inventory.orders.services import allocate_order, create_order
from inventory.reservations.requests import LineRequest
from inventory.stock.receipts import receive_stock
from tests.clients import htmx, signed_in
from tests.conftest import bin_of, make_member
from warehouse.models import Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def soap(tenant):
    return create_product(tenant=tenant, sku="SOAP-1", name="Olive soap")


@pytest.fixture
def stocked(tenant, site, soap):
    receive_stock(
        tenant=tenant,
        product=soap,
        warehouse=site,
        lot_code="S-100",
        quantity=20,
        location=bin_of(tenant, site, "A-01"),
    )
    return soap


def new_order(tenant, site, product, quantity=4, reference="SO-1", customer="Corner shop"):
    return create_order(
        tenant=tenant,
        warehouse=site,
        reference=reference,
        customer=customer,
        lines=[LineRequest(product=product, quantity=quantity)],
    )


def many_orders(tenant, site, product, count, start=0):
    """``count`` orders written in bulk (the list's cost must not depend on them)."""
    now = timezone.now()
    with tenant_context(tenant.id):
        orders = Order.objects.bulk_create(
            Order(
                tenant=tenant,
                warehouse=site,
                reference=f"BULK-{index:05d}",
                customer=f"Customer {index % 17}",
                created_at=now - datetime.timedelta(minutes=index),
            )
            for index in range(start, start + count)
        )
        OrderLine.objects.bulk_create(
            OrderLine(tenant=tenant, order=order, product=product, quantity=1) for order in orders
        )


def ledger_count(tenant):
    with tenant_context(tenant.id):
        return LedgerEntry.objects.count()


# -- the list -------------------------------------------------------------------------


def test_order_list_page_and_its_table_fragment(tenant, operator, site, soap):
    new_order(tenant, site, soap, reference="SO-1", customer="Corner shop")
    new_order(tenant, site, soap, reference="SO-2", customer="Harbour cafe")
    client = signed_in("operator")

    page = client.get("/orders/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html and 'id="orders-table"' in html and "SO-1" in html
    assert 'href="/orders/"' in html  # the nav item

    fragment = client.get("/orders/", {"q": "harbour"}, **htmx("orders-table"))
    body = fragment.content.decode()
    assert fragment.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="orders-table"')
    assert "SO-2" in body and "SO-1" not in body


def test_order_list_filters_by_status_and_sorts_in_the_database(tenant, operator, site, soap):
    first = new_order(tenant, site, soap, reference="SO-B")
    new_order(tenant, site, soap, reference="SO-A")
    with tenant_context(tenant.id):
        Order.objects.filter(pk=first.pk).update(status=OrderStatus.ALLOCATED)
    client = signed_in("operator")

    allocated = client.get("/orders/", {"status": "ALLOCATED"}).content.decode()
    assert "SO-B" in allocated and "SO-A" not in allocated
    ordered = client.get("/orders/", {"sort": "reference"}).content.decode()
    assert ordered.index("SO-A") < ordered.index("SO-B")
    # Values that do not validate are ignored, with the reason next to the field.
    page = client.get("/orders/", {"status": "NONSENSE", "q": "x" * 500, "page": "99999999999"})
    assert page.status_code == 200
    assert "SO-A" in page.content.decode()
    assert 'data-testid="error-q"' in page.content.decode()


def test_empty_list_says_what_to_do(operator, site):
    html = signed_in("operator").get("/orders/").content.decode()
    assert "record a new order" in html


def list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/orders/", {"sort": "-customer"}, **htmx("orders-table"))
    assert response.status_code == 200
    return len(queries)


def test_order_list_costs_the_same_queries_for_10_or_1000_orders(tenant, operator, site, soap):
    client = signed_in("operator")
    client.get("/")  # the session's first request does its own one-off work
    many_orders(tenant, site, soap, 10)
    with_ten = list_queries(client)
    many_orders(tenant, site, soap, 990, start=10)
    with tenant_context(tenant.id):
        assert Order.objects.count() == 1000
    assert list_queries(client) == with_ten


# -- a new order ----------------------------------------------------------------------


def order_form(site, **overrides):
    data = {
        "idempotency_key": "form:order-1",
        "reference": "SO-9",
        "customer": "Harbour cafe",
        "warehouse": site.pk,
        "lines-TOTAL_FORMS": "5",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "5",
        "lines-0-sku": "soap-1",
        "lines-0-quantity": "3",
    }
    data.update(overrides)
    return data


def test_new_order_is_recorded_once_and_opens_its_page(tenant, operator, site, soap):
    client = signed_in("operator")
    assert client.get("/orders/new/").status_code == 200

    response = client.post("/orders/new/", order_form(site))
    again = client.post("/orders/new/", order_form(site))

    with tenant_context(tenant.id):
        order = Order.objects.get()
        line = OrderLine.objects.get()
    assert response.status_code == 302 and response.url == f"/orders/{order.pk}/"
    assert again.status_code == 302 and again.url == response.url
    assert (order.reference, order.customer, line.quantity) == ("SO-9", "Harbour cafe", 3)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"reference": ""}, "reference", "This field is required"),
        ({"lines-0-sku": "NOPE"}, "lines-0-sku", "No product"),
        ({"lines-0-quantity": "-2"}, "lines-0-quantity", "must not be negative"),
        ({"lines-0-quantity": "1.5"}, "lines-0-quantity", "whole number"),
        ({"lines-0-quantity": ""}, "lines-0-quantity", "How many?"),
        ({"lines-1-sku": "SOAP-1", "lines-1-quantity": "1"}, "lines-1-sku", "already on"),
        ({"reference": "R" * 101}, "reference", "at most 100"),
    ],
)
def test_bad_orders_answer_422_on_their_field_and_write_nothing(
    tenant, operator, site, soap, overrides, field, message
):
    client = signed_in("operator")
    response = client.post("/orders/new/", order_form(site, **overrides), **htmx("order-form"))
    assert response.status_code == 422
    html = response.content.decode()
    assert f'data-testid="error-{field}"' in html
    assert message in html
    with tenant_context(tenant.id):
        assert not Order.objects.exists()


def test_an_order_without_lines_is_refused(tenant, operator, site, soap):
    response = signed_in("operator").post(
        "/orders/new/", order_form(site, **{"lines-0-sku": "", "lines-0-quantity": ""})
    )
    assert response.status_code == 422
    assert "Add at least one line" in response.content.decode()


def test_a_duplicate_reference_is_refused_on_the_reference(tenant, operator, site, soap):
    new_order(tenant, site, soap, reference="SO-9")
    response = signed_in("operator").post("/orders/new/", order_form(site))
    assert response.status_code == 422
    assert "already exists" in response.content.decode()


# -- detail and actions ---------------------------------------------------------------


def allocated_order_of(tenant, site, count, reference):
    """An allocated order of ``count`` lines, each of its own product held in its own lot."""
    lines = []
    for index in range(count):
        product = create_product(tenant=tenant, sku=f"{reference}-{index:03d}", name="Item")
        receive_stock(
            tenant=tenant,
            product=product,
            warehouse=site,
            lot_code=f"L-{index:03d}",
            quantity=5,
            location=bin_of(tenant, site, "A-01" if index % 2 else "A-02"),
        )
        lines.append(LineRequest(product=product, quantity=2))
    order = create_order(
        tenant=tenant, warehouse=site, reference=reference, customer="Depot", lines=lines
    )
    allocate_order(tenant=tenant, order_id=order.pk)
    return order


def test_order_page_costs_the_same_queries_for_few_and_many_lines(tenant, operator, site):
    """An order is a bounded document (at most 500 lines), shown whole; its cost is flat."""
    client = signed_in("operator")
    client.get("/")  # the session's first request does its own one-off work
    small = allocated_order_of(tenant, site, 3, "SMALL")
    large = allocated_order_of(tenant, site, 120, "LARGE")

    def queries(order) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/orders/{order.pk}/")
        assert response.status_code == 200
        assert response.content.decode().count("LARGE-" if order == large else "SMALL-") >= (
            120 if order == large else 3
        )
        return len(captured)

    assert queries(large) == queries(small)


def test_detail_shows_what_is_held_and_the_buttons_the_role_allows(
    tenant, operator, manager, site, stocked
):
    order = new_order(tenant, site, stocked)
    allocate_order(tenant=tenant, order_id=order.pk)

    as_operator = signed_in("operator").get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="order-allocations"' in as_operator
    assert "S-100" in as_operator and "A-01" in as_operator
    assert 'data-testid="start-picking"' in as_operator
    assert 'data-testid="ship"' in as_operator
    assert 'data-testid="cancel"' not in as_operator
    assert 'data-testid="allocate"' not in as_operator

    as_manager = signed_in("manager").get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="cancel"' in as_manager


def test_allocate_answers_in_place_and_a_shortage_says_why(tenant, operator, site, stocked):
    client = signed_in("operator")
    order = new_order(tenant, site, stocked, quantity=4)
    short = new_order(tenant, site, stocked, quantity=500, reference="SO-BIG")

    response = client.post(
        f"/orders/{order.pk}/allocate/", {"idempotency_key": "form:a1"}, **htmx("order-panel")
    )
    assert response.status_code == 200
    assert "allocated" in response.content.decode()
    assert 'data-testid="order-allocations"' in response.content.decode()

    before = ledger_count(tenant)
    refused = client.post(
        f"/orders/{short.pk}/allocate/", {"idempotency_key": "form:a2"}, **htmx("order-panel")
    )
    assert refused.status_code == 422
    assert "enough" in refused.content.decode().lower()
    assert ledger_count(tenant) == before


def test_actions_without_htmx_redirect_with_a_message(tenant, manager, site, stocked):
    client = signed_in("manager")
    order = new_order(tenant, site, stocked)
    response = client.post(f"/orders/{order.pk}/allocate/", {"idempotency_key": "form:b1"})
    assert response.status_code == 302 and response.url == f"/orders/{order.pk}/"
    response = client.post(
        f"/orders/{order.pk}/cancel/", {"idempotency_key": "form:b2"}, follow=True
    )
    assert "cancelled" in response.content.decode()
    with tenant_context(tenant.id):
        assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
        assert all(row.reserved == 0 for row in Balance.objects.all())


def test_operators_may_not_cancel(tenant, operator, site, stocked):
    order = new_order(tenant, site, stocked)
    response = signed_in("operator").post(
        f"/orders/{order.pk}/cancel/", {"idempotency_key": "form:c1"}
    )
    assert response.status_code == 403
    with tenant_context(tenant.id):
        assert Order.objects.get(pk=order.pk).status == OrderStatus.OPEN


def test_inspectors_see_no_orders(tenant, inspector, site, stocked):
    order = new_order(tenant, site, stocked)
    client = signed_in("inspector")
    for path in ("/orders/", "/orders/new/", f"/orders/{order.pk}/", f"/orders/{order.pk}/pick/"):
        assert client.get(path).status_code == 403
    assert 'href="/orders/"' not in client.get("/").content.decode()


def test_another_tenants_orders_are_invisible(tenant, other_tenant, site, stocked):
    order = new_order(tenant, site, stocked)
    make_member(other_tenant, "olga", Role.MANAGER)
    client = signed_in("olga")
    assert "SO-1" not in client.get("/orders/").content.decode()
    assert client.get(f"/orders/{order.pk}/").status_code == 404
    assert client.get(f"/orders/{order.pk}/pick/").status_code == 404
    for action in ("allocate", "start-picking", "ship", "cancel"):
        response = client.post(f"/orders/{order.pk}/{action}/", {"idempotency_key": "form:x"})
        assert response.status_code == 404
    with tenant_context(tenant.id):
        assert Order.objects.get(pk=order.pk).status == OrderStatus.OPEN


def test_ids_too_large_for_the_database_are_not_found(operator, site):
    client = signed_in("operator")
    assert client.get(f"/orders/{2**64}/").status_code == 404
    assert client.get(f"/orders/{2**64}/pick/").status_code == 404
    response = client.post(f"/orders/{2**64}/ship/", {"idempotency_key": "form:big"})
    assert response.status_code == 404


# -- picking --------------------------------------------------------------------------


@pytest.fixture
def picking(tenant, operator, site, stocked):
    order = new_order(tenant, site, stocked, quantity=4)
    client = signed_in("operator")
    client.post(f"/orders/{order.pk}/allocate/", {"idempotency_key": "form:p1"})
    response = client.post(f"/orders/{order.pk}/start-picking/", {"idempotency_key": "form:p2"})
    assert response.status_code == 302 and response.url == f"/orders/{order.pk}/pick/"
    with tenant_context(tenant.id):
        pick = Pick.objects.get(order=order)
    return client, order, pick


def test_pick_screen_shows_the_bin_lot_and_quantity(picking):
    client, order, _ = picking
    html = client.get(f"/orders/{order.pk}/pick/").content.decode()
    assert 'data-testid="pick-bin">A-01<' in html
    assert 'data-testid="pick-lot">S-100<' in html
    assert "0 of 1 lines picked" in html


def step(client, order, pick, name, **fields):
    data = {"pick": pick.pk, "step": name, **fields}
    return client.post(f"/orders/{order.pk}/pick/", data, **htmx("pick-panel"))


def test_wrong_bin_or_lot_is_refused_in_place_and_writes_nothing(tenant, picking):
    client, order, pick = picking
    before = ledger_count(tenant)

    wrong_bin = step(client, order, pick, "bin", scan="A-02")
    assert wrong_bin.status_code == 422
    assert (
        "Wrong bin" in wrong_bin.content.decode() and "Go to bin A-01" in wrong_bin.content.decode()
    )

    wrong_lot = step(client, order, pick, "lot", bin_code="A-01", scan="S-999")
    assert wrong_lot.status_code == 422
    assert "Wrong lot" in wrong_lot.content.decode()

    # A forged last step with a wrong lot is refused by the service too.
    forged = step(
        client,
        order,
        pick,
        "quantity",
        bin_code="A-01",
        lot_code="S-999",
        quantity="4",
        idempotency_key="form:q0",
    )
    assert forged.status_code == 422
    too_many = step(
        client,
        order,
        pick,
        "quantity",
        bin_code="A-01",
        lot_code="S-100",
        quantity="5",
        idempotency_key="form:q1",
    )
    assert too_many.status_code == 422 and "Only 4 ea left" in too_many.content.decode()
    with tenant_context(tenant.id):
        assert Pick.objects.get(pk=pick.pk).picked == 0
    assert ledger_count(tenant) == before


def test_scanning_through_the_steps_picks_once_and_offers_ship(tenant, picking):
    client, order, pick = picking
    lot_step = step(client, order, pick, "bin", scan="a-01")
    assert lot_step.status_code == 200 and "Scan the lot" in lot_step.content.decode()
    quantity_step = step(client, order, pick, "lot", bin_code="a-01", scan="S-100")
    assert 'data-testid="confirm-pick"' in quantity_step.content.decode()

    confirm = {"bin_code": "a-01", "lot_code": "S-100", "quantity": "4"}
    first = step(client, order, pick, "quantity", idempotency_key="form:q2", **confirm)
    second = step(client, order, pick, "quantity", idempotency_key="form:q2", **confirm)

    assert first.status_code == 200 and "1 of 1 lines picked" in first.content.decode()
    assert 'data-testid="ship"' in first.content.decode()
    assert "nothing was picked twice" in second.content.decode()
    with tenant_context(tenant.id):
        assert Pick.objects.get(pk=pick.pk).picked == Decimal("4")

    shipped = client.post(f"/orders/{order.pk}/ship/", {"idempotency_key": "form:s1"})
    assert shipped.status_code == 302
    with tenant_context(tenant.id):
        assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
        (ship,) = LedgerEntry.objects.filter(kind="SHIP")
        assert ship.quantity == Decimal("-4")


def test_short_pick_needs_a_reason(tenant, picking):
    client, order, pick = picking
    response = step(
        client,
        order,
        pick,
        "short",
        bin_code="A-01",
        lot_code="S-100",
        quantity="1",
        short_reason="",
        idempotency_key="form:s9",
    )
    assert response.status_code == 422
    assert "Choose why" in response.content.decode()
    with tenant_context(tenant.id):
        assert Pick.objects.get(pk=pick.pk).short == 0


def test_a_short_pick_is_reported_and_the_order_says_why(tenant, picking):
    client, order, pick = picking
    # 20 of the lot are in A-01 and 4 are held: the 3 missing are held again from
    # the 16 free there (a damaged piece is replaced from the same bin).
    response = step(
        client,
        order,
        pick,
        "short",
        bin_code="A-01",
        lot_code="S-100",
        quantity="1",
        short_reason="DAMAGED",
        idempotency_key="form:s10",
    )
    assert response.status_code == 200
    assert "3 ea short; other stock was found" in response.content.decode()
    assert "1 of 2 lines picked" in response.content.decode()

    detail = client.get(f"/orders/{order.pk}/").content.decode()
    assert "1 of 2 lines picked" in detail
    assert "Damaged" in detail

"""In Chromium: pages work under the Content-Security-Policy, and an ended session
sends an htmx action to the full sign-in page and back."""

import re

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from inventory.catalog.services import create_product
from inventory.stock.receipts import receive_stock
from tests.conftest import PASSWORD, make_member, make_site
from warehouse.models import Location, LocationKind, Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True)

BLOCKED = re.compile(r"Content Security Policy|Refused to", re.IGNORECASE)


@pytest.fixture
def violations(page):
    """Console messages of everything the policy blocked on this page."""
    found = []
    page.on("console", lambda message: BLOCKED.search(message.text) and found.append(message.text))
    page.on("pageerror", lambda error: found.append(f"page error: {error}"))
    return found


@pytest.fixture
def stocked(tenant):
    """A warehouse with a receiving bin, a lot waiting for QC and one in stock."""
    warehouse = make_site(tenant, "DC1", bins=("A-01",))
    with tenant_context(tenant.id):
        Location.objects.create(
            tenant=tenant, warehouse=warehouse, code="RCV-01", kind=LocationKind.RECEIVING
        )
    cheese = create_product(tenant=tenant, sku="CHEESE-1", name="Aged cheddar", qc_required=True)
    bolts = create_product(tenant=tenant, sku="BOLT-8", name="Hex bolt M8")
    receive_stock(tenant=tenant, product=cheese, warehouse=warehouse, lot_code="LOT-7", quantity=5)
    receive_stock(tenant=tenant, product=bolts, warehouse=warehouse, lot_code="B-1", quantity=40)
    return warehouse


def sign_in(page, username):
    expect(page.get_by_role("heading", name="Sign in to Stockyard")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_screens_admin_and_api_docs_run_under_the_policy(
    live_server, page, violations, tenant, stocked
):
    make_member(tenant, "root", Role.MANAGER, is_staff=True, is_superuser=True)
    page.goto(live_server.url + "/login/")
    sign_in(page, "root")
    expect(page.get_by_test_id("home-heading")).to_be_visible()

    # htmx still works: the search swaps only the table.
    page.goto(live_server.url + "/stock/")
    page.get_by_label("Search products").fill("bolt")
    table = page.get_by_test_id("stock-table")
    expect(table).to_contain_text("BOLT-8")
    expect(table).not_to_contain_text("CHEESE-1")
    expect(page).to_have_url(re.compile(r"/stock/\?q=bolt"))

    # Bootstrap's JavaScript (dropdowns) still works.
    page.get_by_test_id("tenant-switcher").click()
    expect(page.get_by_role("heading", name="Switch tenant")).to_be_visible()

    for path in ("/receive/", "/warehouses/", "/team/", "/no-such-page/"):
        page.goto(live_server.url + path)
        expect(page.locator("h1").first).to_be_visible()

    page.goto(live_server.url + "/admin/")
    expect(page.get_by_role("heading", name="Tenants, people and sites")).to_be_visible()
    page.goto(live_server.url + "/admin/warehouse/membership/add/")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errornote")).to_be_visible()
    page.goto(live_server.url + "/admin/auth/user/")
    page.get_by_role("link", name="root").click()
    expect(page.get_by_role("heading", name="Change user")).to_be_visible()

    page.goto(live_server.url + "/api/v1/docs")
    # Swagger UI builds the page from the whole API's schema: give it time on a busy machine.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Stockyard", timeout=20_000)
    page.locator(".opblock-get .opblock-summary").first.click()
    expect(page.get_by_role("button", name="Try it out")).to_be_visible()

    assert violations == []


def test_qc_queue_runs_under_the_policy(live_server, page, violations, tenant, stocked):
    make_member(tenant, "quinn", Role.QC)
    page.goto(live_server.url + "/qc/")
    sign_in(page, "quinn")
    expect(page.get_by_test_id("lot-LOT-7")).to_be_visible()
    assert violations == []


def test_an_htmx_action_after_the_session_ended_goes_to_sign_in_and_back(
    live_server, page, tenant, stocked
):
    make_member(tenant, "quinn", Role.QC)
    page.goto(live_server.url + "/qc/?from=menu")
    sign_in(page, "quinn")
    row = page.get_by_test_id("lot-LOT-7")
    expect(row).to_be_visible()

    Session.objects.all().delete()
    row.get_by_role("button", name="Approve").click()

    # The whole page is the sign-in page, not a table row holding it.
    expect(page).to_have_url(re.compile(r"/login/\?next=/qc/%3Ffrom%3Dmenu$"))
    expect(page.locator("table")).to_have_count(0)
    sign_in(page, "quinn")

    expect(page).to_have_url(live_server.url + "/qc/?from=menu")
    row = page.get_by_test_id("lot-LOT-7")
    expect(row.get_by_role("button", name="Approve")).to_be_visible()
    row.get_by_role("button", name="Approve").click()
    expect(row.get_by_test_id("decision")).to_have_text("Approved")


def test_an_htmx_search_after_the_cookies_were_cleared_goes_to_sign_in_and_back(
    live_server, page, tenant, stocked
):
    make_member(tenant, "oscar", Role.OPERATOR)
    page.goto(live_server.url + "/stock/")
    sign_in(page, "oscar")
    expect(page.get_by_test_id("stock-table")).to_contain_text("BOLT-8")

    page.context.clear_cookies()
    page.get_by_label("Search products").fill("bolt")

    expect(page).to_have_url(re.compile(r"/login/\?next=/stock/"))
    expect(page.get_by_test_id("stock-table")).to_have_count(0)
    sign_in(page, "oscar")
    expect(page).to_have_url(re.compile(r"/stock/"))
    expect(page.get_by_test_id("stock-table")).to_contain_text("BOLT-8")


def test_a_locked_out_sign_in_says_so(live_server, page, operator):
    page.goto(live_server.url + "/login/")
    for _ in range(5):
        page.get_by_label("Username").fill("operator")
        page.get_by_label("Password").fill("wrong-password")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("login-locked")).to_have_text(
        "Too many failed sign-ins for this account from your address. Try again in 15 minutes."
    )
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("login-locked")).to_be_visible()

"""Sign in, land on home, switch tenant and sign out in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, make_member, make_site
from warehouse.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_in_switch_tenant_and_sign_out(live_server, page, screenshot, tenant, other_tenant):
    user = make_member(tenant, "maya", Role.MANAGER)
    make_member(other_tenant, "someone-else", Role.OPERATOR)
    from warehouse.models import Membership
    from warehouse.tenancy import tenant_context

    with tenant_context(other_tenant.id):
        Membership.objects.create(tenant=other_tenant, user=user, role=Role.OPERATOR)
    make_site(tenant, "ACME-DC", bins=("ACME-01",))
    make_site(other_tenant, "GLOBEX-DC", bins=("GLOBEX-01",))

    page.goto(live_server.url + "/warehouses/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/warehouses/$"))
    screenshot("login")
    expect(page.get_by_label("Username")).to_be_focused()
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(live_server.url + "/warehouses/")
    expect(page.get_by_text("ACME-01")).to_be_visible()
    page.get_by_role("link", name="Home").click()
    expect(page.get_by_test_id("home-heading")).to_have_text("Acme Logistics")
    expect(page.get_by_test_id("current-tenant")).to_have_text("Acme Logistics")
    screenshot("home")

    page.get_by_test_id("tenant-switcher").click()
    page.get_by_role("button", name=re.compile("Globex Storage")).click()
    expect(page.get_by_role("alert")).to_contain_text("Switched to Globex Storage as Operator.")
    expect(page.get_by_test_id("current-tenant")).to_have_text("Globex Storage")
    expect(page.get_by_test_id("home-heading")).to_have_text("Globex Storage")
    # The operator role in Globex has no Team entry; the manager role in Acme had one.
    expect(page.get_by_role("link", name="Team")).to_have_count(0)
    screenshot("switched")

    page.get_by_role("button", name=re.compile("Maya")).click()
    page.get_by_test_id("sign-out").click()
    expect(page).to_have_url(live_server.url + "/login/")
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))

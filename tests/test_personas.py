"""What each persona may open, and that another tenant's user sees nothing of Acme."""

import pytest
from django.test import Client

from tests.clients import signed_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_sign_in():
    response = Client().get("/warehouses/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/warehouses/"


def test_operator_lands_on_home_of_their_tenant(operator, acme_site):
    page = signed_in("operator").get("/").content.decode()
    assert "Acme Logistics" in page
    assert "You are working as <strong>Operator</strong>" in page


def test_operator_navigation_has_no_team_link(operator):
    page = signed_in("operator").get("/").content.decode()
    assert 'href="/warehouses/"' in page
    assert 'href="/team/"' not in page


def test_operator_is_refused_the_team_page_with_the_role_it_needs(operator):
    response = signed_in("operator").get("/team/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "This page needs the Manager or Admin role." in page
    assert "you are signed in as\n  <strong>Operator</strong>" in page


def test_inspector_is_refused_the_team_page(inspector):
    assert signed_in("inspector").get("/team/").status_code == 403


def test_manager_sees_the_team_of_their_tenant_only(
    manager, operator, inspector, other_tenant_user
):
    response = signed_in("manager").get("/team/")
    assert response.status_code == 200
    page = response.content.decode()
    for username in ("manager", "operator", "inspector"):
        assert f">{username}<" in page
    assert ">other<" not in page


def test_other_tenant_user_sees_nothing_of_the_first_tenant(
    other_tenant_user, tenant, acme_site, globex_site, operator
):
    client = signed_in("other")
    for path in ("/", "/warehouses/", "/team/"):
        page = client.get(path).content.decode()
        assert "Acme" not in page and "ACME" not in page, path
        assert "operator" not in page, path
    assert "GLOBEX-01" in client.get("/warehouses/").content.decode()


def test_other_tenant_user_cannot_switch_into_the_first_tenant(other_tenant_user, tenant):
    client = signed_in("other")
    response = client.post("/tenant/switch/", {"tenant": tenant.id}, follow=True)
    page = response.content.decode()
    assert "You are not a member of that tenant." in page
    assert "Globex Storage" in page and "Acme" not in page


def test_member_of_two_tenants_switches_between_them(tenant, other_tenant, manager, globex_site):
    from warehouse.models import Membership
    from warehouse.tenancy import tenant_context

    with tenant_context(other_tenant.id):
        Membership.objects.create(tenant=other_tenant, user=manager, role="operator")
    client = signed_in("manager")
    assert "Acme Logistics" in client.get("/").content.decode()
    response = client.post(
        "/tenant/switch/", {"tenant": other_tenant.id, "next": "/warehouses/"}, follow=True
    )
    assert response.redirect_chain == [("/warehouses/", 302)]
    page = response.content.decode()
    assert "Switched to Globex Storage as Operator." in page
    assert "GLOBEX-01" in page
    # The role follows the tenant: an operator in Globex may not see its team.
    assert client.get("/team/").status_code == 403


def test_switch_refuses_an_outside_redirect(tenant, manager):
    client = signed_in("manager")
    response = client.post("/tenant/switch/", {"tenant": tenant.id, "next": "https://evil.test/"})
    assert response["Location"] == "/"


def test_user_without_membership_gets_a_clear_403():
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(username="drifter", password=PASSWORD)
    response = signed_in("drifter").get("/")
    assert response.status_code == 403
    assert "not a member of any tenant" in response.content.decode()

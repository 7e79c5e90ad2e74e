"""Django admin: tenants for superusers, memberships of the current tenant only."""

import pytest
from django.test import Client

from tests.conftest import PASSWORD, make_member
from warehouse.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(tenant):
    return make_member(tenant, "root", Role.ADMIN, is_staff=True, is_superuser=True)


def admin_client():
    client = Client()
    assert client.login(username="root", password=PASSWORD)
    return client


def test_superuser_manages_tenants_users_and_memberships(superuser, tenant):
    client = admin_client()
    for path in (
        "/admin/",
        "/admin/warehouse/tenant/",
        "/admin/auth/user/",
        "/admin/warehouse/membership/",
        "/admin/warehouse/warehouse/",
    ):
        assert client.get(path).status_code == 200, path


def test_membership_list_shows_the_current_tenant_only(
    superuser, tenant, operator, other_tenant_user
):
    page = admin_client().get("/admin/warehouse/membership/").content.decode()
    assert "operator" in page
    assert "other" not in page


def test_adding_a_membership_in_admin_files_it_under_the_current_tenant(superuser, tenant):
    from django.contrib.auth import get_user_model

    newcomer = get_user_model().objects.create_user(username="newcomer", password=PASSWORD)
    response = admin_client().post(
        "/admin/warehouse/membership/add/", {"user": newcomer.id, "role": Role.QC}
    )
    assert response.status_code == 302
    client = Client()
    client.login(username="newcomer", password=PASSWORD)
    page = client.get("/").content.decode()
    assert "Acme Logistics" in page and "QC inspector" in page


def test_operators_cannot_enter_the_admin(operator):
    client = Client()
    client.login(username="operator", password=PASSWORD)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]

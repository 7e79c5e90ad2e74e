"""The inventory admin: the current tenant's catalog, and API tokens whose secret shows once."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from inventory.models import ApiToken
from inventory.tokens import find_api_token
from tests.conftest import PASSWORD, make_member
from warehouse.models import Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(tenant):
    user = make_member(tenant, "boss", Role.ADMIN, is_staff=True, is_superuser=True)
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_a_token_created_in_the_admin_shows_its_secret_once_and_works(admin_client, tenant, flour):
    response = admin_client.post(
        "/admin/inventory/apitoken/add/", {"name": "POS", "scopes": '["stock:read"]'}, follow=True
    )
    assert response.status_code == 200
    (message,) = [str(m) for m in response.context["messages"] if "secret" in str(m)]
    secret = message.rsplit(" ", 1)[-1]
    token = find_api_token(secret)
    assert token is not None and token.tenant_id == tenant.id
    with tenant_context(tenant.id):
        stored = ApiToken.objects.get()
    assert stored.created_by == get_user_model().objects.get(username="boss")
    assert (
        secret
        not in admin_client.get(f"/admin/inventory/apitoken/{stored.pk}/change/").content.decode()
    )
    page = admin_client.get("/admin/inventory/product/").content.decode()
    assert "FLOUR-25" in page

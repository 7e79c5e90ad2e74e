"""A token made in Django admin works with the API, its scopes included."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from inventory.models import ApiToken
from tests.api.conftest import ApiClient
from tests.conftest import PASSWORD
from warehouse.models import Membership, Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(tenant):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", PASSWORD)
    with tenant_context(tenant.pk):
        Membership.objects.create(tenant=tenant, user=user, role=Role.ADMIN)
    client = Client()
    assert client.login(username="boss", password=PASSWORD)
    return client


def test_admin_creates_a_token_and_shows_its_secret_once(admin_client, tenant):
    response = admin_client.post(
        "/admin/inventory/apitoken/add/", {"name": "ERP", "scopes": '["read"]'}, follow=True
    )
    assert response.status_code == 200
    secret = re.search(r"sy_[A-Za-z0-9_-]{20,}", response.content.decode()).group(0)
    with tenant_context(tenant.pk):
        token = ApiToken.objects.get()
    assert (token.name, token.scopes, token.tenant_id) == ("ERP", ["read"], tenant.pk)
    assert token.secret_hash != secret
    erp = ApiClient(secret)
    assert erp.get("/products").status_code == 200
    assert erp.post("/products", {"sku": "X", "name": "X"}).status_code == 403
    listing = admin_client.get("/admin/inventory/apitoken/").content.decode()
    assert "ERP" in listing and secret not in listing

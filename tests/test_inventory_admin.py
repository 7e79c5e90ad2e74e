"""The inventory admin: the current tenant's catalog, and API tokens whose secret shows once."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from inventory.core.tokens import find_api_token
from inventory.models import ApiToken
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
        "/admin/inventory/apitoken/add/", {"name": "POS", "scopes": '["read"]'}, follow=True
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


def test_reservations_and_orders_are_listed_read_only(admin_client, tenant, site, flour):
    from inventory.orders.services import allocate_order, create_order
    from inventory.reservations.requests import LineRequest
    from inventory.reservations.selectors import get_reservation
    from inventory.stock.receipts import receive_stock

    receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="F-77", quantity="10")
    order = create_order(
        tenant=tenant,
        warehouse=site,
        reference="SO-4711",
        customer="Bakery Ltd",
        lines=[LineRequest(product=flour, quantity="4")],
    )
    reservation = allocate_order(tenant=tenant, order_id=order.pk).reservation

    listing = admin_client.get("/admin/inventory/order/").content.decode()
    assert "SO-4711" in listing and "Bakery Ltd" in listing
    detail = admin_client.get(f"/admin/inventory/reservation/{reservation.pk}/change/")
    page = detail.content.decode()
    assert detail.status_code == 200
    assert "F-77" in page and "4.000" in page  # the lot it holds, and how much
    assert admin_client.get("/admin/inventory/reservation/add/").status_code == 403
    deleted = admin_client.post(
        f"/admin/inventory/reservation/{reservation.pk}/delete/", {"post": "yes"}
    )
    assert deleted.status_code == 403
    with tenant_context(tenant.id):
        assert get_reservation(tenant=tenant, reservation_id=reservation.pk)

"""A product's GTIN in the admin: typed or scanned in any GS1 length, kept as 14 digits."""

import pytest
from django.test import Client

from inventory.catalog.services import create_product
from inventory.models import Product
from tests.conftest import PASSWORD, make_member
from warehouse.models import Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db

GTIN = "09501101020917"


@pytest.fixture
def admin_client(tenant):
    make_member(tenant, "boss", Role.ADMIN, is_staff=True, is_superuser=True)
    client = Client()
    assert client.login(username="boss", password=PASSWORD)
    return client


def product_data(**changes):
    data = {"sku": "RICE-5", "name": "Rice", "uom": "kg", "unit_cost": "0", "attributes": "{}"}
    return {**data, **changes}


def field_errors(response, name):
    return [str(error) for error in response.context["adminform"].form.errors.get(name, [])]


def test_a_gtin_13_typed_in_the_admin_is_stored_as_14_digits(admin_client, tenant):
    response = admin_client.post(
        "/admin/inventory/product/add/", product_data(gtin="9501101020917")
    )
    assert response.status_code == 302
    with tenant_context(tenant.id):
        assert Product.objects.get(sku="RICE-5").gtin == GTIN
    listing = admin_client.get("/admin/inventory/product/", {"q": GTIN}).content.decode()
    assert GTIN in listing


def test_a_wrong_check_digit_is_an_error_on_the_field(admin_client, tenant):
    response = admin_client.post(
        "/admin/inventory/product/add/", product_data(gtin=GTIN[:-1] + "8")
    )
    assert response.status_code == 200
    assert field_errors(response, "gtin") == [
        "A GTIN has 8, 12, 13 or 14 digits ending in a valid check digit."
    ]
    with tenant_context(tenant.id):
        assert not Product.objects.exists()


def test_a_gtin_of_another_product_is_an_error_not_a_crash(admin_client, tenant):
    create_product(tenant=tenant, sku="OTHER", name="Other", gtin=GTIN)
    response = admin_client.post("/admin/inventory/product/add/", product_data(gtin=GTIN))
    assert response.status_code == 200
    assert field_errors(response, "gtin") == ["Product with this GTIN already exists."]
    with tenant_context(tenant.id):
        assert list(Product.objects.values_list("sku", flat=True)) == ["OTHER"]

"""Personas and tenants shared by the cross-app tests.

``operator``, ``inspector`` and ``manager`` work in ``tenant`` (Acme);
``other_tenant_user`` works only in ``other_tenant`` (Globex) and must never
see anything of Acme.
"""

import pytest
from django.contrib.auth import get_user_model

from warehouse.models import Location, LocationKind, Membership, Role, Tenant, Warehouse
from warehouse.tenancy import tenant_context

PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def tenant(db):
    return Tenant.objects.create(slug="acme", name="Acme Logistics")


@pytest.fixture
def other_tenant(db):
    return Tenant.objects.create(slug="globex", name="Globex Storage")


def make_member(tenant, username, role, **extra):
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, first_name=username.title(), **extra
    )
    with tenant_context(tenant.id):
        Membership.objects.create(tenant=tenant, user=user, role=role)
    return user


def make_site(tenant, code, bins=("A-01", "A-02")):
    with tenant_context(tenant.id):
        warehouse = Warehouse.objects.create(tenant=tenant, code=code, name=f"{code} site")
        for sequence, bin_code in enumerate(bins):
            Location.objects.create(
                tenant=tenant,
                warehouse=warehouse,
                code=bin_code,
                kind=LocationKind.STORAGE,
                pick_sequence=sequence,
            )
    return warehouse


@pytest.fixture
def operator(tenant):
    return make_member(tenant, "operator", Role.OPERATOR)


@pytest.fixture
def inspector(tenant):
    return make_member(tenant, "inspector", Role.QC)


@pytest.fixture
def manager(tenant):
    return make_member(tenant, "manager", Role.MANAGER)


@pytest.fixture
def other_tenant_user(other_tenant):
    return make_member(other_tenant, "other", Role.MANAGER)


@pytest.fixture
def acme_site(tenant):
    return make_site(tenant, "ACME-DC", bins=("ACME-01", "ACME-02"))


@pytest.fixture
def globex_site(other_tenant):
    return make_site(other_tenant, "GLOBEX-DC", bins=("GLOBEX-01",))


# -- inventory -----------------------------------------------------------------


@pytest.fixture
def site(tenant):
    """Acme's DC: a receiving bin (created with the warehouse) and two storage bins."""
    from inventory.catalog.services import create_location, create_warehouse

    warehouse = create_warehouse(tenant=tenant, code="DC1", name="Acme DC")
    for sequence, code in enumerate(("A-01", "A-02"), start=1):
        create_location(tenant=tenant, warehouse=warehouse, code=code, pick_sequence=sequence)
    return warehouse


def bin_of(tenant, warehouse, code):
    from inventory.catalog.selectors import get_location_by_code

    with tenant_context(tenant.id):
        return get_location_by_code(warehouse, code)


@pytest.fixture
def flour(tenant):
    """A product that needs no QC, weighed in kilograms, with a shelf life."""
    from inventory.catalog.services import create_product

    return create_product(
        tenant=tenant, sku="FLOUR-25", name="Wheat flour 25 kg", uom="kg", shelf_life_days=180
    )


@pytest.fixture
def vaccine(tenant):
    """A product every lot of which must pass QC, counted in units."""
    from inventory.catalog.services import create_product

    return create_product(
        tenant=tenant, sku="VAX-10", name="Vaccine vial", uom="ea", qc_required=True
    )

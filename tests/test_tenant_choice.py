"""A new session starts in the tenant the user switched to most recently.

A user who never switched starts where their role is broadest, then in the
first tenant by name.
"""

import re

import pytest
from django.test import Client

from tests.conftest import PASSWORD, make_member
from warehouse.models import Membership, Role, Tenant
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def harbor(db):
    return Tenant.objects.create(slug="harbor", name="Harbor Freight Storage")


@pytest.fixture
def northwind(db):
    return Tenant.objects.create(slug="northwind", name="Northwind Traders")


@pytest.fixture
def manager(harbor, northwind):
    """Manager in Northwind, operator in Harbor, which comes first by name."""
    user = make_member(northwind, "manager", Role.MANAGER)
    with tenant_context(harbor.id):
        Membership.objects.create(tenant=harbor, user=user, role=Role.OPERATOR)
    return user


def sign_in(username="manager"):
    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def current_tenant(client) -> str:
    page = client.get("/").content.decode()
    return re.search(r'data-testid="current-tenant">([^<]+)<', page).group(1)


def switch(client, tenant):
    return client.post("/tenant/switch/", {"tenant": tenant.id})


def last_used(tenant, user):
    with tenant_context(tenant.id):
        return Membership.objects.get(tenant=tenant, user=user).last_used_at


def test_a_user_who_never_switched_starts_where_their_role_is_broadest(manager):
    # Harbor comes first by name, but there the manager is only an operator.
    assert current_tenant(sign_in()) == "Northwind Traders"


def test_equal_roles_start_in_the_first_tenant_by_name(harbor, northwind):
    user = make_member(northwind, "picker", Role.OPERATOR)
    with tenant_context(harbor.id):
        Membership.objects.create(tenant=harbor, user=user, role=Role.OPERATOR)

    assert current_tenant(sign_in("picker")) == "Harbor Freight Storage"


def test_the_next_session_starts_in_the_tenant_switched_to(manager, harbor):
    client = sign_in()
    switch(client, harbor)
    client.post("/logout/")

    assert current_tenant(sign_in()) == "Harbor Freight Storage"


def test_switching_back_is_remembered_too(manager, harbor, northwind):
    client = sign_in()
    switch(client, northwind)
    switch(client, harbor)
    client.post("/logout/")

    assert current_tenant(sign_in()) == "Harbor Freight Storage"


def test_the_choice_is_per_user(manager, harbor, northwind):
    colleague = make_member(harbor, "colleague", Role.OPERATOR)
    with tenant_context(northwind.id):
        Membership.objects.create(tenant=northwind, user=colleague, role=Role.OPERATOR)
    switch(sign_in(), northwind)

    assert current_tenant(sign_in("colleague")) == "Harbor Freight Storage"


def test_the_switch_stamps_the_target_tenants_membership_only(manager, harbor, northwind):
    switch(sign_in(), northwind)

    assert last_used(northwind, manager) is not None
    assert last_used(harbor, manager) is None


def test_a_switch_to_a_foreign_tenant_records_nothing(manager, harbor, northwind):
    stranger = Tenant.objects.create(slug="globex", name="Globex Storage")
    make_member(stranger, "other", Role.ADMIN)
    client = sign_in()

    switch(client, stranger)

    assert current_tenant(client) == "Northwind Traders"
    assert last_used(harbor, manager) is None and last_used(northwind, manager) is None
    with tenant_context(stranger.id):
        assert not Membership.objects.filter(last_used_at__isnull=False).exists()


def test_a_remembered_tenant_that_was_deactivated_is_skipped(manager, northwind):
    switch(sign_in(), northwind)
    Tenant.objects.filter(pk=northwind.pk).update(is_active=False)

    assert current_tenant(sign_in()) == "Harbor Freight Storage"


def test_a_remembered_membership_that_was_removed_is_skipped(manager, northwind):
    switch(sign_in(), northwind)
    with tenant_context(northwind.id):
        Membership.objects.filter(user=manager).delete()

    assert current_tenant(sign_in()) == "Harbor Freight Storage"

"""Tenant isolation enforced by PostgreSQL, exercised as the runtime role."""

import pytest
from django.db import IntegrityError, ProgrammingError, connection, connections
from django.test import Client

from tests.conftest import PASSWORD
from tests.test_rls_catalog import tenant_tables
from warehouse.models import Location, Membership, Warehouse
from warehouse.tenancy import current_tenant_id, tenant_context

pytestmark = pytest.mark.django_db


def count(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def test_runtime_role_is_not_superuser_owner_or_bypassrls():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb "
            "FROM pg_roles WHERE rolname = current_user"
        )
        user, is_super, bypasses, creates_roles, creates_dbs = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE pg_get_userbyid(c.relowner) = current_user "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
        )
        owned = cursor.fetchone()[0]
    assert user == "stockyard_app"
    assert (is_super, bypasses, creates_roles, creates_dbs) == (False, False, False, False)
    assert owned == 0


def test_no_tenant_context_sees_no_rows_in_any_tenant_table(acme_site, globex_site, operator):
    tables = [name for name, *_ in tenant_tables()]
    with tenant_context(None):
        assert {table: count(table) for table in tables} == dict.fromkeys(tables, 0)
    # Outside any transaction-local setting the same holds.
    assert current_tenant_id() is None
    assert Warehouse.objects.count() == 0


def test_tenant_sees_only_its_own_rows(tenant, other_tenant, acme_site, globex_site):
    with tenant_context(tenant.id):
        assert list(Warehouse.objects.values_list("code", flat=True)) == ["ACME-DC"]
        assert sorted(Location.objects.values_list("code", flat=True)) == ["ACME-01", "ACME-02"]
        assert count("warehouse_location") == 2
    with tenant_context(other_tenant.id):
        assert list(Warehouse.objects.values_list("code", flat=True)) == ["GLOBEX-DC"]
        assert count("warehouse_location") == 1


def test_writing_a_row_for_another_tenant_is_refused(tenant, other_tenant):
    with (
        pytest.raises(ProgrammingError, match="row-level security"),
        tenant_context(tenant.id),
    ):
        Warehouse.objects.create(tenant=other_tenant, code="SNEAKY", name="Not mine")
    with tenant_context(other_tenant.id):
        assert Warehouse.objects.filter(code="SNEAKY").count() == 0


def test_updating_or_deleting_another_tenants_rows_touches_nothing(
    tenant, other_tenant, globex_site
):
    with tenant_context(tenant.id), connection.cursor() as cursor:
        cursor.execute("UPDATE warehouse_warehouse SET name = 'hijacked'")
        assert cursor.rowcount == 0
        cursor.execute("DELETE FROM warehouse_location")
        assert cursor.rowcount == 0
    with tenant_context(other_tenant.id):
        assert Warehouse.objects.get().name == "GLOBEX-DC site"
        assert Location.objects.count() == 1


def test_moving_a_row_into_another_tenant_is_refused(tenant, other_tenant, acme_site):
    with (
        pytest.raises(ProgrammingError, match="row-level security"),
        tenant_context(tenant.id),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE warehouse_warehouse SET tenant_id = %s WHERE id = %s",
            [other_tenant.id, acme_site.id],
        )


def test_a_row_referencing_another_tenants_row_is_refused(tenant, globex_site):
    with (
        pytest.raises(IntegrityError, match="warehouse_location_warehouse_id_tenant_fk"),
        tenant_context(tenant.id),
    ):
        Location.objects.create(tenant=tenant, warehouse_id=globex_site.id, code="X-01")


def test_nested_context_restores_the_outer_tenant(tenant, other_tenant):
    with tenant_context(tenant.id):
        with tenant_context(other_tenant.id):
            assert current_tenant_id() == other_tenant.id
        assert current_tenant_id() == tenant.id
    assert current_tenant_id() is None


def test_users_read_their_own_memberships_across_tenants_but_nobody_elses(
    tenant, other_tenant, manager, other_tenant_user
):
    with tenant_context(other_tenant.id):
        Membership.objects.create(tenant=other_tenant, user=manager, role="operator")
    with tenant_context(None, user_id=manager.id):
        assert sorted(Membership.objects.values_list("tenant__slug", flat=True)) == [
            "acme",
            "globex",
        ]
    with tenant_context(None, user_id=other_tenant_user.id):
        assert list(Membership.objects.values_list("user__username", flat=True)) == ["other"]


def test_alternating_tenants_over_one_persistent_connection_never_mix(
    operator, other_tenant_user, acme_site, globex_site
):
    acme, globex = Client(), Client()
    acme.login(username="operator", password=PASSWORD)
    globex.login(username="other", password=PASSWORD)
    backend_pids = set()
    for _ in range(5):
        for client, own, foreign in (
            (acme, "ACME-01", "GLOBEX-01"),
            (globex, "GLOBEX-01", "ACME-01"),
        ):
            page = client.get("/warehouses/").content.decode()
            assert own in page
            assert foreign not in page
            # The setting ended with the request's transaction: the connection
            # that served it now acts for nobody.
            assert current_tenant_id() is None
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend_pids.add(cursor.fetchone()[0])
    assert len(backend_pids) == 1, "the requests should have shared one connection"


def test_nested_context_for_the_same_tenant_keeps_it_without_setting_it_again(
    tenant, other_tenant, django_assert_num_queries
):
    with tenant_context(tenant.id):
        # The savepoint and its release only.
        with django_assert_num_queries(2), tenant_context(tenant.id):
            pass
        with tenant_context(tenant.id):
            with tenant_context(other_tenant.id):
                assert current_tenant_id() == other_tenant.id
                with tenant_context(other_tenant.id):
                    assert current_tenant_id() == other_tenant.id
            assert current_tenant_id() == tenant.id
        with tenant_context(None):
            assert current_tenant_id() is None
            with tenant_context(tenant.id):
                assert current_tenant_id() == tenant.id
            assert current_tenant_id() is None
        assert current_tenant_id() == tenant.id
    assert current_tenant_id() is None

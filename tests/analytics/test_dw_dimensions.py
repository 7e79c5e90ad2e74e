"""SCD2 dimensions: versions closed and opened by one statement, and what the database refuses."""

import datetime

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connections, transaction

from analytics.dw import update_dimension, update_dimensions
from inventory.catalog.services import create_warehouse
from inventory.models import Product
from inventory.orders.services import create_order
from inventory.reservations.requests import LineRequest
from tests.analytics.conftest import DW_DATABASES
from warehouse.models import Warehouse
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True, databases=DW_DATABASES)

T0 = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(hours=1)
T2 = T0 + datetime.timedelta(hours=2)


def versions(table, key_column, key, using="maintenance"):
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM dw.{table} WHERE {key_column} = %s ORDER BY valid_from",
            [key],
        )
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def tuple_versions(table):
    """Every row's physical version (``xmin``, ``ctid``): any write changes them."""
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(f"SELECT id, xmin::text, ctid::text FROM dw.{table} ORDER BY id")
        return cursor.fetchall()


def test_a_changed_attribute_closes_the_old_row_and_opens_a_new_one(clean_dw, tenant, flour):
    assert update_dimension("product", at=T0).opened == 1
    with tenant_context(tenant.id):
        Product.objects.filter(pk=flour.pk).update(name="Wheat flour, type 550")

    changes = update_dimension("product", at=T1)

    assert (changes.closed, changes.opened) == (1, 1)
    old, new = versions("dim_product", "product_id", flour.pk)
    assert (old["name"], old["valid_from"], old["valid_to"], old["is_current"]) == (
        "Wheat flour 25 kg",
        T0,
        T1,
        False,
    )
    assert (new["name"], new["valid_from"], new["valid_to"], new["is_current"]) == (
        "Wheat flour, type 550",
        T1,
        None,
        True,
    )
    assert new["sku"] == "FLOUR-25" and new["tenant_id"] == tenant.id
    assert (old["period"].lower, old["period"].upper) == (T0, T1)
    assert (new["period"].lower, new["period"].upper) == (T1, None)


def test_an_unchanged_source_writes_nothing(clean_dw, tenant, flour, vaccine, site):
    with tenant_context(tenant.id):
        create_order(
            tenant=tenant,
            warehouse=site,
            reference="SO-1",
            customer="Bakery  Smith",
            lines=[LineRequest(flour, 1)],
        )
    first = update_dimensions()
    assert {name: change.opened for name, change in first.items()} == {
        "product": 2,
        "warehouse": 1,
        "customer": 1,
    }
    before = {
        table: tuple_versions(table) for table in ("dim_product", "dim_warehouse", "dim_customer")
    }

    again = update_dimensions()

    assert {name: (change.closed, change.opened) for name, change in again.items()} == {
        "product": (0, 0),
        "warehouse": (0, 0),
        "customer": (0, 0),
    }
    assert {table: tuple_versions(table) for table in before} == before


def test_a_new_key_gets_its_first_row_without_closing_any(clean_dw, tenant, site):
    update_dimension("warehouse", at=T0)
    added = create_warehouse(tenant=tenant, code="DC2", name="Second DC")
    changes = update_dimension("warehouse", at=T1)
    assert (changes.closed, changes.opened) == (0, 1)
    [row] = versions("dim_warehouse", "warehouse_id", added.pk)
    assert (row["code"], row["is_current"], row["valid_from"]) == ("DC2", True, T1)
    with tenant_context(tenant.id):
        Warehouse.objects.filter(pk=site.pk).update(time_zone="Europe/Berlin")
    assert update_dimension("warehouse", at=T2) == type(changes)(closed=1, opened=1)
    assert [row["time_zone"] for row in versions("dim_warehouse", "warehouse_id", site.pk)] == [
        "UTC",
        "Europe/Berlin",
    ]


def test_customers_are_keyed_by_their_folded_name(clean_dw, tenant, site, flour):
    for reference, customer in (("SO-1", "Bakery Smith"), ("SO-2", "  BAKERY   smith ")):
        create_order(
            tenant=tenant,
            warehouse=site,
            reference=reference,
            customer=customer,
            lines=[LineRequest(flour, 1)],
        )
    update_dimension("customer", at=T0)
    [row] = versions("dim_customer", "customer_key", "bakery smith")
    # The latest order's spelling, spaces tidied.
    assert (row["name"], row["is_current"]) == ("BAKERY smith", True)


def test_the_app_role_reads_only_its_tenants_dimension_rows(clean_dw, tenant, other_tenant, flour):
    from inventory.catalog.services import create_product

    rice = create_product(tenant=other_tenant, sku="RICE-5", name="Rice", uom="kg")
    update_dimension("product", at=T0)
    with tenant_context(tenant.id):
        assert [
            row["product_id"]
            for row in versions("dim_product", "product_id", flour.pk, using="default")
        ] == [flour.pk]
        assert versions("dim_product", "product_id", rice.pk, using="default") == []
    with tenant_context(None):
        assert versions("dim_product", "product_id", flour.pk, using="default") == []


def insert_version(valid_from, valid_to, *, product_id, tenant_id):
    with transaction.atomic(using="maintenance"), connections["maintenance"].cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO dw.dim_product (tenant_id, product_id, sku, name, uom, unit_cost,
                                        qc_required, is_active, valid_from, valid_to, is_current)
            VALUES (%s, %s, 'X-1', 'X', 'ea', 0, false, true, %s, %s, %s)
            """,
            [tenant_id, product_id, valid_from, valid_to, valid_to is None],
        )


def test_overlapping_periods_of_one_key_are_refused(clean_dw, tenant, flour):
    update_dimension("product", at=T1)  # current from T1
    # A closed version reaching into the current one's period.
    with pytest.raises(IntegrityError, match="dim_product_periods_do_not_overlap"):
        insert_version(T0, T2, product_id=flour.pk, tenant_id=tenant.id)
    # One ending where the current one starts does not overlap: periods are [from, to).
    insert_version(T0, T1, product_id=flour.pk, tenant_id=tenant.id)
    # Another tenant's key of the same number is another key.
    insert_version(T0, T2, product_id=flour.pk, tenant_id=tenant.id + 1000)


def test_a_second_current_row_of_one_key_is_refused(clean_dw, tenant, flour):
    update_dimension("product", at=T1)
    # As the constraints stand, two open periods of one key overlap.
    with pytest.raises(IntegrityError):
        insert_version(T2, None, product_id=flour.pk, tenant_id=tenant.id)
    # Without the EXCLUDE constraint (dropped in a transaction that is rolled
    # back), the current-row index refuses it on its own.
    with transaction.atomic(using="owner"), connections["owner"].cursor() as cursor:
        cursor.execute(
            "ALTER TABLE dw.dim_product DROP CONSTRAINT dim_product_periods_do_not_overlap"
        )
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.id)])
        with (
            pytest.raises(IntegrityError, match="dim_product_current_key"),
            transaction.atomic(using="owner"),
        ):
            cursor.execute(
                """
                    INSERT INTO dw.dim_product (tenant_id, product_id, sku, name, uom,
                                                unit_cost, qc_required, is_active, valid_from)
                    VALUES (%s, %s, 'X-1', 'X', 'ea', 0, false, true, %s)
                    """,
                [tenant.id, flour.pk, T2],
            )
        transaction.set_rollback(True, using="owner")
    assert len(versions("dim_product", "product_id", flour.pk)) == 1


def test_the_command_updates_every_dimension(clean_dw, tenant, flour, site, capsys):
    call_command("dw_dimensions")
    output = capsys.readouterr().out
    assert "product: closed 0, opened 1" in output
    assert "warehouse: closed 0, opened 1" in output
    assert len(versions("dim_product", "product_id", flour.pk)) == 1

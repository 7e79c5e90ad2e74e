"""The ledger as the database keeps it: append-only, partitioned by month, closed partitions."""

import datetime

import pytest
from django.db import IntegrityError, ProgrammingError, connection, connections, transaction
from django.utils import timezone

from config.database import ROLE_NAMES
from inventory.ledger.partitions import (
    DEFAULT_PARTITION,
    add_months,
    ensure_ledger_partitions,
    partition_name,
)
from inventory.stock.movements import adjust_stock
from inventory.stock.receipts import receive_stock
from tests.conftest import bin_of
from warehouse.tenancy import tenant_context

EVERY_ROLE = ["default", "owner", "maintenance"]


def partition_of(entry_id, using="default"):
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM inventory_ledgerentry WHERE id = %s", [entry_id]
        )
        return cursor.fetchone()[0]


def middle_of_month(months_from_now):
    month = add_months(timezone.now().date().replace(day=1), months_from_now)
    return datetime.datetime(month.year, month.month, 15, 12, tzinfo=datetime.UTC)


@pytest.mark.django_db
def test_entries_land_in_the_partition_of_their_month_or_the_default_one(tenant, site, flour):
    receipt = receive_stock(
        tenant=tenant, product=flour, warehouse=site, lot_code="F", quantity=100
    )
    expected = {}
    for months in (-3, -1, 0, 2):
        when = middle_of_month(months)
        entry = adjust_stock(
            tenant=tenant,
            lot=receipt.lot,
            location=receipt.location,
            quantity_delta=1,
            reason="routing",
            occurred_at=when,
        )
        expected[entry.id] = partition_name(when.date())
    for when in (
        datetime.datetime(2099, 6, 15, tzinfo=datetime.UTC),
        datetime.datetime(1990, 1, 1, tzinfo=datetime.UTC),
    ):
        entry = adjust_stock(
            tenant=tenant,
            lot=receipt.lot,
            location=receipt.location,
            quantity_delta=1,
            reason="far away",
            occurred_at=when,
        )
        expected[entry.id] = DEFAULT_PARTITION
    with tenant_context(tenant.id):
        assert {entry_id: partition_of(entry_id) for entry_id in expected} == expected


@pytest.mark.django_db(databases=["default", "owner"])
def test_partition_upkeep_creates_the_coming_months_once():
    today = timezone.now().date()
    first = ensure_ledger_partitions(using="owner", months_ahead=6, today=today)
    # migrate already made the default window (3 months ahead); 3 more are new.
    assert first.created == [partition_name(add_months(today.replace(day=1), n)) for n in (4, 5, 6)]
    again = ensure_ledger_partitions(using="owner", months_ahead=6, today=today)
    assert again.created == []
    assert again.skipped == []
    assert len(again.existing) == len(first.existing) + 3


@pytest.mark.django_db
def test_the_app_role_cannot_read_or_write_partitions_directly(tenant, site, flour):
    receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="F", quantity=1)
    month_partition = partition_name(timezone.now().date())
    for table in (month_partition, DEFAULT_PARTITION):
        with (
            pytest.raises(ProgrammingError, match="permission denied"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"SELECT count(*) FROM {table}")


@pytest.mark.django_db
def test_partitions_are_closed_to_app_and_maintenance_roles():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, r.rolname, has_table_privilege(r.oid, c.oid, 'SELECT,INSERT')
              FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             CROSS JOIN pg_roles r
             WHERE i.inhparent = 'inventory_ledgerentry'::regclass AND r.rolname = ANY(%s)
            """,
            [[ROLE_NAMES["app"], ROLE_NAMES["maintenance"]]],
        )
        rows = cursor.fetchall()
    assert len(rows) >= 2 * 16
    assert [row for row in rows if row[2]] == []


@pytest.mark.django_db
def test_the_ledger_has_a_brin_index_on_its_timestamp_and_rls_on_the_parent():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'inventory_ledgerentry' "
            "AND indexname = 'ledger_occurred_brin'"
        )
        assert "USING brin (occurred_at)" in cursor.fetchone()[0]
        cursor.execute(
            "SELECT relkind, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE oid = 'inventory_ledgerentry'::regclass"
        )
        assert cursor.fetchone() == ("p", True, True)


@pytest.mark.django_db(transaction=True, databases=EVERY_ROLE)
def test_no_application_role_may_update_or_delete_a_ledger_entry(tenant, site, flour):
    receipt = receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="F", quantity=5)
    entry_id = receipt.entry.id
    statements = [
        "UPDATE inventory_ledgerentry SET quantity = 500 WHERE id = %s",
        "DELETE FROM inventory_ledgerentry WHERE id = %s",
    ]
    for statement in statements:
        # app and maintenance have lost the privilege outright ...
        for alias in ("default", "maintenance"):
            with (
                pytest.raises(ProgrammingError, match="permission denied"),
                tenant_context(tenant.id, using=alias),
                connections[alias].cursor() as cursor,
            ):
                cursor.execute(statement, [entry_id])
        # ... and the owner, who keeps privileges, meets the trigger. The owner
        # is subject to row-level security too, hence the tenant context.
        with (
            pytest.raises(IntegrityError, match="append-only"),
            tenant_context(tenant.id, using="owner"),
            connections["owner"].cursor() as cursor,
        ):
            cursor.execute(statement, [entry_id])
    with tenant_context(tenant.id, using="owner"), connections["owner"].cursor() as cursor:
        cursor.execute("SELECT quantity FROM inventory_ledgerentry WHERE id = %s", [entry_id])
        assert cursor.fetchone()[0] == 5
    # The trigger sits on every partition, so going around the parent is refused too.
    partition = partition_of(entry_id, using="maintenance")
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(using="owner"),
        connections["owner"].cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {partition}")


@pytest.mark.django_db(transaction=True, databases=EVERY_ROLE)
def test_upkeep_leaves_a_month_alone_whose_entries_sit_in_the_default_partition(
    tenant, site, flour
):
    receipt = receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="F", quantity=5)
    far = datetime.datetime(2090, 3, 10, tzinfo=datetime.UTC)
    entry = adjust_stock(
        tenant=tenant,
        lot=receipt.lot,
        location=bin_of(tenant, site, "RECEIVING"),
        quantity_delta=1,
        reason="far",
        occurred_at=far,
    )
    upkeep = ensure_ledger_partitions(
        using="owner", months_back=0, months_ahead=0, today=far.date()
    )
    assert upkeep.skipped == [partition_name(far.date())]
    assert partition_of(entry.id, using="maintenance") == DEFAULT_PARTITION
    # An empty month next to it is still created.
    upkeep = ensure_ledger_partitions(
        using="owner", months_back=0, months_ahead=0, today=datetime.date(2090, 4, 1)
    )
    assert upkeep.created == ["inventory_ledgerentry_y2090m04"]


@pytest.mark.django_db
def test_another_tenant_sees_none_of_the_ledger_balances_or_operations(
    tenant, other_tenant, site, flour
):
    receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="F", quantity=3)
    tables = ["inventory_ledgerentry", "inventory_balance", "inventory_operation", "inventory_lot"]
    for tenant_id, expected in ((other_tenant.id, 0), (None, 0), (tenant.id, 1)):
        with tenant_context(tenant_id), connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"SELECT count(*) FROM {table}")
                assert cursor.fetchone()[0] == expected, (table, tenant_id)


@pytest.mark.django_db(databases=["default", "owner"])
def test_ensure_partitions_command_reports_and_is_idempotent():
    from io import StringIO

    from django.core.management import call_command

    first, second = StringIO(), StringIO()
    call_command("ensure_partitions", "--months-ahead", "5", stdout=first)
    call_command("ensure_partitions", "--months-ahead", "5", stdout=second)
    assert "2 partitions created" in first.getvalue()
    assert "0 partitions created" in second.getvalue()

"""``manage.py generate_analytics_tenant`` with tiny sizes, in the test database.

The command writes through the ``owner`` connection in a transaction of its
own, so these tests are transactional; the checks read every row back on the
``maintenance`` connection (the one role that sees all tenants).
"""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connections
from django.utils import timezone

from inventory.ledger.reconcile import balance_differences
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner", "maintenance"])

SIZES = ["--products", "20", "--lots", "60", "--entries", "2000", "--months", "3"]


def generate(slug="bench", *extra):
    out = StringIO()
    call_command("generate_analytics_tenant", "--slug", slug, *SIZES, *extra, stdout=out)
    return out.getvalue()


def scalar(sql, params=()):
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def rows(sql, params=()):
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def tenant_id(slug="bench"):
    return Tenant.objects.get(slug=slug).id


def test_generated_tenant_has_the_sizes_asked_for():
    output = generate()
    tenant = tenant_id()

    assert "ledger entries" in output and "order lines" in output and "generated in" in output
    assert scalar("SELECT count(*) FROM inventory_product WHERE tenant_id = %s", [tenant]) == 20
    assert scalar("SELECT count(*) FROM inventory_lot WHERE tenant_id = %s", [tenant]) == 60
    assert scalar("SELECT count(*) FROM inventory_ledgerentry WHERE tenant_id = %s", [tenant]) == (
        2000
    )
    assert scalar("SELECT count(*) FROM warehouse_warehouse WHERE tenant_id = %s", [tenant]) == 2
    kinds = {
        kind
        for (kind,) in rows(
            "SELECT DISTINCT kind FROM warehouse_location WHERE tenant_id = %s", [tenant]
        )
    }
    assert {"receiving", "quarantine", "storage", "pick"} <= kinds
    entry_kinds = {
        kind
        for (kind,) in rows(
            "SELECT DISTINCT kind FROM inventory_ledgerentry WHERE tenant_id = %s", [tenant]
        )
    }
    assert entry_kinds == {"RECEIPT", "MOVE_OUT", "MOVE_IN", "SHIP", "ADJUST", "COUNT"}
    # Every lot is received once, and the QC states are mostly approved.
    assert (
        scalar(
            "SELECT count(DISTINCT lot_id) FROM inventory_ledgerentry "
            "WHERE tenant_id = %s AND kind = 'RECEIPT'",
            [tenant],
        )
        == 60
    )
    assert (
        scalar(
            "SELECT count(*) FROM analytics_reorderrule r JOIN inventory_product p "
            "ON p.tenant_id = r.tenant_id AND p.id = r.product_id WHERE r.tenant_id = %s",
            [tenant],
        )
        > 0
    )
    approved = scalar(
        "SELECT count(*) FROM inventory_lot WHERE tenant_id = %s AND qc_status = 'APPROVED'",
        [tenant],
    )
    assert approved > 60 / 2


def test_every_balance_equals_its_ledger_and_none_is_negative():
    generate()
    tenant = tenant_id()

    differences, checked = balance_differences(using="maintenance")
    assert differences == []
    assert checked == scalar(
        "SELECT count(*) FROM (SELECT DISTINCT lot_id, location_id FROM inventory_ledgerentry "
        "WHERE tenant_id = %s) AS pairs",
        [tenant],
    )
    assert (
        scalar(
            "SELECT count(*) FROM inventory_balance WHERE tenant_id = %s AND on_hand < 0", [tenant]
        )
        == 0
    )
    # Nor at any moment: the running sum per lot and bin, in time order, never dips below zero.
    lowest = scalar(
        "SELECT min(running) FROM (SELECT sum(quantity) OVER (PARTITION BY lot_id, location_id "
        "ORDER BY occurred_at, kind = 'MOVE_OUT', id) AS running FROM inventory_ledgerentry "
        "WHERE tenant_id = %s) AS history",
        [tenant],
    )
    assert lowest >= 0
    assert scalar("SELECT sum(on_hand) FROM inventory_balance WHERE tenant_id = %s", [tenant]) > 0


def test_entries_span_the_months_asked_for():
    generate()
    tenant = tenant_id()

    first, last = rows(
        "SELECT min(occurred_at), max(occurred_at) FROM inventory_ledgerentry WHERE tenant_id = %s",
        [tenant],
    )[0]
    now = timezone.now()
    assert now - datetime.timedelta(days=93) <= first < now - datetime.timedelta(days=75)
    assert now - datetime.timedelta(days=15) < last <= now
    months = scalar(
        "SELECT count(DISTINCT date_trunc('month', occurred_at, 'UTC')) "
        "FROM inventory_ledgerentry WHERE tenant_id = %s",
        [tenant],
    )
    assert months >= 3
    # None of them landed in the default partition: the monthly partitions exist.
    assert (
        scalar(
            "SELECT count(*) FROM inventory_ledgerentry WHERE tenant_id = %s "
            "AND tableoid = 'inventory_ledgerentry_default'::regclass",
            [tenant],
        )
        == 0
    )


def test_shipments_belong_to_shipped_orders_with_customers():
    generate()
    tenant = tenant_id()

    ships = scalar(
        "SELECT count(*) FROM inventory_ledgerentry WHERE tenant_id = %s AND kind = 'SHIP'",
        [tenant],
    )
    traced = rows(
        "SELECT count(*), count(DISTINCT o.id), count(*) FILTER (WHERE o.customer = ''), "
        "count(*) FILTER (WHERE o.warehouse_id <> e.warehouse_id) "
        "FROM inventory_ledgerentry e JOIN inventory_order o "
        "  ON o.tenant_id = e.tenant_id AND o.shipment_operation_id = e.operation_id "
        "WHERE e.tenant_id = %s AND e.kind = 'SHIP' AND o.status = 'SHIPPED'",
        [tenant],
    )[0]
    assert ships > 1000
    assert traced == (ships, traced[1], 0, 0)
    assert traced[1] > 1
    # An order's lines are what its shipments took, product by product.
    mismatched = scalar(
        "SELECT count(*) FROM (SELECT o.id, e.product_id, -sum(e.quantity) AS shipped "
        "  FROM inventory_order o JOIN inventory_ledgerentry e "
        "    ON e.tenant_id = o.tenant_id AND e.operation_id = o.shipment_operation_id "
        "  WHERE o.tenant_id = %s GROUP BY o.id, e.product_id) AS s "
        "FULL JOIN (SELECT order_id, product_id, quantity FROM inventory_orderline "
        "  WHERE tenant_id = %s) AS l ON l.order_id = s.id AND l.product_id = s.product_id "
        "WHERE s.shipped IS DISTINCT FROM l.quantity",
        [tenant, tenant],
    )
    assert mismatched == 0


def test_a_second_run_refuses_without_replace_and_changes_nothing():
    generate()
    tenant = tenant_id()
    before = scalar("SELECT count(*) FROM inventory_ledgerentry WHERE tenant_id = %s", [tenant])

    with pytest.raises(CommandError, match=r"already exists.*--replace"):
        generate()

    assert tenant_id() == tenant
    assert (
        scalar("SELECT count(*) FROM inventory_ledgerentry WHERE tenant_id = %s", [tenant])
        == before
    )


def test_replace_rebuilds_the_tenant_and_leaves_another_tenant_untouched(other_tenant):
    call_command("generate_analytics_tenant", "--slug", "globex-data", *SIZES, stdout=StringIO())
    other = tenant_id("globex-data")
    other_rows = rows(
        "SELECT kind, lot_id, location_id, quantity, occurred_at FROM inventory_ledgerentry "
        "WHERE tenant_id = %s ORDER BY id",
        [other],
    )
    generate()
    first = tenant_id()

    generate("bench", "--replace", "--seed", "7")

    assert tenant_id() != first
    assert scalar("SELECT count(*) FROM inventory_ledgerentry WHERE tenant_id = %s", [first]) == 0
    assert scalar("SELECT count(*) FROM inventory_lot WHERE tenant_id = %s", [first]) == 0
    assert (
        scalar("SELECT count(*) FROM inventory_ledgerentry WHERE tenant_id = %s", [tenant_id()])
        == 2000
    )
    assert (
        rows(
            "SELECT kind, lot_id, location_id, quantity, occurred_at FROM inventory_ledgerentry "
            "WHERE tenant_id = %s ORDER BY id",
            [other],
        )
        == other_rows
    )
    assert balance_differences(using="maintenance")[0] == []
    # The ledger refuses deletes again once the replacement is done.
    with (
        pytest.raises(DatabaseError, match="append-only"),
        tenant_context(other, using="owner"),
        connections["owner"].cursor() as cursor,
    ):
        cursor.execute("DELETE FROM inventory_ledgerentry WHERE tenant_id = %s", [other])


def test_replace_refuses_a_tenant_the_command_did_not_make(other_tenant):
    with pytest.raises(CommandError, match="not made by this command"):
        generate(other_tenant.slug, "--replace")

    assert Tenant.objects.filter(pk=other_tenant.pk).exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--entries", "100"], "at least three per lot"),
        (["--products", "0"], "--products must be between"),
        (["--months", "1000"], "--months must be between"),
        (["--entries", "999999999999"], "--entries must be between"),
    ],
)
def test_sizes_out_of_bounds_are_refused_before_anything_is_written(flags, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "generate_analytics_tenant", "--slug", "bench", *SIZES, *flags, stdout=StringIO()
        )

    assert not Tenant.objects.filter(slug="bench").exists()


def test_a_strange_slug_is_refused():
    with pytest.raises(CommandError, match="--slug"):
        call_command("generate_analytics_tenant", "--slug", "bad slug;--", stdout=StringIO())

"""The demo stock: believable, every QC state, months of history, and loadable twice."""

import datetime

import pytest
from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone

from inventory import demo as inventory_demo
from inventory.models import LedgerEntry, Lot, QcStatus
from warehouse import demo
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db

TOTALS = """
    SELECT (SELECT count(*) FROM inventory_product),
           (SELECT count(*) FROM inventory_lot),
           (SELECT count(*) FROM inventory_ledgerentry),
           (SELECT count(*) FROM inventory_operation),
           (SELECT coalesce(sum(on_hand), 0) FROM inventory_balance)
"""


def totals(tenant):
    with tenant_context(tenant.id), connection.cursor() as cursor:
        cursor.execute(TOTALS)
        return cursor.fetchone()


def test_demo_stock_covers_every_qc_state_and_months_of_history_and_loads_once():
    demo.seed("Forklift-Pallet-2026")
    now = timezone.now()
    entries = inventory_demo.seed(now)
    assert entries["northwind"] > 300
    assert entries["harbor"] > 100
    northwind, harbor = Tenant.objects.get(slug="northwind"), Tenant.objects.get(slug="harbor")
    with tenant_context(northwind.id):
        states = set(Lot.objects.values_list("qc_status", flat=True))
        assert states == {QcStatus.QUARANTINE, QcStatus.APPROVED, QcStatus.REJECTED}
        soon = now.date() + datetime.timedelta(days=10)
        assert Lot.objects.filter(
            qc_status=QcStatus.APPROVED, expires_on__gte=now.date(), expires_on__lte=soon
        ).exists()
        span = LedgerEntry.objects.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
        assert (span["last"] - span["first"]).days >= 120
        assert set(LedgerEntry.objects.values_list("kind", flat=True)) >= {
            "RECEIPT",
            "MOVE_OUT",
            "MOVE_IN",
            "SHIP",
            "ADJUST",
            "COUNT",
        }
    before = {tenant: totals(tenant) for tenant in (northwind, harbor)}

    # A second load, an hour later, replays every step and adds nothing.
    assert inventory_demo.seed(now + datetime.timedelta(hours=1)) == entries
    assert {tenant: totals(tenant) for tenant in (northwind, harbor)} == before

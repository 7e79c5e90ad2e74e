"""``manage.py reconcile`` proves balances equal the ledger, across every tenant."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from inventory.catalog.services import create_product, create_warehouse
from inventory.stock.movements import adjust_stock
from inventory.stock.receipts import receive_stock

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])


def reconcile():
    out = StringIO()
    call_command("reconcile", stdout=out)
    return out.getvalue()


def stock_two_tenants(tenant, other_tenant):
    results = []
    for owner in (tenant, other_tenant):
        site = create_warehouse(tenant=owner, code="DC", name="DC")
        product = create_product(tenant=owner, sku="P1", name="Product")
        receipt = receive_stock(
            tenant=owner, product=product, warehouse=site, lot_code="L1", quantity=10
        )
        adjust_stock(
            tenant=owner,
            lot=receipt.lot,
            location=receipt.location,
            quantity_delta=-4,
            reason="Damaged",
        )
        results.append(receipt)
    return results


def test_reconcile_passes_when_every_balance_matches_its_ledger(tenant, other_tenant):
    stock_two_tenants(tenant, other_tenant)
    assert "All 2 balances equal the ledger" in reconcile()


def test_reconcile_names_a_tampered_balance_and_fails(tenant, other_tenant):
    _, globex_receipt = stock_two_tenants(tenant, other_tenant)
    # Tampering goes around the services, through the cross-tenant maintenance role.
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(
            "UPDATE inventory_balance SET on_hand = on_hand + 1.5 WHERE lot_id = %s",
            [globex_receipt.lot.pk],
        )
    out = StringIO()
    with pytest.raises(CommandError, match="1 balances differ") as caught:
        call_command("reconcile", stdout=out)
    assert caught.value.returncode == 1
    report = out.getvalue()
    assert "globex: lot L1" in report
    assert "on hand 7.500 in balance, 6.000 in ledger" in report
    assert "acme" not in report

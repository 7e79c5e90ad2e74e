"""The PL/pgSQL functions behind reservations, stock reads and token lookups.

They run as the app role with ``SECURITY INVOKER``, so the tenant policies
apply to every statement in them: with no tenant context they find and write
nothing. One definition of an available lot serves SQL, the ORM and the
in-memory check.
"""

import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from inventory.catalog.services import create_product
from inventory.core import errors
from inventory.core.errors import DomainError, error_class
from inventory.core.functions import call_function
from inventory.core.tokens import issue_api_token
from inventory.ledger.posting import SYSTEM
from inventory.models import Lot, QcStatus, Reservation
from inventory.reservations.allocation import allocate
from inventory.stock.receipts import receive_stock
from tests.conftest import make_site
from warehouse.models import Location
from warehouse.tenancy import tenant_context

# The maintenance role (BYPASSRLS) counts what was written, from its own connection.
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])


@pytest.fixture
def stocked(tenant):
    site = make_site(tenant, "DC1")
    product = create_product(tenant=tenant, sku="WIDGET", name="Widget")
    with tenant_context(tenant.pk):
        bin_a = Location.objects.get(warehouse=site, code="A-01")
    receive_stock(
        tenant=tenant, product=product, warehouse=site, location=bin_a, lot_code="L1", quantity=10
    )
    return site, product


def allocate_one(site, product, tenant_id):
    now = timezone.now()
    return allocate(
        tenant_id=tenant_id,
        warehouse_id=site.pk,
        lines=[(product.pk, Decimal("1.000"))],
        reference="",
        allow_partial=False,
        expires_at=None,
        now=now,
        today=timezone.localdate(now),
        operation_id=None,
        actor=SYSTEM,
    )


def reservations_of_every_tenant() -> int:
    return Reservation.objects.using("maintenance").count()


def test_the_allocation_with_no_tenant_context_finds_no_stock_and_writes_nothing(tenant, stocked):
    site, product = stocked
    with pytest.raises(errors.InsufficientStock), tenant_context(None):
        allocate_one(site, product, tenant.pk)
    assert reservations_of_every_tenant() == 0
    with tenant_context(tenant.pk):
        assert allocate_one(site, product, tenant.pk)["lines"][0]["allocated"] == "1.000"
    assert reservations_of_every_tenant() == 1


def test_the_allocation_for_another_tenant_cannot_write_under_this_tenants_context(
    tenant, other_tenant, stocked
):
    site, product = stocked
    with pytest.raises(errors.InsufficientStock), tenant_context(other_tenant.pk):
        allocate_one(site, product, tenant.pk)
    assert reservations_of_every_tenant() == 0


def test_stock_rows_show_nothing_without_a_tenant_context(tenant, stocked):
    _, product = stocked
    query = "SELECT count(*) FROM inventory_stock_rows(%s::bigint[], NULL, %s, now())"
    with tenant_context(None), connection.cursor() as cursor:
        cursor.execute(query, [[product.pk], timezone.localdate()])
        assert cursor.fetchone()[0] == 0
    with tenant_context(tenant.pk), connection.cursor() as cursor:
        cursor.execute(query, [[product.pk], timezone.localdate()])
        assert cursor.fetchone()[0] == 1


def test_the_stock_read_answers_for_the_tenant_it_is_given_only(tenant, other_tenant, stocked):
    read = {"sku_key": "widget", "sku_quoted": "'WIDGET'"}
    call = "SELECT inventory_api_stock(%s, %s::jsonb, 'UTC')"
    assert call_function(call, [tenant.pk, json.dumps(read)])["on_hand"] == "10.000"
    with pytest.raises(errors.ProductNotFound, match="No product with SKU 'WIDGET'"):
        call_function(call, [other_tenant.pk, json.dumps(read)])


def test_the_token_lookup_finds_one_live_token_and_clears_its_setting(tenant):
    token, secret = issue_api_token(tenant=tenant, name="POS")
    from inventory.core.tokens import hash_secret

    with connection.cursor() as cursor:
        cursor.execute("SELECT id, tenant_slug FROM inventory_api_token(%s)", [hash_secret(secret)])
        assert cursor.fetchall() == [(token.pk, "acme")]
        cursor.execute("SELECT id FROM inventory_api_token(%s)", ["0" * 64])
        assert cursor.fetchall() == []
        cursor.execute("SELECT current_setting('app.api_token_hash', true)")
        assert cursor.fetchone()[0] in ("", None)


@pytest.mark.parametrize("status", [QcStatus.QUARANTINE, QcStatus.APPROVED, QcStatus.REJECTED])
def test_one_definition_of_an_available_lot(tenant, stocked, status):
    """SQL (``inventory_lot_available``), the ORM and the loaded lot agree on every case."""
    _, product = stocked
    today = datetime.date(2026, 6, 15)
    with tenant_context(tenant.pk):
        for days in (None, -1, 0, 1):
            expires_on = None if days is None else today + datetime.timedelta(days=days)
            lot = Lot.objects.create(
                tenant=tenant,
                product=product,
                code=f"{status}-{days}",
                expires_on=expires_on,
                received_at=timezone.now(),
                unit_cost=0,
                qc_status=status,
                qc_at=None if status == QcStatus.QUARANTINE else timezone.now(),
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT inventory_lot_available(%s, %s, %s)", [status, expires_on, today]
                )
                in_sql = cursor.fetchone()[0]
            in_orm = Lot.objects.available_on(today).filter(pk=lot.pk).exists()
            expected = status == QcStatus.APPROVED and (days is None or days >= 0)
            assert in_sql == in_orm == lot.is_available_on(today) == expected, (status, days)


def test_every_refusal_code_maps_to_its_domain_error():
    classes = [errors.InsufficientStock, errors.NoQcApprovedLot, errors.ProductNotFound]
    for cls in classes:
        assert error_class(cls.code) is cls
    assert error_class("NO_SUCH_CODE") is DomainError
    sentence = "No warehouse with code 'X'."
    with pytest.raises(errors.WarehouseNotFound) as refused:
        call_function("SELECT inventory_refuse('WAREHOUSE_NOT_FOUND', %s)", [sentence])
    assert refused.value.message == sentence
    # The refusal rolled back only its savepoint: the transaction goes on.
    assert connections["default"].needs_rollback is False

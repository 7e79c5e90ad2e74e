"""What a scan means for a tenant: GS1 labels, SKUs, GTINs, bins and lots."""

import datetime
from decimal import Decimal

import pytest

from inventory.catalog.services import create_product, set_product_gtin
from inventory.core.errors import DuplicateGtin, InvalidGtin, ProductNotFound
from inventory.models import Product
from inventory.scanning.gs1 import MAX_SCAN_LENGTH
from inventory.scanning.resolve import ScanTooLong, resolve_scan
from inventory.stock.receipts import receive_stock
from tests.conftest import bin_of, make_site
from warehouse.tenancy import tenant_context

GTIN = "09501101020917"
GS = "\x1d"


@pytest.fixture
def rice(tenant):
    return create_product(tenant=tenant, sku="RICE-5", name="Rice 5 kg", uom="kg", gtin=GTIN)


def receive(tenant, product, warehouse, lot_code, location=None):
    return receive_stock(
        tenant=tenant,
        product=product,
        warehouse=warehouse,
        location=location,
        lot_code=lot_code,
        quantity=Decimal("10"),
    )


def resolve(tenant, text, **kwargs):
    with tenant_context(tenant.id):
        return resolve_scan(text, **kwargs)


def test_a_gs1_label_gives_its_fields_and_the_product_with_its_gtin(tenant, rice, site):
    receive(tenant, rice, site, "L-7")
    scan = resolve(tenant, f"]C101{GTIN}17270131" + f"10L-7{GS}3012")
    assert scan.kind == "gs1"
    assert scan.product.sku == "RICE-5"
    assert scan.lot.code == "L-7"
    assert scan.gs1.expires_on == datetime.date(2027, 1, 31)
    assert scan.gs1.quantity == Decimal("12")
    assert scan.problem == ""


def test_a_gs1_label_of_an_unknown_gtin_still_gives_its_fields(tenant, rice):
    other = "00012345600012"
    scan = resolve(tenant, f"01{other}10NEW")
    assert scan.kind == "gs1"
    assert scan.product is None
    assert scan.gs1.lot == "NEW"
    assert "No product has GTIN 00012345600012" in scan.problem


def test_a_broken_gs1_label_is_refused_with_the_reason(tenant, rice):
    scan = resolve(tenant, f"01{GTIN[:-1]}0")
    assert scan.kind == "unknown"
    assert "wrong check digit" in scan.problem


def test_a_sku_in_any_case_finds_its_product(tenant, rice):
    scan = resolve(tenant, " rice-5 ")
    assert scan.kind == "product"
    assert scan.product == rice


@pytest.mark.parametrize("typed", [GTIN, GTIN[1:], "9501101020917"])
def test_a_gtin_typed_alone_finds_its_product(tenant, rice, typed):
    scan = resolve(tenant, typed)
    assert scan.kind == "product"
    assert scan.product == rice


def test_a_bin_code_finds_the_bin_in_every_warehouse_or_in_the_one_given(tenant):
    north = make_site(tenant, "NORTH", bins=("A-01",))
    make_site(tenant, "SOUTH", bins=("A-01",))
    scan = resolve(tenant, "a-01")
    assert scan.kind == "bin"
    assert [location.warehouse.code for location in scan.locations] == ["NORTH", "SOUTH"]
    scan = resolve(tenant, "A-01", warehouse=north)
    assert [location.warehouse.code for location in scan.locations] == ["NORTH"]


def test_a_lot_code_may_name_lots_of_several_products(tenant, rice, flour, site):
    receive(tenant, rice, site, "B-100")
    receive(tenant, flour, site, "B-100")
    scan = resolve(tenant, "b-100")
    assert scan.kind == "lot"
    assert [lot.product.sku for lot in scan.lots] == ["FLOUR-25", "RICE-5"]
    assert scan.lot is None
    assert len(scan.matches) == 2


def test_one_code_may_be_a_sku_and_a_bin(tenant):
    create_product(tenant=tenant, sku="A-01", name="Odd product")
    make_site(tenant, "DC9", bins=("A-01",))
    scan = resolve(tenant, "A-01")
    assert scan.kind == "product"
    assert [kind for kind, _ in scan.matches] == ["product", "bin"]


def test_nothing_found_is_unknown(tenant, rice):
    for text in ("NOPE-1", "", "   ", "Ж-1", "a\x00b"):
        assert resolve(tenant, text).kind == "unknown"
        assert resolve(tenant, text).matches == []


def test_another_tenants_codes_find_nothing(tenant, other_tenant, site):
    product = create_product(tenant=other_tenant, sku="GLBX-1", name="Theirs", gtin=GTIN)
    warehouse = make_site(other_tenant, "GLBX-DC", bins=("G-01",))
    receive(other_tenant, product, warehouse, "G-LOT", bin_of(other_tenant, warehouse, "G-01"))
    for text in ("GLBX-1", GTIN, "G-01", "G-LOT"):
        assert resolve(tenant, text).matches == []
    scan = resolve(tenant, f"01{GTIN}10G-LOT")
    assert scan.product is None
    assert scan.lot is None


def test_an_over_long_scan_is_refused_before_any_lookup(tenant, django_assert_num_queries):
    with tenant_context(tenant.id), django_assert_num_queries(0), pytest.raises(ScanTooLong):
        resolve_scan("A" * (MAX_SCAN_LENGTH + 1))


# -- GTIN on products --------------------------------------------------------------


def test_a_gtin_is_stored_in_its_14_digit_form(tenant):
    product = create_product(tenant=tenant, sku="EAN-13", name="Thirteen", gtin="9501101020917")
    with tenant_context(tenant.id):
        assert Product.objects.get(pk=product.pk).gtin == GTIN


def test_a_gtin_with_a_wrong_check_digit_is_refused(tenant):
    with pytest.raises(InvalidGtin, match="not a GTIN"):
        create_product(tenant=tenant, sku="BAD-1", name="Bad", gtin="09501101020918")
    with tenant_context(tenant.id):
        assert not Product.objects.filter(sku="BAD-1").exists()


def test_two_products_of_a_tenant_never_share_a_gtin(tenant, other_tenant, rice, flour):
    with pytest.raises(DuplicateGtin):
        create_product(tenant=tenant, sku="RICE-6", name="Rice again", gtin=GTIN)
    with pytest.raises(DuplicateGtin):
        set_product_gtin(tenant=tenant, product=flour, gtin=GTIN)
    # Another tenant may use the same GTIN.
    assert create_product(tenant=other_tenant, sku="R", name="Rice", gtin=GTIN).gtin == GTIN


def test_a_product_gets_and_loses_a_gtin(tenant, other_tenant, flour):
    set_product_gtin(tenant=tenant, product=flour, gtin="12345670")
    with tenant_context(tenant.id):
        assert Product.objects.get(pk=flour.pk).gtin == "00000012345670"
    set_product_gtin(tenant=tenant, product=flour, gtin="")
    with tenant_context(tenant.id):
        assert Product.objects.get(pk=flour.pk).gtin == ""
    with pytest.raises(ProductNotFound):
        set_product_gtin(tenant=other_tenant, product=flour, gtin="12345670")

"""Changes to what a tenant has set up: products, warehouses and their bins.

One function, one transaction each; arguments are keyword-only and objects
passed in must belong to ``tenant`` (another tenant's object answers like a
missing one). They raise the domain errors of ``inventory.core.errors``;
nothing is written when they do.
"""

from __future__ import annotations

import zoneinfo
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from inventory.core.errors import (
    DuplicateGtin,
    DuplicateLocationCode,
    DuplicateSku,
    DuplicateWarehouseCode,
    InvalidGtin,
    ProductNotFound,
    ValidationFailed,
    WarehouseNotFound,
)
from inventory.core.quantities import parse_amount
from inventory.core.validation import clean_text, constraint_name, owned
from inventory.models import MAX_SHELF_LIFE_DAYS, Product, UnitOfMeasure
from warehouse.models import Location, LocationKind, Tenant, Warehouse
from warehouse.tenancy import tenant_context
from warehouse.validators import normalize_gtin

DEFAULT_RECEIVING_CODE = "RECEIVING"


def create_product(
    *,
    tenant: Tenant,
    sku: str,
    name: str,
    uom: str = UnitOfMeasure.EACH,
    qc_required: bool = False,
    shelf_life_days: int | None = None,
    unit_cost: Any = Decimal("0"),
    attributes: dict | None = None,
    gtin: str = "",
) -> Product:
    """Add a product to the catalog (one insert; no lock beyond the unique indexes).

    Raises ``DuplicateSku`` when the tenant has the SKU in any letter case,
    ``DuplicateGtin`` when another product has the GTIN, ``InvalidGtin`` for a
    GTIN with a wrong length or check digit, ``ValidationFailed`` for a bad
    SKU, name, unit, shelf life or attributes, ``InvalidQuantity`` for a bad
    unit cost.
    """
    gtin = clean_gtin(gtin)
    sku = clean_text(sku, what="SKU", max_length=64)
    name = clean_text(name, what="name", max_length=200)
    if uom not in UnitOfMeasure.values:
        raise ValidationFailed(f"Unknown unit of measure {uom!r}.")
    if not isinstance(qc_required, bool):
        raise ValidationFailed("qc_required must be true or false.")
    if shelf_life_days is not None and (
        isinstance(shelf_life_days, bool)
        or not isinstance(shelf_life_days, int)
        or not 0 < shelf_life_days <= MAX_SHELF_LIFE_DAYS
    ):
        raise ValidationFailed(
            f"The shelf life must be a whole number of days, 1 to {MAX_SHELF_LIFE_DAYS}."
        )
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        raise ValidationFailed("The attributes must be a JSON object.")
    cost = parse_amount(unit_cost)
    with tenant_context(tenant.pk):
        try:
            with transaction.atomic():
                return Product.objects.create(
                    tenant=tenant,
                    sku=sku,
                    name=name,
                    uom=uom,
                    qc_required=qc_required,
                    shelf_life_days=shelf_life_days,
                    unit_cost=cost,
                    attributes=attributes,
                    gtin=gtin,
                )
        except IntegrityError as error:
            if constraint_name(error) == "product_tenant_sku_key":
                raise DuplicateSku(f"A product with SKU {sku!r} already exists.") from None
            if constraint_name(error) == "product_tenant_gtin_key":
                raise _duplicate_gtin(gtin) from None
            raise


def clean_gtin(gtin: object) -> str:
    """``gtin`` as stored: its 14-digit form, or "" for none; else ``InvalidGtin``."""
    if gtin is None or gtin == "":
        return ""
    if not isinstance(gtin, str) or len(gtin) > 32:
        raise InvalidGtin()
    normalized = normalize_gtin(gtin)
    if normalized is None:
        raise InvalidGtin(f"{gtin.strip()!r} is not a GTIN: {InvalidGtin.default_message}")
    return normalized


def _duplicate_gtin(gtin: str) -> DuplicateGtin:
    return DuplicateGtin(f"Another product already has GTIN {gtin}.")


def set_product_gtin(*, tenant: Tenant, product: Product, gtin: str) -> Product:
    """Give ``product`` the GTIN ``gtin`` ("" removes it): one update, no lock but the index's.

    Raises ``ProductNotFound`` for another tenant's product, ``InvalidGtin``
    or ``DuplicateGtin``.
    """
    owned(product, tenant, ProductNotFound, Product)
    gtin = clean_gtin(gtin)
    with tenant_context(tenant.pk):
        try:
            with transaction.atomic():
                Product.objects.filter(pk=product.pk).update(gtin=gtin)
        except IntegrityError as error:
            if constraint_name(error) == "product_tenant_gtin_key":
                raise _duplicate_gtin(gtin) from None
            raise
    product.gtin = gtin
    return product


def create_warehouse(
    *,
    tenant: Tenant,
    code: str,
    name: str,
    time_zone: str = "UTC",
    receiving_location_code: str | None = DEFAULT_RECEIVING_CODE,
) -> Warehouse:
    """Add a warehouse and, unless ``receiving_location_code`` is None, its receiving bin.

    The receiving bin is what ``receive_stock`` uses when no location is given.
    Takes no lock beyond the unique indexes.
    Raises ``DuplicateWarehouseCode`` or ``ValidationFailed``.
    """
    code = clean_text(code, what="warehouse code", max_length=32)
    name = clean_text(name, what="name", max_length=200)
    try:
        zoneinfo.ZoneInfo(clean_text(time_zone, what="time zone", max_length=64))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"Unknown time zone {time_zone!r}.") from None
    with tenant_context(tenant.pk):
        try:
            with transaction.atomic():
                warehouse = Warehouse.objects.create(
                    tenant=tenant, code=code, name=name, time_zone=time_zone
                )
        except IntegrityError as error:
            if constraint_name(error) == "warehouse_tenant_code_key":
                raise DuplicateWarehouseCode(
                    f"A warehouse with code {code!r} already exists."
                ) from None
            raise
        if receiving_location_code is not None:
            create_location(
                tenant=tenant,
                warehouse=warehouse,
                code=receiving_location_code,
                kind=LocationKind.RECEIVING,
            )
        return warehouse


def create_location(
    *,
    tenant: Tenant,
    warehouse: Warehouse,
    code: str,
    kind: str = LocationKind.STORAGE,
    pick_sequence: int = 0,
) -> Location:
    """Add a bin to ``warehouse`` (one insert, no lock beyond the unique index).

    Raises ``DuplicateLocationCode``, ``WarehouseNotFound`` or ``ValidationFailed``.
    """
    owned(warehouse, tenant, WarehouseNotFound, Warehouse)
    code = clean_text(code, what="location code", max_length=32)
    if kind not in LocationKind.values:
        raise ValidationFailed(f"Unknown location kind {kind!r}.")
    if isinstance(pick_sequence, bool) or not isinstance(pick_sequence, int):
        raise ValidationFailed("The pick sequence must be a whole number.")
    if not 0 <= pick_sequence <= 2_000_000_000:
        raise ValidationFailed("The pick sequence must be between 0 and 2000000000.")
    with tenant_context(tenant.pk):
        try:
            with transaction.atomic():
                return Location.objects.create(
                    tenant=tenant,
                    warehouse=warehouse,
                    code=code,
                    kind=kind,
                    pick_sequence=pick_sequence,
                )
        except IntegrityError as error:
            if constraint_name(error) == "location_tenant_warehouse_code_key":
                raise DuplicateLocationCode(
                    f"Warehouse {warehouse.code} already has a location {code!r}."
                ) from None
            raise

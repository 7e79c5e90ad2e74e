"""What one scan means for the current tenant: a product, a lot, a bin, or a GS1 label.

Call inside a tenant context: row-level security scopes every lookup, so
another tenant's codes find nothing, as unknown ones do. Each lookup compares
a stored key with ``=`` (``sku_key``, ``gtin``, ``code_key``), the LEAKPROOF
comparison row-level security lets into an index scan.
"""

from __future__ import annotations

import dataclasses

from inventory.catalog.selectors import code_key, get_product_by_sku
from inventory.core.errors import ProductNotFound
from inventory.models import Lot, Product
from inventory.scanning.gs1 import MAX_SCAN_LENGTH, SPACES, Gs1, Gs1Error, NotGs1, read_gs1
from warehouse.models import Location, Warehouse
from warehouse.validators import normalize_gtin

# A lot code may be shared by many products: a scan lists at most this many of each kind.
MAX_MATCHES = 20


class ScanTooLong(ValueError):
    """A scan longer than any barcode: refused before any lookup."""

    code = "SCAN_TOO_LONG"
    message = f"A scan has at most {MAX_SCAN_LENGTH} characters."


@dataclasses.dataclass(frozen=True)
class Scan:
    """A resolved scan. ``kind`` is what it is first; the lists hold every match."""

    text: str
    gs1: Gs1 | None = None
    products: tuple[Product, ...] = ()
    lots: tuple[Lot, ...] = ()
    locations: tuple[Location, ...] = ()
    # Why a scan that looked like a barcode was refused, in words for the floor.
    problem: str = ""

    @property
    def kind(self) -> str:
        if self.gs1 is not None:
            return "gs1"
        found = (("product", self.products), ("lot", self.lots), ("bin", self.locations))
        for kind, rows in found:
            if rows:
                return kind
        return "unknown"

    @property
    def matches(self) -> list[tuple[str, object]]:
        """Every match as (kind, row): products, then bins, then lots."""
        return (
            [("product", product) for product in self.products]
            + [("bin", location) for location in self.locations]
            + [("lot", lot) for lot in self.lots]
        )

    @property
    def product(self) -> Product | None:
        return self.products[0] if len(self.products) == 1 else None

    @property
    def lot(self) -> Lot | None:
        return self.lots[0] if len(self.lots) == 1 else None


def resolve_scan(text: str, *, warehouse: Warehouse | None = None) -> Scan:
    """What ``text`` names for the tenant of the current context.

    A GS1 string gives its fields, the product with its GTIN and that
    product's lot with its lot code (when they exist). Anything else is looked
    up as a SKU or GTIN, a bin code (in ``warehouse``, else in every
    warehouse) and a lot code (of any product), all at once: one code may name
    several things. Raises ``ScanTooLong``; reads only.
    """
    if len(text) > MAX_SCAN_LENGTH:
        raise ScanTooLong()
    text = text.strip(SPACES)
    if not text:
        return Scan(text=text)
    try:
        gs1 = read_gs1(text)
    except NotGs1:
        return _resolve_code(text, warehouse)
    except Gs1Error as error:
        return Scan(text=text, problem=f"This barcode cannot be read: {error.message}")
    products = tuple(Product.objects.filter(gtin=gs1.gtin)) if gs1.gtin else ()
    lots = ()
    if len(products) == 1 and gs1.lot:
        key = code_key(gs1.lot)
        # Unique per product: no ordering, so the plan is the code key's index.
        lot = Lot.objects.filter(product=products[0], code_key=key).order_by()
        lots = tuple(lot.select_related("product"))
    problem = ""
    if gs1.gtin and not products:
        problem = f"No product has GTIN {gs1.gtin}."
    return Scan(text=text, gs1=gs1, products=products, lots=lots, problem=problem)


def _resolve_code(text: str, warehouse: Warehouse | None) -> Scan:
    key = code_key(text)
    gtin = normalize_gtin(text)
    products: tuple[Product, ...] = ()
    if gtin is not None:
        products = tuple(Product.objects.filter(gtin=gtin))
    if key is None:
        return Scan(text=text, products=products)
    if not products:
        products = tuple(Product.objects.filter(sku_key=key))
    locations = Location.objects.filter(code_key=key, is_active=True)
    if warehouse is not None:
        locations = locations.filter(warehouse=warehouse)
    locations = locations.select_related("warehouse").order_by("warehouse__code", "id")
    lots = Lot.objects.filter(code_key=key).select_related("product").order_by("product__sku", "id")
    return Scan(
        text=text,
        products=products,
        locations=tuple(locations[:MAX_MATCHES]),
        lots=tuple(lots[:MAX_MATCHES]),
    )


def find_product(text: str) -> Product:
    """The product a typed or scanned SKU or GTIN names; raises ``ProductNotFound``."""
    try:
        return get_product_by_sku(text)
    except ProductNotFound:
        gtin = normalize_gtin(text) if len(text) <= MAX_SCAN_LENGTH else None
        product = Product.objects.filter(gtin=gtin).first() if gtin else None
        if product is None:
            raise
        return product


def find_product_by_gtin(gtin: str) -> Product:
    """The product with ``gtin`` (14 digits); raises ``ProductNotFound``."""
    product = Product.objects.filter(gtin=gtin).first()
    if product is None:
        raise ProductNotFound(f"No product has GTIN {gtin}; give the product its GTIN first.")
    return product

"""Reads of bins for the floor: what a bin holds, what waits to be put away, where it should go.

Call inside a tenant context (row-level security scopes every one). Lookups
raise the domain ``NotFound`` errors, so a missing bin and another tenant's
bin answer the same.

Put-away suggestions follow the lot's QC state. A lot that may be sold
(approved) goes to a storage or pick bin of its warehouse that already holds
the product, the one holding the fewest other products first, then by pick
sequence; failing that to the first empty storage bin by pick sequence. A
lot in quarantine (or rejected) is suggested only a quarantine bin, and none
when the warehouse has no quarantine bin: it then waits in receiving until QC
decides. Nothing is lost either way: a move never changes a lot's QC state,
so quarantined stock stays unavailable in whatever bin it is moved to.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from inventory.catalog.selectors import code_key
from inventory.core.errors import LocationNotFound, LotNotFound, ValidationFailed
from inventory.models import RESERVATION_KINDS, Balance, LedgerEntry, LedgerKind, Lot, QcStatus
from warehouse.models import Location, LocationKind, Warehouse

# Bins stock is put away into (a pick face is restocked the same way).
STORAGE_KINDS = (LocationKind.STORAGE, LocationKind.PICK)
# Lots that may not be sold wait in a quarantine bin, never among saleable stock.
HELD_STATUSES = (QcStatus.QUARANTINE, QcStatus.REJECTED)


def find_bin(code: str, warehouse: Warehouse | None = None) -> Location:
    """The active bin with ``code`` (a scanned label), in ``warehouse`` when given.

    Without a warehouse the code must name one bin of the tenant: when bins of
    several warehouses share it, ``ValidationFailed`` names the warehouses so
    the caller can ask which. Raises ``LocationNotFound`` when no active bin
    has the code.
    """
    bins = Location.objects.filter(code_key=code_key(code), is_active=True)
    if warehouse is not None:
        bins = bins.filter(warehouse=warehouse)
    found = list(bins.select_related("warehouse").order_by("warehouse__code")[:10])
    if not found:
        where = f" in warehouse {warehouse.code}" if warehouse is not None else ""
        raise LocationNotFound(f"No bin {str(code).strip()!r}{where}.")
    if len(found) > 1:
        warehouses = ", ".join(location.warehouse.code for location in found)
        raise ValidationFailed(
            f"Bin {found[0].code} is in several warehouses ({warehouses}); choose the warehouse."
        )
    return found[0]


def get_bin(location_id: int) -> Location:
    """The bin with this id (active or not), with its warehouse, or ``LocationNotFound``."""
    try:
        return Location.objects.select_related("warehouse").get(pk=int(location_id))
    except (Location.DoesNotExist, ValueError, TypeError, OverflowError):
        raise LocationNotFound(f"No bin {location_id}.") from None


def bin_contents(location: Location) -> QuerySet[Balance]:
    """What ``location`` holds, per lot: on hand, reserved and available (paginate it)."""
    return (
        Balance.objects.filter(location=location, on_hand__gt=0)
        .select_related("product", "lot", "location")
        .annotate(available_quantity=F("on_hand") - F("reserved"))
        .order_by("product__sku", "lot__expires_on", "lot__code", "id")
    )


def bin_movements(location: Location) -> QuerySet[LedgerEntry]:
    """Stock that entered or left ``location``, newest first (page it lazily).

    Reservations and their releases are left out: they change what is
    promised, not what is in the bin.
    """
    return (
        LedgerEntry.objects.filter(location=location)
        .exclude(kind__in=RESERVATION_KINDS)
        .select_related("product", "lot", "actor_user", "api_token")
        .order_by("-occurred_at", "-id")
    )


def lot_in_bin(location: Location, lot_code: str, *, sku: str = "") -> Balance:
    """The balance of the lot ``lot_code`` that has stock in ``location``.

    Lot codes are unique per product only: when lots of several products
    share the code in this bin, ``ValidationFailed`` asks for the SKU. Raises
    ``LotNotFound`` when no lot with the code has stock here.
    """
    balances = Balance.objects.filter(
        location=location, on_hand__gt=0, lot__code_key=code_key(lot_code)
    )
    if sku:
        balances = balances.filter(product__sku_key=code_key(sku))
    found = list(balances.select_related("lot", "product").order_by("product__sku")[:10])
    if not found:
        of = f" of {sku.strip()}" if sku else ""
        raise LotNotFound(f"No lot {lot_code.strip()!r}{of} in bin {location.code}.")
    if len(found) > 1:
        skus = ", ".join(balance.product.sku for balance in found)
        raise ValidationFailed(
            f"Lots {found[0].lot.code} of several products are in bin {location.code} "
            f"({skus}); scan the product SKU too."
        )
    return found[0]


def find_lot(lot_code: str, *, sku: str = "", location: Location | None = None) -> Lot:
    """The lot with ``lot_code`` (of the product ``sku`` when given), even one not in stock.

    When lots of several products share the code, the one with stock in
    ``location`` is meant; if that does not decide, ``ValidationFailed``
    asks for the SKU. Raises ``LotNotFound``.
    """
    lots = Lot.objects.filter(code_key=code_key(lot_code))
    if sku:
        lots = lots.filter(product__sku_key=code_key(sku))
    found = list(lots.select_related("product").order_by("product__sku")[:10])
    if len(found) > 1 and location is not None:
        here = Balance.objects.filter(lot=OuterRef("pk"), location=location, on_hand__gt=0)
        found = list(lots.filter(Exists(here)).select_related("product")[:10]) or found
    if not found:
        of = f" of {sku.strip()}" if sku else ""
        raise LotNotFound(f"No lot {lot_code.strip()!r}{of}.")
    if len(found) > 1:
        skus = ", ".join(lot.product.sku for lot in found)
        raise ValidationFailed(
            f"Several products have a lot {found[0].code} ({skus}); scan the product SKU too."
        )
    return found[0]


def put_away_list(warehouse: Warehouse | None = None) -> QuerySet[Balance]:
    """Stock waiting in receiving bins, oldest receipt first (``suggest_bins`` for a page)."""
    balances = Balance.objects.filter(on_hand__gt=0, location__kind=LocationKind.RECEIVING)
    if warehouse is not None:
        balances = balances.filter(warehouse=warehouse)
    return balances.select_related("product", "lot", "location", "warehouse").order_by(
        "lot__received_at", "id"
    )


def suggest_bins(balances: Iterable[Balance]) -> dict[int, Location | None]:
    """The bin each balance (of a page of the put-away list) should go to, by balance id.

    Three queries whatever the number of balances. The rules are the module's.
    """
    balances = list(balances)
    if not balances:
        return {}
    products = {balance.product_id for balance in balances}
    warehouses = {balance.warehouse_id for balance in balances}
    stocked = Balance.objects.filter(on_hand__gt=0)
    # The storage bins already holding one of these products.
    holding = stocked.filter(
        product_id__in=products,
        warehouse_id__in=warehouses,
        location__kind__in=STORAGE_KINDS,
        location__is_active=True,
    )
    pairs = set(holding.values_list("product_id", "location_id"))
    products_in_bin = (
        stocked.filter(location_id=OuterRef("pk"))
        .values("location_id")
        .annotate(products=Count("product_id", distinct=True))
        .values("products")
    )
    candidates = Location.objects.filter(pk__in={location_id for _, location_id in pairs})
    candidates = sorted(
        candidates.annotate(products=Coalesce(Subquery(products_in_bin), 0)),
        key=lambda location: (
            location.products,
            location.pick_sequence,
            location.code,
            location.pk,
        ),
    )
    # The first empty storage bin and the first quarantine bin of each warehouse.
    is_empty = ~Exists(stocked.filter(location_id=OuterRef("pk")))
    fallbacks = {
        (location.warehouse_id, location.kind): location
        for location in Location.objects.filter(warehouse_id__in=warehouses, is_active=True)
        .filter(Q(kind=LocationKind.QUARANTINE) | Q(is_empty, kind=LocationKind.STORAGE))
        .order_by("warehouse_id", "kind", "pick_sequence", "code", "id")
        .distinct("warehouse_id", "kind")
    }

    suggestions: dict[int, Location | None] = {}
    for balance in balances:
        if balance.lot.qc_status in HELD_STATUSES:
            suggestion = fallbacks.get((balance.warehouse_id, LocationKind.QUARANTINE))
        else:
            suggestion = next(
                (
                    location
                    for location in candidates
                    if location.warehouse_id == balance.warehouse_id
                    and (balance.product_id, location.pk) in pairs
                ),
                None,
            ) or fallbacks.get((balance.warehouse_id, LocationKind.STORAGE))
        suggestions[balance.pk] = suggestion
    return suggestions


def recent_adjustments(warehouse: Warehouse | None = None) -> QuerySet[LedgerEntry]:
    """Adjustments, newest first, with who made them (paginate the result)."""
    entries = LedgerEntry.objects.filter(kind=LedgerKind.ADJUST)
    if warehouse is not None:
        entries = entries.filter(warehouse=warehouse)
    return entries.select_related(
        "product", "lot", "location", "warehouse", "actor_user", "api_token"
    ).order_by("-occurred_at", "-id")

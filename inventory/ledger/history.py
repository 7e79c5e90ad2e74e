"""Movement history read from the ledger: a product's, a lot's, a customer's.

Call inside a tenant context (row-level security scopes every one). Each
read is shaped for one index, so its cost does not grow with the ledger:

- a product's history: ``ledger_product_occurred_idx`` (tenant, product,
  occurred_at), newest first; a date range also prunes the monthly partitions;
- a lot's movements: ``ledger_lot_location_idx`` (tenant, lot, ...);
- a customer's lots: the customer's orders (``order_customer_idx``), then their
  shipments' entries by operation (``ledger_operation_idx``).

A ``SHIP`` entry is traced to its order by ``Order.shipment_operation``: every
entry of an order's shipment carries that operation.
"""

from __future__ import annotations

from django.db.models import Case, CharField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Collate, Concat, Lower

from inventory.models import LedgerEntry, LedgerKind, Lot, Order, Product

# A recall's list of what a customer received stops here; the screen says so.
MAX_CUSTOMER_ORDERS = 500
# The last character a customer name can start a range with (C collation, UTF-8).
_HIGHEST_CHARACTER = "\U0010ffff"


def actor_name(entry: LedgerEntry) -> str:
    """Who made an entry, in words: the person, the API token, or the system."""
    if entry.actor_user_id is not None:
        user = entry.actor_user
        return user.get_full_name() or user.get_username()
    if entry.api_token_id is not None:
        return f"API: {entry.api_token.name}"
    return "System"


def _with_order(entries: QuerySet[LedgerEntry]) -> QuerySet[LedgerEntry]:
    """Annotate ``SHIP`` entries with the reference and customer of the order they shipped."""
    # One order per shipment operation: no ordering needed.
    shipped = Order.objects.filter(shipment_operation_id=OuterRef("operation_id")).order_by()

    def of_shipment(field):
        return Case(
            When(kind=LedgerKind.SHIP, then=Subquery(shipped.values(field)[:1])),
            default=Value(""),
            output_field=CharField(),
        )

    return entries.annotate(
        order_reference=of_shipment("reference"), customer=of_shipment("customer")
    )


def product_history(product: Product) -> QuerySet[LedgerEntry]:
    """Ledger entries of ``product``, newest first, with who, where and which lot.

    Filter ``occurred_at`` by a range to leave the other months' partitions
    unread (``inventory.catalog.filters.HistoryFilter``). Page it without
    counting (``LazyPaginator``): a product may have hundreds of thousands of
    entries.
    """
    return (
        LedgerEntry.objects.filter(product=product)
        .select_related("lot", "location", "warehouse", "actor_user", "api_token")
        .order_by("-occurred_at", "-id")
    )


def lot_movements(lot: Lot) -> QuerySet[LedgerEntry]:
    """Every entry of ``lot``, oldest first, shipments with their order and customer."""
    entries = LedgerEntry.objects.filter(lot_id=lot.pk).select_related(
        "location", "warehouse", "actor_user", "api_token"
    )
    return _with_order(entries).order_by("occurred_at", "id")


def orders_of_customer(name: str) -> QuerySet[Order]:
    """Shipped orders whose customer name starts with ``name`` (any letter case).

    A range on the stored ``customer_key`` (``lower(customer)``, C collation):
    range comparisons are LEAKPROOF, so ``order_customer_idx`` serves them
    under row-level security.
    """
    name = " ".join(name.split())
    if not name or "\x00" in name:
        return Order.objects.none()
    # PostgreSQL lowers both sides (Python's lower() differs beyond ASCII);
    # lower() of a constant is folded before the index is searched.
    start = Collate(Lower(Value(name)), "C")
    end = Collate(Concat(Lower(Value(name)), Value(_HIGHEST_CHARACTER)), "C")
    return Order.objects.filter(
        customer_key__gte=start,
        customer_key__lt=end,
        shipment_operation__isnull=False,
    ).order_by("customer", "-shipped_at", "id")


def customer_receipts(name: str) -> QuerySet[LedgerEntry]:
    """What customers named ``name…`` received: the ``SHIP`` entries of their orders.

    Each row carries its lot (and product), the order reference and customer;
    newest shipment first. Reads at most ``MAX_CUSTOMER_ORDERS`` orders.
    """
    operations = orders_of_customer(name).values("shipment_operation_id")[:MAX_CUSTOMER_ORDERS]
    entries = LedgerEntry.objects.filter(
        kind=LedgerKind.SHIP, operation_id__in=operations
    ).select_related("lot", "product", "location", "warehouse")
    return _with_order(entries).order_by("-occurred_at", "-id")

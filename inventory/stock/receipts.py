"""Receiving stock: a new lot into a receiving or storage bin, with its ``RECEIPT`` entry.

Takes an optional ``operation``: the idempotency record from
``inventory.core.idempotency.run_idempotent``, whose ledger entry it writes;
without one it creates an operation with a generated key.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.catalog.selectors import default_receiving_location
from inventory.core.errors import (
    DuplicateLotCode,
    LocationNotReceivable,
    LotExpiredOnReceipt,
    ProductNotFound,
    ValidationFailed,
    WarehouseNotFound,
)
from inventory.core.idempotency import operation_for
from inventory.core.quantities import parse_amount, parse_quantity
from inventory.core.validation import aware_time, clean_text, constraint_name, owned, owned_location
from inventory.ledger.posting import SYSTEM, Actor, Posting, post_entries
from inventory.models import LedgerEntry, LedgerKind, Lot, Operation, Product, QcStatus
from warehouse.models import Location, LocationKind, Tenant, Warehouse
from warehouse.tenancy import tenant_context


@dataclass(frozen=True)
class Receipt:
    lot: Lot
    location: Location
    entry: LedgerEntry

    @property
    def quantity(self) -> Decimal:
        return self.entry.quantity

    @property
    def is_expired(self) -> bool:
        """Was the lot past its expiry when it was received? (Then it is never available.)"""
        received_on = timezone.localdate(self.lot.received_at)
        return self.lot.expires_on is not None and self.lot.expires_on < received_on

    @property
    def is_available(self) -> bool:
        return self.lot.qc_status == QcStatus.APPROVED and not self.is_expired

    def as_dict(self) -> dict[str, Any]:
        """What a receipt answers to the API and shows on the receive screen."""
        lot = self.lot
        return {
            "lot_id": lot.pk,
            "lot_code": lot.code,
            "sku": lot.product.sku,
            "uom": lot.product.uom,
            "warehouse": self.location.warehouse.code,
            "location": self.location.code,
            "quantity": str(self.quantity),
            "qc_status": lot.qc_status,
            "expires_on": lot.expires_on,
            "is_expired": self.is_expired,
            "is_available": self.is_available,
            "unit_cost": str(lot.unit_cost),
            "received_at": lot.received_at,
            "entry_id": self.entry.pk,
            "operation_id": self.entry.operation_id,
        }


def receive_stock(
    *,
    tenant: Tenant,
    product: Product,
    warehouse: Warehouse,
    lot_code: str,
    quantity: Any,
    actor: Actor = SYSTEM,
    location: Location | None = None,
    expires_on: datetime.date | None = None,
    unit_cost: Any = None,
    occurred_at: datetime.datetime | None = None,
    operation: Operation | None = None,
) -> Receipt:
    """Receive ``quantity`` of a new lot ``lot_code`` into ``location``.

    The location defaults to the warehouse's receiving bin, the expiry to the
    receipt date plus the product's shelf life, the unit cost to the
    product's. The lot starts in ``QUARANTINE`` when the product requires QC,
    else ``APPROVED``. A lot whose expiry is already past is received (on
    hand, never available; ``Receipt.is_expired`` says so) unless the tenant
    refuses such receipts. Writes the lot, one ``RECEIPT`` entry and the
    balance. Locks nothing beyond the balance row its upsert touches.

    Raises ``ProductNotFound``, ``WarehouseNotFound``, ``LocationNotFound``,
    ``LocationNotReceivable`` (a bin that is not for receiving or storage;
    quarantine bins take lots of QC products only), ``LotExpiredOnReceipt``
    (when the tenant refuses expired receipts), ``DuplicateLotCode``,
    ``InvalidQuantity``, ``ValidationFailed``.
    """
    owned(product, tenant, ProductNotFound, Product)
    owned(warehouse, tenant, WarehouseNotFound, Warehouse)
    lot_code = clean_text(lot_code, what="lot code", max_length=64)
    quantity = parse_quantity(quantity, places=product.quantity_places)
    cost = product.unit_cost if unit_cost is None else parse_amount(unit_cost)
    if expires_on is not None and not isinstance(expires_on, datetime.date):
        raise ValidationFailed("The expiry must be a date.")
    if isinstance(expires_on, datetime.datetime):
        expires_on = expires_on.date()
    occurred_at = aware_time(occurred_at)
    with tenant_context(tenant.pk):
        if location is None:
            location = default_receiving_location(warehouse)
        else:
            owned_location(location, warehouse, tenant)
        _check_receivable(location, product)
        received_on = timezone.localdate(occurred_at)
        if expires_on is None:
            expires_on = product.expiry_for(received_on)
        if expires_on is not None and expires_on < received_on and tenant.refuse_expired_receipts:
            raise LotExpiredOnReceipt(
                f"Lot {lot_code} expired on {expires_on:%d %b %Y}; "
                f"expired lots are not received. Check the expiry date."
            )
        operation = operation_for(operation, tenant=tenant, kind="receipt")
        try:
            with transaction.atomic():
                lot = Lot.objects.create(
                    tenant=tenant,
                    product=product,
                    code=lot_code,
                    expires_on=expires_on,
                    received_at=occurred_at,
                    unit_cost=cost,
                    qc_status=QcStatus.QUARANTINE if product.qc_required else QcStatus.APPROVED,
                    qc_at=None if product.qc_required else occurred_at,
                    qc_note="" if product.qc_required else "No QC required for this product.",
                )
        except IntegrityError as error:
            if constraint_name(error) == "lot_tenant_product_code_key":
                raise DuplicateLotCode(
                    f"Product {product.sku} already has a lot {lot_code!r}."
                ) from None
            raise
        lot.product = product
        (entry,) = post_entries(
            tenant=tenant,
            operation=operation,
            actor=actor,
            postings=[Posting(LedgerKind.RECEIPT, lot, location, quantity)],
            occurred_at=occurred_at,
        )
        return Receipt(lot=lot, location=location, entry=entry)


# Bins a receipt may go into; quarantine bins only for lots that wait for QC.
RECEIVABLE_KINDS = (LocationKind.RECEIVING, LocationKind.STORAGE)


def _check_receivable(location: Location, product: Product) -> None:
    if location.kind in RECEIVABLE_KINDS:
        return
    if location.kind == LocationKind.QUARANTINE and product.qc_required:
        return
    allowed = "a receiving or storage bin"
    if product.qc_required:
        allowed += " (or a quarantine bin)"
    raise LocationNotReceivable(
        f"Bin {location.code} is a {location.get_kind_display().lower()} bin; "
        f"receive {product.sku} into {allowed}."
    )

"""Every change to the catalog, lots and stock: one function, one transaction each.

Each service opens its own tenant context (a transaction, or a savepoint
inside the request's), so it can be called from a view, an API endpoint, a
command or a test alike. Arguments are keyword-only; objects passed in must
belong to ``tenant`` (another tenant's object answers like a missing one).
Services raise the domain errors of ``inventory.errors``; nothing is written
when they do.

Stock services take an optional ``operation``: the idempotency record from
``inventory.idempotency.run_idempotent``, whose ledger entries they write.
Without one they create an operation with a generated key.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory import selectors
from inventory.errors import (
    DomainError,
    DuplicateLocationCode,
    DuplicateLotCode,
    DuplicateSku,
    DuplicateWarehouseCode,
    InsufficientStock,
    LocationNotFound,
    LocationNotReceivable,
    LotExpiredOnReceipt,
    LotNotApproved,
    LotNotDecided,
    LotNotFound,
    LotNotInQuarantine,
    LotReserved,
    ProductNotFound,
    ValidationFailed,
    WarehouseNotFound,
)
from inventory.idempotency import new_operation
from inventory.ledger import SYSTEM, Actor, Posting, post_entries
from inventory.locks import lock_balances
from inventory.models import (
    MAX_SHELF_LIFE_DAYS,
    ApiToken,
    Balance,
    LedgerEntry,
    LedgerKind,
    Lot,
    Operation,
    Product,
    QcDecision,
    QcDecisionKind,
    QcStatus,
    UnitOfMeasure,
)
from inventory.quantities import parse_amount, parse_quantity
from inventory.selectors import StockSummary, default_receiving_location
from warehouse.models import Location, LocationKind, Tenant, Warehouse
from warehouse.tenancy import tenant_context

__all__ = [
    "SYSTEM",
    "Actor",
    "CountDifference",
    "CountLine",
    "Move",
    "Receipt",
    "StockSummary",
    "adjust_stock",
    "approve_lot",
    "create_location",
    "create_product",
    "create_warehouse",
    "move_stock",
    "post_count",
    "receive_stock",
    "reject_lot",
    "reverse_qc_decision",
    "ship_stock",
    "stock_summary",
]

MAX_REASON_LENGTH = 500
MAX_NOTE_LENGTH = 2000
DEFAULT_RECEIVING_CODE = "RECEIVING"


# -- results ----------------------------------------------------------------


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


@dataclass(frozen=True)
class Move:
    out_entry: LedgerEntry
    in_entry: LedgerEntry


@dataclass(frozen=True)
class CountLine:
    lot: Lot
    location: Location
    counted_quantity: Any  # parsed and validated by post_count


@dataclass(frozen=True)
class CountDifference:
    lot: Lot
    location: Location
    previous_quantity: Decimal
    counted_quantity: Decimal
    entry: LedgerEntry | None  # None when the count matched the books

    @property
    def difference(self) -> Decimal:
        return self.counted_quantity - self.previous_quantity


# -- helpers ----------------------------------------------------------------


def _text(value: Any, *, what: str, max_length: int, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(f"The {what} must be text.")
    value = value.strip()
    if required and not value:
        raise ValidationFailed(f"The {what} is required.")
    if len(value) > max_length:
        raise ValidationFailed(f"The {what} may be at most {max_length} characters long.")
    if any(ord(character) < 32 for character in value):
        raise ValidationFailed(f"The {what} may not contain control characters.")
    return value


def _own(obj, tenant: Tenant, error: type[DomainError], model: type):
    """``obj`` if it is a ``model`` row of ``tenant``; else the not-found error."""
    if not isinstance(obj, model) or obj.pk is None or obj.tenant_id != tenant.pk:
        raise error()
    return obj


def _location_in(location, warehouse: Warehouse, tenant: Tenant) -> Location:
    _own(location, tenant, LocationNotFound, Location)
    if location.warehouse_id != warehouse.pk or not location.is_active:
        raise LocationNotFound(f"No location {location.code} in warehouse {warehouse.code}.")
    return location


def _constraint(error: IntegrityError) -> str | None:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def _now(occurred_at: datetime.datetime | None) -> datetime.datetime:
    if occurred_at is None:
        return timezone.now()
    if timezone.is_naive(occurred_at):
        raise ValidationFailed("The time must carry a time zone.")
    return occurred_at


def _operation(operation: Operation | None, *, tenant: Tenant, kind: str) -> Operation:
    if operation is None:
        return new_operation(tenant=tenant, kind=kind)
    return _own(operation, tenant, ValidationFailed, Operation)


# -- catalog and sites --------------------------------------------------------


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
) -> Product:
    """Add a product to the catalog (one insert; no lock beyond the unique index).

    Raises ``DuplicateSku`` when the tenant has the SKU in any letter case,
    ``ValidationFailed`` for a bad SKU, name, unit, shelf life or attributes,
    ``InvalidQuantity`` for a bad unit cost.
    """
    sku = _text(sku, what="SKU", max_length=64)
    name = _text(name, what="name", max_length=200)
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
                )
        except IntegrityError as error:
            if _constraint(error) == "product_tenant_sku_key":
                raise DuplicateSku(f"A product with SKU {sku!r} already exists.") from None
            raise


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
    code = _text(code, what="warehouse code", max_length=32)
    name = _text(name, what="name", max_length=200)
    try:
        zoneinfo.ZoneInfo(_text(time_zone, what="time zone", max_length=64))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"Unknown time zone {time_zone!r}.") from None
    with tenant_context(tenant.pk):
        try:
            with transaction.atomic():
                warehouse = Warehouse.objects.create(
                    tenant=tenant, code=code, name=name, time_zone=time_zone
                )
        except IntegrityError as error:
            if _constraint(error) == "warehouse_tenant_code_key":
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
    _own(warehouse, tenant, WarehouseNotFound, Warehouse)
    code = _text(code, what="location code", max_length=32)
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
            if _constraint(error) == "location_tenant_warehouse_code_key":
                raise DuplicateLocationCode(
                    f"Warehouse {warehouse.code} already has a location {code!r}."
                ) from None
            raise


# -- receipts and QC ------------------------------------------------------------


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
    _own(product, tenant, ProductNotFound, Product)
    _own(warehouse, tenant, WarehouseNotFound, Warehouse)
    lot_code = _text(lot_code, what="lot code", max_length=64)
    quantity = parse_quantity(quantity, places=product.quantity_places)
    cost = product.unit_cost if unit_cost is None else parse_amount(unit_cost)
    if expires_on is not None and not isinstance(expires_on, datetime.date):
        raise ValidationFailed("The expiry must be a date.")
    if isinstance(expires_on, datetime.datetime):
        expires_on = expires_on.date()
    occurred_at = _now(occurred_at)
    with tenant_context(tenant.pk):
        if location is None:
            location = default_receiving_location(warehouse)
        else:
            _location_in(location, warehouse, tenant)
        _check_receivable(location, product)
        received_on = timezone.localdate(occurred_at)
        if expires_on is None:
            expires_on = product.expiry_for(received_on)
        if expires_on is not None and expires_on < received_on and tenant.refuse_expired_receipts:
            raise LotExpiredOnReceipt(
                f"Lot {lot_code} expired on {expires_on:%d %b %Y}; "
                f"expired lots are not received. Check the expiry date."
            )
        operation = _operation(operation, tenant=tenant, kind="receipt")
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
            if _constraint(error) == "lot_tenant_product_code_key":
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


def _decided_by_name(lot: Lot) -> str:
    """Who made the lot's current QC decision, in words (a person, an API token, the system)."""
    if lot.qc_by_id is not None:
        user = lot.qc_by
        return user.get_full_name() or user.get_username()
    if lot.qc_by_token_id is not None:
        token = ApiToken.objects.filter(pk=lot.qc_by_token_id).first()
        return f"API token {token.name!r}" if token else "an API client"
    return "the system"


def _already_decided(lot: Lot) -> str:
    when = timezone.localtime(lot.qc_at)
    return (
        f"Lot {lot.code} was already {lot.get_qc_status_display().lower()} by "
        f"{_decided_by_name(lot)} at {when:%H:%M} on {when:%d %b %Y}."
    )


def _record_decision(
    *, tenant: Tenant, lot: Lot, kind: str, previous: str, status: str, actor: Actor, note, at
) -> QcDecision:
    return QcDecision.objects.create(
        tenant=tenant,
        lot_id=lot.pk,
        kind=kind,
        previous_status=previous,
        status=status,
        note=note,
        decided_by_id=actor.user_id,
        decided_by_token_id=actor.api_token_id,
        decided_at=at,
    )


def _decide(*, tenant: Tenant, lot: Lot, status: QcStatus, actor: Actor, note: Any, at) -> Lot:
    _own(lot, tenant, LotNotFound, Lot)
    note = _text(note, what="note", max_length=MAX_NOTE_LENGTH, required=False)
    at = _now(at)
    with tenant_context(tenant.pk):
        # One conditional UPDATE: of two inspectors deciding at once, the second
        # finds the lot no longer in quarantine.
        changed = Lot.objects.filter(pk=lot.pk, qc_status=QcStatus.QUARANTINE).update(
            qc_status=status,
            qc_by_id=actor.user_id,
            qc_by_token_id=actor.api_token_id,
            qc_at=at,
            qc_note=note,
        )
        if not changed:
            current = Lot.objects.select_related("qc_by").filter(pk=lot.pk).first()
            if current is None:
                raise LotNotFound()
            # Say who got there first, so the late decision is not silently lost.
            raise LotNotInQuarantine(_already_decided(current))
        _record_decision(
            tenant=tenant,
            lot=lot,
            kind=QcDecisionKind.DECISION,
            previous=QcStatus.QUARANTINE,
            status=status,
            actor=actor,
            note=note,
            at=at,
        )
        return Lot.objects.select_related("product", "qc_by").get(pk=lot.pk)


def approve_lot(
    *,
    tenant: Tenant,
    lot: Lot,
    actor: Actor = SYSTEM,
    note: str = "",
    at: datetime.datetime | None = None,
) -> Lot:
    """Release a quarantined lot: its stock becomes available.

    Records who (user or token), when (``at``, default now) and the note on the
    lot; the one conditional ``UPDATE`` of the lot row is its only lock.
    Raises ``LotNotFound``, ``LotNotInQuarantine`` (already decided) or
    ``ValidationFailed``. Returns the lot as stored.
    """
    return _decide(tenant=tenant, lot=lot, status=QcStatus.APPROVED, actor=actor, note=note, at=at)


def reject_lot(
    *,
    tenant: Tenant,
    lot: Lot,
    actor: Actor = SYSTEM,
    note: str = "",
    at: datetime.datetime | None = None,
) -> Lot:
    """Reject a quarantined lot: its stock stays on hand but is never available.

    Same record and errors as ``approve_lot``.
    """
    return _decide(tenant=tenant, lot=lot, status=QcStatus.REJECTED, actor=actor, note=note, at=at)


def reverse_qc_decision(
    *,
    tenant: Tenant,
    lot: Lot,
    actor: Actor,
    reason: str,
    status: str,
    previous_status: str | None = None,
    at: datetime.datetime | None = None,
) -> Lot:
    """Correct a QC decision: an approved or rejected lot goes to ``status``.

    ``status`` is ``QUARANTINE`` (decide again) or the other decision.
    ``previous_status`` is the decision being reversed (default: the status
    ``lot`` carries); if the lot has moved on since, nothing changes. Records
    the reversal (who, when, the required reason) in the QC history and on the
    lot. Taking an approved lot out of stock while reservations hold part of
    it would leave reserved stock in a lot that may not be reserved, so that
    is refused: the lot's balance rows are locked (``inventory.locks`` order)
    before their reserved quantities are read, so a reservation either
    committed first (and is seen) or waits for the reversal.

    Raises ``LotNotFound``, ``LotNotDecided`` (in quarantine, or no longer in
    ``previous_status``), ``LotReserved``, ``ValidationFailed`` (no reason,
    an unknown or unchanged status).
    """
    _own(lot, tenant, LotNotFound, Lot)
    reason = _text(reason, what="reason", max_length=MAX_NOTE_LENGTH)
    if status not in QcStatus.values:
        raise ValidationFailed(f"Unknown QC status {status!r}.")
    previous = lot.qc_status if previous_status is None else previous_status
    if previous not in (QcStatus.APPROVED, QcStatus.REJECTED):
        raise LotNotDecided(f"Lot {lot.code} has no QC decision to reverse.")
    if status == previous:
        raise ValidationFailed(f"Lot {lot.code} is already {QcStatus(status).label.lower()}.")
    at = _now(at)
    with tenant_context(tenant.pk):
        if previous == QcStatus.APPROVED:
            holdings = Balance.objects.filter(lot_id=lot.pk).select_related("location", "lot")
            locked = lock_balances([(balance.lot, balance.location) for balance in holdings])
            reserved = sum((balance.reserved for balance in locked.values()), Decimal(0))
            if reserved:
                raise LotReserved(
                    f"{reserved.normalize():f} of lot {lot.code} is reserved; release or "
                    f"issue those reservations before reversing its approval."
                )
        decided = status != QcStatus.QUARANTINE
        changed = Lot.objects.filter(pk=lot.pk, qc_status=previous).update(
            qc_status=status,
            qc_by_id=actor.user_id if decided else None,
            qc_by_token_id=actor.api_token_id if decided else None,
            qc_at=at if decided else None,
            qc_note=f"Reversed: {reason}" if decided else "",
        )
        if not changed:
            current = Lot.objects.select_related("qc_by").filter(pk=lot.pk).first()
            if current is None:
                raise LotNotFound()
            if current.qc_status == QcStatus.QUARANTINE:
                raise LotNotDecided(
                    f"Lot {lot.code} is back in quarantine; decide it in the queue."
                )
            raise LotNotDecided(_already_decided(current))
        _record_decision(
            tenant=tenant,
            lot=lot,
            kind=QcDecisionKind.REVERSAL,
            previous=previous,
            status=status,
            actor=actor,
            note=reason,
            at=at,
        )
        return Lot.objects.select_related("product", "qc_by").get(pk=lot.pk)


# -- stock changes ----------------------------------------------------------------


def adjust_stock(
    *,
    tenant: Tenant,
    lot: Lot,
    location: Location,
    quantity_delta: Any,
    reason: str,
    actor: Actor = SYSTEM,
    occurred_at: datetime.datetime | None = None,
    operation: Operation | None = None,
) -> LedgerEntry:
    """Add (positive delta) or remove (negative) stock of ``lot`` at ``location``.

    Writes one ``ADJUST`` entry with the reason. The single conditional update
    of the balance row is its only lock. Raises ``InsufficientStock`` when the
    removal would take the balance below zero (or below what is reserved),
    ``InvalidQuantity`` (zero, too precise, too large), ``ValidationFailed``
    (missing reason), ``LotNotFound``, ``LocationNotFound``.
    """
    _own(lot, tenant, LotNotFound, Lot)
    _own(location, tenant, LocationNotFound, Location)
    reason = _text(reason, what="reason", max_length=MAX_REASON_LENGTH)
    with tenant_context(tenant.pk):
        product = Product.objects.get(pk=lot.product_id)
        delta = parse_quantity(
            quantity_delta,
            places=product.quantity_places,
            allow_negative=True,
            what="quantity delta",
        )
        occurred_at = _now(occurred_at)
        operation = _operation(operation, tenant=tenant, kind="adjustment")
        (entry,) = post_entries(
            tenant=tenant,
            operation=operation,
            actor=actor,
            postings=[Posting(LedgerKind.ADJUST, lot, location, delta, reason)],
            occurred_at=occurred_at,
        )
        return entry


def ship_stock(
    *,
    tenant: Tenant,
    lot: Lot,
    location: Location,
    quantity: Any,
    actor: Actor = SYSTEM,
    reference: str = "",
    occurred_at: datetime.datetime | None = None,
    operation: Operation | None = None,
) -> LedgerEntry:
    """Send ``quantity`` of ``lot`` out of the warehouse from ``location``.

    A plain shipment of free stock (orders and their reservations will issue
    through their own service). Writes one ``SHIP`` entry with the reference
    as its reason; the conditional update of the balance row is its only
    lock and leaves what is reserved untouched. Raises ``LotNotApproved``
    (quarantined, rejected or expired lot), ``InsufficientStock``,
    ``InvalidQuantity``, ``LotNotFound``, ``LocationNotFound``.
    """
    _own(lot, tenant, LotNotFound, Lot)
    _own(location, tenant, LocationNotFound, Location)
    reference = _text(reference, what="reference", max_length=MAX_REASON_LENGTH, required=False)
    occurred_at = _now(occurred_at)
    with tenant_context(tenant.pk):
        lot = Lot.objects.select_related("product").get(pk=lot.pk)
        if not lot.is_available_on(timezone.localdate(occurred_at)):
            state = (
                f"expired on {lot.expires_on}"
                if lot.qc_status == QcStatus.APPROVED
                else lot.get_qc_status_display().lower()
            )
            raise LotNotApproved(f"Lot {lot.code} is {state}; it cannot be shipped.")
        quantity = parse_quantity(quantity, places=lot.product.quantity_places)
        operation = _operation(operation, tenant=tenant, kind="shipment")
        (entry,) = post_entries(
            tenant=tenant,
            operation=operation,
            actor=actor,
            postings=[Posting(LedgerKind.SHIP, lot, location, -quantity, reference)],
            occurred_at=occurred_at,
        )
        return entry


def move_stock(
    *,
    tenant: Tenant,
    lot: Lot,
    from_location: Location,
    to_location: Location,
    quantity: Any,
    actor: Actor = SYSTEM,
    reason: str = "",
    occurred_at: datetime.datetime | None = None,
    operation: Operation | None = None,
) -> Move:
    """Move ``quantity`` of ``lot`` between two bins of one warehouse.

    Writes a ``MOVE_OUT`` and a ``MOVE_IN`` entry. Locks both balance rows in
    the order of ``inventory.locks`` first, so opposite moves cannot deadlock.
    Raises ``InsufficientStock``, ``InvalidQuantity``, ``LotNotFound``,
    ``LocationNotFound``, ``ValidationFailed`` (same bin, or bins of two
    warehouses).
    """
    _own(lot, tenant, LotNotFound, Lot)
    _own(from_location, tenant, LocationNotFound, Location)
    _own(to_location, tenant, LocationNotFound, Location)
    if from_location.pk == to_location.pk:
        raise ValidationFailed("A move needs two different locations.")
    if from_location.warehouse_id != to_location.warehouse_id:
        raise ValidationFailed("Both locations of a move must be in the same warehouse.")
    if not to_location.is_active:
        raise LocationNotFound(f"Location {to_location.code} is not in use.")
    reason = _text(reason, what="reason", max_length=MAX_REASON_LENGTH, required=False)
    with tenant_context(tenant.pk):
        product = Product.objects.get(pk=lot.product_id)
        quantity = parse_quantity(quantity, places=product.quantity_places)
        occurred_at = _now(occurred_at)
        operation = _operation(operation, tenant=tenant, kind="move")
        lock_balances([(lot, from_location), (lot, to_location)])
        out_entry, in_entry = post_entries(
            tenant=tenant,
            operation=operation,
            actor=actor,
            postings=[
                Posting(LedgerKind.MOVE_OUT, lot, from_location, -quantity, reason),
                Posting(LedgerKind.MOVE_IN, lot, to_location, quantity, reason),
            ],
            occurred_at=occurred_at,
        )
        return Move(out_entry=out_entry, in_entry=in_entry)


def post_count(
    *,
    tenant: Tenant,
    warehouse: Warehouse,
    lines: Sequence[CountLine],
    actor: Actor = SYSTEM,
    reason: str = "",
    occurred_at: datetime.datetime | None = None,
    operation: Operation | None = None,
) -> list[CountDifference]:
    """Make the books match a physical count: the counted quantity becomes the truth.

    For each line whose count differs from the balance, writes one ``COUNT``
    entry for the difference; a matching line writes nothing. Locks every
    counted balance row (``inventory.locks`` order) before reading it, so the
    difference is computed against a balance nobody else can change
    meanwhile. Raises ``InvalidQuantity`` (negative, too precise),
    ``InsufficientStock`` (counted less than is reserved), ``LotNotFound``,
    ``LocationNotFound`` (not in ``warehouse``), ``ValidationFailed`` (no
    lines, a lot counted twice at one location).
    """
    _own(warehouse, tenant, WarehouseNotFound, Warehouse)
    if not lines:
        raise ValidationFailed("A count needs at least one line.")
    reason = _text(reason, what="reason", max_length=MAX_REASON_LENGTH, required=False)
    seen = set()
    for line in lines:
        _own(line.lot, tenant, LotNotFound, Lot)
        _location_in(line.location, warehouse, tenant)
        if (line.lot.pk, line.location.pk) in seen:
            raise ValidationFailed(f"Lot {line.lot.code} is counted twice at {line.location.code}.")
        seen.add((line.lot.pk, line.location.pk))
    with tenant_context(tenant.pk):
        products = Product.objects.in_bulk({line.lot.product_id for line in lines})
        counted = [
            parse_quantity(
                line.counted_quantity,
                places=products[line.lot.product_id].quantity_places,
                allow_zero=True,
                what="counted quantity",
            )
            for line in lines
        ]
        occurred_at = _now(occurred_at)
        operation = _operation(operation, tenant=tenant, kind="count")
        balances = lock_balances([(line.lot, line.location) for line in lines])
        results = []
        for line, quantity in zip(lines, counted, strict=True):
            previous = balances[(line.lot.pk, line.location.pk)].on_hand
            entry = None
            if quantity != previous:
                if quantity < balances[(line.lot.pk, line.location.pk)].reserved:
                    raise InsufficientStock(
                        f"Lot {line.lot.code} at {line.location.code} has more reserved "
                        f"than was counted; release reservations first."
                    )
                (entry,) = post_entries(
                    tenant=tenant,
                    operation=operation,
                    actor=actor,
                    postings=[
                        Posting(
                            LedgerKind.COUNT,
                            line.lot,
                            line.location,
                            quantity - previous,
                            reason or "Physical count",
                        )
                    ],
                    occurred_at=occurred_at,
                )
            results.append(
                CountDifference(
                    lot=line.lot,
                    location=line.location,
                    previous_quantity=previous,
                    counted_quantity=quantity,
                    entry=entry,
                )
            )
        return results


# -- reads ------------------------------------------------------------------------


def stock_summary(
    *,
    tenant: Tenant,
    product: Product,
    warehouse: Warehouse | None = None,
    today: datetime.date | None = None,
) -> StockSummary:
    """On hand, reserved, available, quarantined (and rejected, expired) of a product.

    In ``warehouse``, or summed over every warehouse when it is None. Available
    counts only approved lots not expired on ``today`` (default: today), less
    what is reserved of them. Reads only; raises ``ProductNotFound`` or
    ``WarehouseNotFound`` for another tenant's objects.
    """
    _own(product, tenant, ProductNotFound, Product)
    if warehouse is not None:
        _own(warehouse, tenant, WarehouseNotFound, Warehouse)
    with tenant_context(tenant.pk):
        return selectors.stock_summary(product=product, warehouse=warehouse, today=today)


# -- reservations and orders (inventory.reservations) ------------------------------------

from inventory.reservations import (  # noqa: E402
    IssuedLot,
    LineRequest,
    ReservationResult,
    allocate_order,
    cancel_reservation,
    create_order,
    expire_reservations,
    get_order,
    get_reservation,
    issue_reservation,
    reserve_stock,
)

__all__ += [
    "IssuedLot",
    "LineRequest",
    "ReservationResult",
    "allocate_order",
    "cancel_reservation",
    "create_order",
    "expire_reservations",
    "get_order",
    "get_reservation",
    "issue_reservation",
    "reserve_stock",
]

"""Physical counts: the counted quantity becomes the truth, posted as ``COUNT`` entries."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from inventory.core.errors import (
    InsufficientStock,
    LotNotFound,
    ValidationFailed,
    WarehouseNotFound,
)
from inventory.core.idempotency import operation_for
from inventory.core.locks import lock_balances
from inventory.core.quantities import parse_quantity
from inventory.core.validation import (
    MAX_REASON_LENGTH,
    aware_time,
    clean_text,
    owned,
    owned_location,
)
from inventory.ledger.posting import SYSTEM, Actor, Posting, post_entries
from inventory.models import LedgerEntry, LedgerKind, Lot, Operation, Product
from warehouse.models import Location, Tenant, Warehouse
from warehouse.tenancy import tenant_context


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
    counted balance row (``inventory.core.locks`` order) before reading it, so the
    difference is computed against a balance nobody else can change
    meanwhile. Raises ``InvalidQuantity`` (negative, too precise),
    ``InsufficientStock`` (counted less than is reserved), ``LotNotFound``,
    ``LocationNotFound`` (not in ``warehouse``), ``ValidationFailed`` (no
    lines, a lot counted twice at one location).
    """
    owned(warehouse, tenant, WarehouseNotFound, Warehouse)
    if not lines:
        raise ValidationFailed("A count needs at least one line.")
    reason = clean_text(reason, what="reason", max_length=MAX_REASON_LENGTH, required=False)
    seen = set()
    for line in lines:
        owned(line.lot, tenant, LotNotFound, Lot)
        owned_location(line.location, warehouse, tenant)
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
        occurred_at = aware_time(occurred_at)
        operation = operation_for(operation, tenant=tenant, kind="count")
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

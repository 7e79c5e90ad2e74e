"""What reservations and orders are asked for and what they answer.

``LineRequest`` is one line of a demand (a product and a quantity);
``parse_lines`` validates a demand's lines once for reservations and orders
alike; ``ReservationResult`` is what every reservation service returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from inventory.core.errors import ProductNotFound, ValidationFailed
from inventory.core.quantities import parse_quantity
from inventory.core.validation import owned
from inventory.models import Allocation, Lot, Product, Reservation, ReservationLine
from warehouse.models import Location, Tenant

MAX_LINES = 500
MAX_REFERENCE_LENGTH = 200
# A checkout hold lasts at most a month.
MAX_TTL_SECONDS = 30 * 24 * 60 * 60


@dataclass(frozen=True)
class LineRequest:
    """One line of a reservation or order: a product and how much of it."""

    product: Product
    quantity: Any  # parsed and validated by the service


@dataclass(frozen=True)
class IssuedLot:
    lot: Lot
    location: Location
    quantity: Decimal


@dataclass
class ReservationResult:
    """A reservation with its lines and allocations, as a service returns it."""

    reservation: Reservation
    lines: list[ReservationLine]
    allocations: list[Allocation]
    created: bool = True
    lots_issued: list[IssuedLot] = field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        return all(line.allocated == line.quantity for line in self.lines)


def parse_lines(tenant: Tenant, lines: Sequence[LineRequest]) -> list[tuple[Product, Decimal]]:
    """Validated lines in product id order: the order every allocation locks in."""
    if not lines:
        raise ValidationFailed("At least one line is needed.")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"At most {MAX_LINES} lines.")
    parsed: dict[int, tuple[Product, Decimal]] = {}
    for line in lines:
        product = owned(line.product, tenant, ProductNotFound, Product)
        if product.pk in parsed:
            raise ValidationFailed(f"Product {product.sku} appears on two lines.")
        parsed[product.pk] = (
            product,
            parse_quantity(line.quantity, places=product.quantity_places),
        )
    return [parsed[key] for key in sorted(parsed)]

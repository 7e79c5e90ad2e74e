"""Parsing quantities and amounts from whatever a caller sends.

Quantities are ``Decimal``: never floats, at most as many decimals as the
product's unit allows (three at most, the ledger's precision), and never
absurdly large. Anything else is an ``InvalidQuantity``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from inventory.errors import InvalidQuantity
from inventory.models import QUANTITY_PLACES

# Far above any real stock level, far below what numeric(18, 3) can hold, so
# sums of many entries cannot overflow either.
MAX_QUANTITY = Decimal("1000000000")
MAX_AMOUNT = Decimal("1000000000")


def to_decimal(value: object, *, what: str = "quantity") -> Decimal:
    """A finite ``Decimal`` from a ``Decimal``, ``int``, ``float`` or decimal string."""
    if isinstance(value, bool):  # bool is an int; True is not a quantity
        raise InvalidQuantity(f"The {what} must be a number.")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # repr gives the shortest decimal that round-trips: 0.1 -> "0.1".
        number = Decimal(repr(value))
    elif isinstance(value, str) and value.strip() and len(value) <= 64 and "_" not in value:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidQuantity(f"The {what} {value!r} is not a number.") from None
    else:
        raise InvalidQuantity(f"The {what} must be a number.")
    if not number.is_finite():
        raise InvalidQuantity(f"The {what} must be a finite number.")
    return number


def parse_quantity(
    value: object,
    *,
    places: int = QUANTITY_PLACES,
    allow_zero: bool = False,
    allow_negative: bool = False,
    what: str = "quantity",
) -> Decimal:
    """Validate a stock quantity; by default it must be positive.

    ``places`` is how many decimals the unit allows (``Product.quantity_places``).
    """
    number = to_decimal(value, what=what)
    if number == 0 and not allow_zero:
        raise InvalidQuantity(f"The {what} must not be zero.")
    if number < 0 and not allow_negative:
        raise InvalidQuantity(f"The {what} must not be negative.")
    if abs(number) > MAX_QUANTITY:
        raise InvalidQuantity(f"The {what} must not exceed {MAX_QUANTITY:,}.")
    places = min(places, QUANTITY_PLACES)
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise InvalidQuantity(
            f"The {what} may have at most {places} decimal places in this unit."
            if places
            else f"The {what} must be a whole number in this unit."
        )
    number = number.quantize(Decimal(1).scaleb(-QUANTITY_PLACES))
    return number.copy_abs() if number == 0 else number


def parse_amount(value: object, *, what: str = "unit cost") -> Decimal:
    """A non-negative money amount with at most four decimals."""
    number = to_decimal(value, what=what)
    if number < 0:
        raise InvalidQuantity(f"The {what} must not be negative.")
    if number > MAX_AMOUNT:
        raise InvalidQuantity(f"The {what} must not exceed {MAX_AMOUNT:,}.")
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > 4:
        raise InvalidQuantity(f"The {what} may have at most 4 decimal places.")
    return number.quantize(Decimal("0.0001"))

"""Parsing quantities and amounts from whatever a caller sends.

Quantities are ``Decimal``: never floats, at most as many decimals as the
product's unit allows (three at most, the ledger's precision), and never
absurdly large. Anything else is an ``InvalidQuantity``.

Every number is bounded before anything else touches it: a decimal string
must be short ASCII digits with an exponent of at most two digits, a JSON
float must be finite and a JSON integer below ``LIMIT``. Only then is it a
``Decimal``, so writing it out or checking its range and decimals costs
microseconds whatever a client sends (``"1E+999999"`` written out in full
would be a megabyte of digits; ``"1e1000000"`` overflows the decimal context).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from django.db.models import DecimalField, Value

from inventory.core.errors import InvalidQuantity
from inventory.models import QUANTITY_PLACES

# What an aggregate of quantities over no rows is (``Coalesce(Sum(...), ZERO_QUANTITY)``),
# typed like the ledger's columns so sums and differences keep their decimals.
ZERO_QUANTITY = Value(Decimal("0.000"), output_field=DecimalField(max_digits=18, decimal_places=3))

# Far above any real stock level, far below what numeric(18, 3) can hold, so
# sums of many entries cannot overflow either.
MAX_QUANTITY = Decimal("1000000000")
MAX_AMOUNT = Decimal("1000000000")

# What any number may be before the quantity or amount rules look at it: text of
# at most 40 characters with a two-digit exponent, a float (at most 17 digits and
# a three-digit exponent), an int below LIMIT. Each is cheap to write out or
# compare whatever its value; the rules then refuse what is out of range.
MAX_TEXT_LENGTH = 40
LIMIT = 10**18
MAX_ADJUSTED_EXPONENT = 400

# ASCII digits only: without re.ASCII, \d also matches Arabic-Indic and full-width digits,
# which Decimal() would happily read as 12 and 10.
DECIMAL_TEXT = re.compile(
    r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,2})?", re.ASCII
)


def _too_large(what: str) -> InvalidQuantity:
    return InvalidQuantity(f"The {what} is far too large.")


def _from_text(value: str, what: str) -> Decimal:
    text = value.strip(" \t")
    if not text or len(text) > MAX_TEXT_LENGTH or DECIMAL_TEXT.fullmatch(text) is None:
        shown = value if len(value) <= MAX_TEXT_LENGTH else value[:MAX_TEXT_LENGTH] + "..."
        raise InvalidQuantity(
            f"The {what} {shown!r} is not a decimal number (ASCII digits, an optional point "
            "and at most a two-digit exponent)."
        )
    return Decimal(text)


def to_decimal(value: object, *, what: str = "quantity") -> Decimal:
    """A finite, bounded ``Decimal`` from a ``Decimal``, ``int``, ``float`` or decimal string.

    Bounded means its exponent is at most a few hundred, so the caller may
    compare it, write it out or check its decimal places at no real cost.
    """
    if isinstance(value, bool):  # bool is an int; True is not a quantity
        raise InvalidQuantity(f"The {what} must be a number.")
    if isinstance(value, str):
        number = _from_text(value, what)
    elif isinstance(value, int):
        # Comparing first: Decimal() of a huge int would be exact, and costly.
        if not -LIMIT < value < LIMIT:
            raise _too_large(what)
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidQuantity(f"The {what} must be a finite number.")
        # repr gives the shortest decimal that round-trips: 0.1 -> "0.1"; at most
        # 17 digits and a three-digit exponent.
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidQuantity(f"The {what} must be a finite number.")
        # A Decimal comes from code, not straight from a client, but may have been
        # parsed from anything: the same bounds as text. adjusted() reads the
        # exponent without arithmetic, so it is safe on any Decimal.
        if not value.is_zero() and value.adjusted() >= MAX_ADJUSTED_EXPONENT:
            raise _too_large(what)
        if not value.is_zero() and value.adjusted() < -MAX_ADJUSTED_EXPONENT:
            raise InvalidQuantity(f"The {what} has far too many decimal places.")
        number = value
    else:
        raise InvalidQuantity(f"The {what} must be a number.")
    if number.is_zero():
        # "0E-99" or "-0": one zero, without a sign or an exponent to carry around.
        return Decimal(0)
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
    if decimal_places(number) > places:
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
    if decimal_places(number) > 4:
        raise InvalidQuantity(f"The {what} may have at most 4 decimal places.")
    return number.quantize(Decimal("0.0001"))


def decimal_places(number: Decimal) -> int:
    """Significant digits after the point: 1.50 has one, 100 has none."""
    _sign, digits, exponent = number.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return 0
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -exponent - trailing_zeros)

"""GS1 element strings as barcode scanners type them: GS1-128, GS1 DataMatrix, GS1 QR.

A GS1 barcode carries several facts in one scan, each behind a two to four
digit Application Identifier (AI): ``01`` the GTIN, ``10`` the lot, ``17`` the
expiry date, ``30`` / ``37`` a count. ``parse_gs1`` turns such a string into a
``Gs1`` or None; ``read_gs1`` does the same but says why it refuses.

What it accepts, after trimming spaces at either end:

- An optional symbology identifier first: ``]C1`` (GS1-128), ``]d2`` (GS1
  DataMatrix), ``]Q3`` (GS1 QR), ``]e0`` (GS1 DataBar). It is dropped.
- The group separator that ends a variable-length field: ASCII 29 (``\\x1d``,
  what a scanner sends for FNC1), or ``|``, which scanners that cannot type a
  control character are commonly set to send instead. ``|`` is outside the
  GS1 character set, so it can never be part of a value.
- The human-readable form with the AIs in parentheses: ``(01)09501101020917(10)AB-12``.

Which strings count as GS1 at all: a SKU such as ``10ABC`` must stay a SKU.
A string is read as GS1 when it has a symbology identifier, a separator or
the parentheses, or when it starts with AI ``01``, ``02`` or ``00`` (a GTIN
or SSCC, 14 or 18 digits with a valid check digit), which is how trade-item
barcodes begin. Anything else is not GS1 (``read_gs1`` raises ``NotGs1``).

Separators and the ambiguity without them: a fixed-length AI (``01`` 14
digits, ``17`` six, ...) needs no separator; a variable-length one (``10``,
``21``, ``30``, ``37``) ends at a separator or at the end of the scan. With a
separator anywhere in the scan the reading is strict: every variable-length
field runs to the next separator. With none (a scanner set to drop FNC1), a
variable-length field may end wherever the rest of the scan reads as known
AIs with valid values (check digits, real dates, digits where digits belong);
each AI is read once (and a count once: ``30`` or ``37``); a count takes
as many digits as it can; a lot or serial ends where the reading with the
most fields follows, the earliest such place. So
``...10LOT-423012`` without a separator reads as lot ``LOT-42`` and a count
of 12; a lot code whose tail reads as an AI needs the separator to be read
whole. A scan that no reading consumes completely is refused.

Dates (YYMMDD) follow the GS1 century rule (General Specifications 7.12):
the year is the one nearest to today, up to 50 years ahead or 49 behind;
a day ``00`` means the last day of the month.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
import re
from decimal import Decimal
from functools import lru_cache

from warehouse.validators import gtin_check_digit

# Longer than any real GS1 barcode (GS1-128 holds at most 48 data characters,
# a DataMatrix far more, but no trade-item label needs this much).
MAX_SCAN_LENGTH = 200

GROUP_SEPARATOR = "\x1d"
# What is trimmed from either end of a scan (a trailing separator means something).
SPACES = " \t\r\n"
# What scanners type for FNC1 when they cannot type ASCII 29.
SEPARATOR_STAND_INS = ("|",)
SYMBOLOGY_IDENTIFIERS = ("]C1", "]d2", "]Q3", "]e0")

# The GS1 "character set 82": what an alphanumeric value may contain.
_CSET82 = r"""[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]"""


@dataclasses.dataclass(frozen=True)
class _Ai:
    code: str
    title: str
    # Exact length for fixed-length AIs; at most this for variable ones.
    length: int
    fixed: bool
    kind: str  # "gtin", "digits", "date", "text"


def _ai(code, title, length, kind, fixed=True) -> _Ai:
    return _Ai(code, title, length, fixed, kind)


KNOWN_AIS = {
    ai.code: ai
    for ai in (
        _ai("00", "SSCC", 18, "gtin"),
        _ai("01", "GTIN", 14, "gtin"),
        _ai("02", "GTIN of contained trade items", 14, "gtin"),
        _ai("10", "batch or lot", 20, "text", fixed=False),
        _ai("11", "production date", 6, "date"),
        _ai("13", "packaging date", 6, "date"),
        _ai("15", "best before date", 6, "date"),
        _ai("16", "sell by date", 6, "date"),
        _ai("17", "expiry date", 6, "date"),
        _ai("20", "variant", 2, "digits"),
        _ai("21", "serial number", 20, "text", fixed=False),
        _ai("30", "variable count", 8, "digits", fixed=False),
        _ai("37", "count of trade items", 8, "digits", fixed=False),
        # Net weight in kilograms, the last digit of the AI being the decimals.
        *(_ai(f"310{places}", "net weight (kg)", 6, "digits") for places in range(6)),
    )
}
_AI_LENGTHS = (2, 4)
_VALUE_PATTERNS = {
    "gtin": re.compile(r"[0-9]+"),
    "digits": re.compile(r"[0-9]+"),
    "date": re.compile(r"[0-9]{6}"),
    "text": re.compile(f"{_CSET82}+"),
}
_PARENTHESISED = re.compile(r"\(([0-9]{2,4})\)([^()]*)")


class Gs1Error(ValueError):
    """A scan that looks like GS1 but cannot be read; ``message`` says why, for people."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotGs1(Gs1Error):
    """A scan that is not a GS1 string at all (a SKU, a lot or bin code)."""


@dataclasses.dataclass(frozen=True)
class Gs1:
    """What one GS1 scan says; None where it says nothing."""

    gtin: str | None = None
    lot: str | None = None
    expires_on: datetime.date | None = None
    quantity: Decimal | None = None
    # Every (AI, value) in scan order, as read.
    elements: tuple[tuple[str, str], ...] = ()
    # Read without separators where more than one reading was possible: the
    # fields after a lot or serial number deserve a look.
    is_ambiguous: bool = False

    @property
    def values(self) -> dict[str, str]:
        return dict(self.elements)


def parse_gs1(text: str, *, today: datetime.date | None = None) -> Gs1 | None:
    """The GS1 string ``text`` read, or None if it is not one or cannot be read."""
    try:
        return read_gs1(text, today=today)
    except Gs1Error:
        return None


def read_gs1(text: str, *, today: datetime.date | None = None) -> Gs1:
    """The GS1 string ``text`` read; raises ``NotGs1`` or ``Gs1Error`` saying why not."""
    if not isinstance(text, str):
        raise NotGs1("Not a barcode.")
    if len(text) > MAX_SCAN_LENGTH:
        raise Gs1Error(f"The scan is longer than {MAX_SCAN_LENGTH} characters.")
    today = today or datetime.date.today()
    # Not str.strip(): Python counts the group separator as white space.
    body = text.strip(SPACES)
    marked = False
    for identifier in SYMBOLOGY_IDENTIFIERS:
        if body.startswith(identifier):
            body, marked = body[len(identifier) :], True
            break
    for stand_in in SEPARATOR_STAND_INS:
        body = body.replace(stand_in, GROUP_SEPARATOR)
    if body.startswith("("):
        elements = _read_parenthesised(body)
    else:
        # A separator first is FNC1 in first position, as some scanners send it.
        body = body.lstrip(GROUP_SEPARATOR)
        if not marked and GROUP_SEPARATOR not in body and not _starts_like_gs1(body):
            raise NotGs1("Not a GS1 barcode.")
        if GROUP_SEPARATOR in body:
            elements = []
            for segment in body.split(GROUP_SEPARATOR):
                if segment:
                    elements += _read_strict(segment)
        else:
            elements = _read_unseparated(body)
            return dataclasses.replace(
                _gs1_of(elements, today), is_ambiguous=_reading_count(body, 0) > 1
            )
    return _gs1_of(elements, today)


def _starts_like_gs1(body: str) -> bool:
    # The digits are enough: a wrong check digit is then reported as such.
    ai = KNOWN_AIS.get(body[:2])
    digits = body[2 : 2 + ai.length] if ai else ""
    return ai is not None and ai.kind == "gtin" and len(digits) == ai.length and digits.isdigit()


def _value_error(ai: _Ai, value: str) -> str | None:
    """Why ``value`` cannot be the value of ``ai``, or None when it can."""
    if not value or not _VALUE_PATTERNS[ai.kind].fullmatch(value):
        return f"AI ({ai.code}) {ai.title}: {value!r} is not a valid value."
    if ai.fixed and len(value) != ai.length:
        return f"AI ({ai.code}) {ai.title} needs {ai.length} characters, not {len(value)}."
    if len(value) > ai.length:
        return f"AI ({ai.code}) {ai.title} may have at most {ai.length} characters."
    if ai.kind == "gtin" and gtin_check_digit(value[:-1]) != int(value[-1]):
        return f"AI ({ai.code}) {ai.title} {value} has a wrong check digit."
    if ai.kind == "date" and _date_parts_error(value):
        return f"AI ({ai.code}) {ai.title} {value} is not a date (YYMMDD)."
    return None


def _date_parts_error(value: str) -> bool:
    month, day = int(value[2:4]), int(value[4:6])
    # Any year of the century has at most 29 February; the year is checked later.
    return not (1 <= month <= 12 and 0 <= day <= calendar.monthrange(2000, month)[1])


def _ai_at(body: str, position: int) -> _Ai | None:
    for length in _AI_LENGTHS:
        ai = KNOWN_AIS.get(body[position : position + length])
        if ai is not None:
            return ai
    return None


def _read_parenthesised(body: str) -> list[tuple[str, str]]:
    elements, position = [], 0
    for match in _PARENTHESISED.finditer(body):
        if match.start() != position:
            break
        code, value = match.group(1), match.group(2).strip()
        ai = KNOWN_AIS.get(code)
        if ai is None:
            raise Gs1Error(f"AI ({code}) is not one Stockyard reads.")
        error = _value_error(ai, value)
        if error:
            raise Gs1Error(error)
        elements.append((code, value))
        position = match.end()
    if position != len(body) or not elements:
        raise Gs1Error("The barcode text does not read as (AI)value pairs.")
    return elements


def _read_strict(segment: str) -> list[tuple[str, str]]:
    """One separator-delimited segment: fixed fields, then at most one variable field last."""
    elements, position = [], 0
    while position < len(segment):
        ai = _ai_at(segment, position)
        if ai is None:
            raise Gs1Error(f"Unknown AI at {segment[position : position + 4]!r}.")
        start = position + len(ai.code)
        end = start + ai.length if ai.fixed else len(segment)
        value = segment[start:end]
        error = _value_error(ai, value)
        if error:
            raise Gs1Error(error)
        elements.append((ai.code, value))
        position = end
    return elements


def _read_unseparated(body: str) -> list[tuple[str, str]]:
    reading = _best_reading(body, 0)
    if reading is None:
        # The strict reading names the first field that is wrong (a check digit, a date).
        _read_strict(body)
        raise Gs1Error("The barcode does not read as GS1 fields from start to end.")
    return list(reading)


# Without separators each fact is read once: a second lot, or a count after a
# count (``30`` and ``37`` both give the quantity), is no reading.
_FACT = {"30": "count", "37": "count"}


@lru_cache(maxsize=1024)
def _best_reading(
    body: str, position: int, used: frozenset = frozenset()
) -> tuple[tuple[str, str], ...] | None:
    """The reading of ``body[position:]`` with the most fields (see the module's rule).

    Memoised on the position and the facts already read (a handful of
    variable-length AIs), so the search is linear in the scan's length times
    the longest variable field.
    """
    if position == len(body):
        return ()
    ai = _ai_at(body, position)
    if ai is None:
        return None
    fact = _FACT.get(ai.code, ai.code)
    if fact in used:
        return None
    start = position + len(ai.code)
    if ai.fixed:
        ends = [start + ai.length]
    else:
        ends = list(range(start + 1, min(start + ai.length, len(body)) + 1))
    if ai.kind == "digits":
        # A count's digits could hide a date or another number: it takes all it can.
        ends.reverse()
    best = None
    for end in ends:
        value = body[start:end]
        if end > len(body) or _value_error(ai, value):
            continue
        rest = _best_reading(body, end, used | {fact})
        if rest is not None and ai.kind == "digits":
            return ((ai.code, value), *rest)
        if rest is not None and (best is None or len(rest) + 1 > len(best)):
            best = ((ai.code, value), *rest)
    return best


@lru_cache(maxsize=1024)
def _reading_count(body: str, position: int, used: frozenset = frozenset()) -> int:
    """How many complete readings ``body[position:]`` has, counting up to two."""
    if position == len(body):
        return 1
    ai = _ai_at(body, position)
    fact = _FACT.get(ai.code, ai.code) if ai else None
    if ai is None or fact in used:
        return 0
    start = position + len(ai.code)
    if ai.fixed:
        ends = [start + ai.length]
    else:
        ends = range(start + 1, min(start + ai.length, len(body)) + 1)
    count = 0
    for end in ends:
        if end <= len(body) and not _value_error(ai, body[start:end]):
            count += _reading_count(body, end, used | {fact})
            if count > 1:
                return 2
    return count


def gs1_date(value: str, today: datetime.date) -> datetime.date:
    """A YYMMDD value as a date, with the GS1 century rule and ``00`` as the month's last day."""
    year_in_century, month, day = int(value[:2]), int(value[2:4]), int(value[4:6])
    difference = year_in_century - today.year % 100
    century = today.year // 100 * 100
    if difference >= 51:
        century -= 100
    elif difference <= -50:
        century += 100
    year = century + year_in_century
    last_day = calendar.monthrange(year, month)[1]
    if day == 0:
        day = last_day
    if day > last_day:
        raise Gs1Error(f"{value} is not a date: {year} has no {month:02}-{day:02}.")
    return datetime.date(year, month, day)


def _gs1_of(elements: list[tuple[str, str]], today: datetime.date) -> Gs1:
    if not elements:
        raise Gs1Error("The barcode holds no GS1 fields.")
    values: dict[str, str] = {}
    for code, value in elements:
        if code in values and values[code] != value:
            raise Gs1Error(f"AI ({code}) appears twice with different values.")
        values[code] = value
    # An expiry date is what a lot's expiry is; a best-before date stands in for it.
    expiry = values.get("17") or values.get("15")
    count = values.get("30") or values.get("37")
    return Gs1(
        gtin=values.get("01") or values.get("02"),
        lot=values.get("10"),
        expires_on=gs1_date(expiry, today) if expiry else None,
        quantity=Decimal(int(count)) if count else None,
        elements=tuple(elements),
    )


def format_gs1(elements, *, separator: str = GROUP_SEPARATOR) -> str:
    """``elements`` as a scanner types them: a separator after each variable field but the last."""
    parts = []
    for index, (code, value) in enumerate(elements):
        parts.append(code + value)
        if not KNOWN_AIS[code].fixed and index < len(elements) - 1:
            parts.append(separator)
    return "".join(parts)

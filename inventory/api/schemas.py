"""Request bodies of API v1 and the types their fields share.

The answers are in ``inventory.api.responses``.

Strings carry the database's length limits and the character rules of
``warehouse.validators`` (codes plain ASCII; text free of control, invisible
and bidi characters), so a bad value is a 422 from the schema, never an error
from the database. Quantities and amounts are accepted as JSON numbers or
decimal strings and validated by ``inventory.core.quantities``
(``INVALID_QUANTITY``).

Each type states in its JSON Schema exactly the rule its validator applies:
the schema is a contract that ``tests/api/test_api_schema_fuzz.py`` checks
both ways (what it allows is accepted, what it forbids is refused).
"""

from __future__ import annotations

import datetime
import json
import re
import zoneinfo
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, WithJsonSchema

from inventory.core.errors import InvalidQuantity
from inventory.core.idempotency import KEY_PATTERN, MAX_KEY_LENGTH, key_error
from inventory.core.quantities import DECIMAL_TEXT, MAX_QUANTITY, MAX_TEXT_LENGTH
from inventory.core.validation import MAX_REASON_LENGTH
from inventory.lots.services import MAX_NOTE_LENGTH
from inventory.models import (
    MAX_ATTRIBUTES_SIZE,
    MAX_SHELF_LIFE_DAYS,
    LedgerKind,
    UnitOfMeasure,
)
from inventory.orders.services import MAX_ORDER_REFERENCE_LENGTH
from inventory.reservations.requests import MAX_LINES, MAX_REFERENCE_LENGTH, MAX_TTL_SECONDS
from warehouse.models import LocationKind
from warehouse.validators import (
    CODE_PATTERN,
    TEXT_JSON_PATTERN,
    TEXT_REQUIRED_JSON_PATTERN,
    code_error,
    text_error,
)

MAX_COUNT_LINES = 500


def _refuse(message: str | None) -> None:
    if message is not None:
        raise ValueError(message)


def Code(max_length: int, what: str = "code"):
    """A SKU or a warehouse, bin or lot code (``warehouse.validators``): exact, no stripping."""

    def check(value: str) -> str:
        _refuse(code_error(value, what))
        return value

    return Annotated[
        str,
        StringConstraints(max_length=max_length),
        AfterValidator(check),
        WithJsonSchema(
            {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": CODE_PATTERN}
        ),
    ]


def _clean_text(*, what: str, required: bool):
    def check(value: str) -> str:
        _refuse(text_error(value, what))
        value = value.strip()
        if required and not value:
            raise ValueError(f"The {what} must not be blank.")
        return value

    return check


def Text(max_length: int, what: str = "text"):
    """Free text in any script; surrounding spaces are dropped; not blank."""
    return Annotated[
        str,
        StringConstraints(max_length=max_length),
        AfterValidator(_clean_text(what=what, required=True)),
        WithJsonSchema(
            {"type": "string", "maxLength": max_length, "pattern": TEXT_REQUIRED_JSON_PATTERN}
        ),
    ]


def OptionalText(max_length: int, what: str = "text"):
    return Annotated[
        str,
        StringConstraints(max_length=max_length),
        AfterValidator(_clean_text(what=what, required=False)),
        WithJsonSchema({"type": "string", "maxLength": max_length, "pattern": TEXT_JSON_PATTERN}),
    ]


def _clean_attribute_text(value: str) -> str:
    _refuse(text_error(value, "attribute text"))
    return value


AttributeText = Annotated[
    str,
    AfterValidator(_clean_attribute_text),
    WithJsonSchema({"type": "string", "pattern": TEXT_JSON_PATTERN}),
]
# Any JSON value, at any depth, whose texts (names included) are clean: a NUL
# would reach PostgreSQL as an error, a bidi override would reach the screens.
type AttributeValue = Annotated[
    AttributeText
    | bool
    | int
    | Annotated[float, Field(allow_inf_nan=False)]
    | list[AttributeValue]
    | AttributeObject
    | None,
    Field(union_mode="smart"),
]


class _NamesAsPropertyNames:
    """Pydantic describes a dict's key rule with patternProperties, which lets any
    other name through; propertyNames says what the server does."""

    def __get_pydantic_json_schema__(self, core_schema, handler):
        schema = handler(core_schema)
        patterns = schema.pop("patternProperties", None)
        if patterns:
            ((pattern, value),) = patterns.items()
            schema["propertyNames"] = {"pattern": pattern}
            schema["additionalProperties"] = value
        return schema


type AttributeObject = Annotated[dict[AttributeText, AttributeValue], _NamesAsPropertyNames()]


def _small_attributes(value: dict) -> dict:
    if len(json.dumps(value)) > MAX_ATTRIBUTES_SIZE:
        raise ValueError(f"must be at most {MAX_ATTRIBUTES_SIZE} characters of JSON")
    return value


Attributes = Annotated[
    dict[AttributeText, AttributeValue],
    _NamesAsPropertyNames(),
    AfterValidator(_small_attributes),
    Field(
        description=(
            f"Free-form JSON, at most {MAX_ATTRIBUTES_SIZE} characters; no text with control, "
            "invisible or direction-changing characters, in names or values."
        )
    ),
]

ZONES = frozenset(zoneinfo.available_timezones())


def _check_zone(value: str) -> str:
    if value not in ZONES:
        raise ValueError(f"Unknown time zone {value!r} (an IANA name such as Europe/Berlin).")
    return value


TimeZone = Annotated[
    str,
    AfterValidator(_check_zone),
    WithJsonSchema({"type": "string", "enum": sorted(ZONES), "description": "An IANA time zone."}),
]

# A decimal string as inventory.core.quantities reads it: ASCII digits, an optional point,
# at most a two-digit exponent. Its value is checked by the quantity rules once the
# product is known (a unit such as "ea" takes whole numbers only).
DECIMAL_STRING = {
    "type": "string",
    "maxLength": MAX_TEXT_LENGTH,
    "pattern": f"^{DECIMAL_TEXT.pattern}$",
}
LEDGER_STEP = 0.001
MAX_NUMBER = int(MAX_QUANTITY)


def _number(description: str, **bounds) -> Any:
    return Annotated[
        Any,
        WithJsonSchema(
            {
                "oneOf": [{"type": "number", "multipleOf": LEDGER_STEP, **bounds}, DECIMAL_STRING],
                "description": description,
            }
        ),
    ]


Quantity = _number(
    'A positive quantity, as a JSON number or a decimal string such as "12.5"; at most '
    "three decimals, fewer where the product's unit says so.",
    exclusiveMinimum=0,
    maximum=MAX_NUMBER,
)
QuantityDelta = _number(
    "A quantity to add (positive) or remove (negative); never zero.",
    minimum=-MAX_NUMBER,
    maximum=MAX_NUMBER,
)
CountedQuantity = _number(
    "The quantity counted in the bin; zero when it is empty.", minimum=0, maximum=MAX_NUMBER
)

# Money is written plainly: up to 1,000,000,000 with at most four decimals.
AMOUNT_PATTERN = r"^(?:[0-9]{1,9}(?:\.[0-9]{1,4})?|1000000000(?:\.0{1,4})?)$"
_AMOUNT = re.compile(AMOUNT_PATTERN, re.ASCII)


def _check_amount(value: Any) -> Any:
    if isinstance(value, str) and _AMOUNT.fullmatch(value) is None:
        raise InvalidQuantity(
            f"The unit cost {value[:40]!r} must be written like 12.5: digits, at most four "
            "decimals, at most 1,000,000,000."
        )
    return value


Amount = Annotated[
    Any,
    AfterValidator(_check_amount),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "number", "minimum": 0, "maximum": MAX_NUMBER, "multipleOf": 0.0001},
                {"type": "string", "pattern": AMOUNT_PATTERN},
                {"type": "null"},
            ],
            "description": "A unit cost: at most 1,000,000,000 with at most four decimals.",
        }
    ),
]


def _check_key(value: str) -> str:
    _refuse(key_error(value))
    return value


IdempotencyKeyText = Annotated[
    str,
    AfterValidator(_check_key),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN}
    ),
]

# RFC 3339: a date, "T", a time and an offset. Numbers ("0.5" as seconds since
# 1970) and naive times are refused instead of being read as something else.
TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN, re.ASCII)


def _parse_timestamp(value: Any) -> datetime.datetime:
    if not isinstance(value, str) or _TIMESTAMP.fullmatch(value) is None:
        raise ValueError(
            "must be an RFC 3339 date and time with an offset, such as 2026-05-01T08:00:00Z"
        )
    text = value.upper().replace("Z", "+00:00")
    if "." in text:
        # Python reads at most microseconds; finer digits change nothing a ledger records.
        whole, rest = text.split(".", 1)
        digits = rest[: len(rest) - 6]
        text = f"{whole}.{digits[:6].ljust(6, '0')}{rest[-6:]}"
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("is not a real date and time") from None
    return moment


Timestamp = Annotated[
    datetime.datetime,
    BeforeValidator(_parse_timestamp),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN}),
]

Sku = Code(64, "SKU")
# A GTIN is checked by the service (``INVALID_GTIN``, 422): no JSON Schema
# pattern can state its check digit, so the format names the rule.
Gtin = Annotated[
    str,
    StringConstraints(max_length=14),
    WithJsonSchema(
        {
            "type": "string",
            "format": "gtin",
            "maxLength": 14,
            "description": "A GS1 GTIN-8, -12, -13 or -14 with a valid check digit (answered "
            'as 14 digits), or "" for none.',
        }
    ),
]
SearchText = OptionalText(200, "search")
WarehouseCode = Code(32, "warehouse code")
LocationCode = Code(32, "location code")
LotCode = Code(64, "lot code")
Reason = Text(MAX_REASON_LENGTH, "reason")


class ProductIn(Schema):
    sku: Sku
    name: Text(200, "name")
    uom: Literal[tuple(UnitOfMeasure.values)] = UnitOfMeasure.EACH.value  # type: ignore[valid-type]
    qc_required: bool = False
    unit_cost: Amount = None
    shelf_life_days: Annotated[int, Field(ge=1, le=MAX_SHELF_LIFE_DAYS)] | None = None
    attributes: Attributes = Field(default_factory=dict)
    gtin: Gtin = ""


class WarehouseIn(Schema):
    code: WarehouseCode
    name: Text(200, "name")
    time_zone: TimeZone = "UTC"


class LocationIn(Schema):
    code: LocationCode
    kind: Literal[tuple(LocationKind.values)] = LocationKind.STORAGE.value  # type: ignore[valid-type]
    pick_sequence: Annotated[int, Field(ge=0, le=2_000_000_000)] = 0


class ReceiptIn(Schema):
    sku: Sku
    warehouse: WarehouseCode
    location: LocationCode | None = None
    lot_code: LotCode
    quantity: Quantity = Field(...)
    expires_on: datetime.date | None = None
    unit_cost: Amount = None


class QcDecisionIn(Schema):
    status: Literal["APPROVED", "REJECTED"]
    note: OptionalText(MAX_NOTE_LENGTH, "note") = ""


class AdjustmentIn(Schema):
    sku: Sku
    warehouse: WarehouseCode
    lot_code: LotCode
    location: LocationCode | None = None
    quantity_delta: QuantityDelta = Field(...)
    reason: Reason


class ShipmentIn(Schema):
    sku: Sku
    warehouse: WarehouseCode
    lot_code: LotCode
    location: LocationCode | None = None
    quantity: Quantity = Field(...)
    reference: OptionalText(MAX_REASON_LENGTH, "reference") = ""


class MoveIn(Schema):
    sku: Sku
    lot_code: LotCode
    warehouse: WarehouseCode
    from_location: LocationCode
    to_location: LocationCode
    quantity: Quantity = Field(...)
    reason: OptionalText(MAX_REASON_LENGTH, "reason") = ""


class CountLineIn(Schema):
    sku: Sku
    lot_code: LotCode
    location: LocationCode
    counted_quantity: CountedQuantity = Field(...)


class CountIn(Schema):
    warehouse: WarehouseCode
    lines: Annotated[list[CountLineIn], Field(min_length=1, max_length=MAX_COUNT_LINES)]
    reason: OptionalText(MAX_REASON_LENGTH, "reason") = ""


class DemandLineIn(Schema):
    sku: Sku
    quantity: Quantity = Field(...)


DemandLines = Annotated[list[DemandLineIn], Field(min_length=1, max_length=MAX_LINES)]


class ReservationIn(Schema):
    warehouse: WarehouseCode
    lines: DemandLines
    ttl_seconds: Annotated[int, Field(ge=1, le=MAX_TTL_SECONDS)] | None = None
    reference: OptionalText(MAX_REFERENCE_LENGTH, "reference") = ""
    allow_partial: bool = False


class OrderIn(Schema):
    reference: Text(MAX_ORDER_REFERENCE_LENGTH, "reference")
    customer: Text(MAX_REFERENCE_LENGTH, "customer")
    warehouse: WarehouseCode
    lines: DemandLines


MovementKind = Literal[tuple(LedgerKind.values)]  # type: ignore[valid-type]

"""Request and response bodies of API v1.

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
from inventory.models import MAX_ATTRIBUTES_SIZE, MAX_SHELF_LIFE_DAYS, LedgerKind, UnitOfMeasure
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
SearchText = OptionalText(200, "search")
WarehouseCode = Code(32, "warehouse code")
LocationCode = Code(32, "location code")
LotCode = Code(64, "lot code")
Reason = Text(500, "reason")


class ProductIn(Schema):
    sku: Sku
    name: Text(200, "name")
    uom: Literal[tuple(UnitOfMeasure.values)] = UnitOfMeasure.EACH.value  # type: ignore[valid-type]
    qc_required: bool = False
    unit_cost: Amount = None
    shelf_life_days: Annotated[int, Field(ge=1, le=MAX_SHELF_LIFE_DAYS)] | None = None
    attributes: Attributes = Field(default_factory=dict)


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
    note: OptionalText(2000, "note") = ""


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
    reference: OptionalText(500, "reference") = ""


class MoveIn(Schema):
    sku: Sku
    lot_code: LotCode
    warehouse: WarehouseCode
    from_location: LocationCode
    to_location: LocationCode
    quantity: Quantity = Field(...)
    reason: OptionalText(500, "reason") = ""


class CountLineIn(Schema):
    sku: Sku
    lot_code: LotCode
    location: LocationCode
    counted_quantity: CountedQuantity = Field(...)


class CountIn(Schema):
    warehouse: WarehouseCode
    lines: Annotated[list[CountLineIn], Field(min_length=1, max_length=MAX_COUNT_LINES)]
    reason: OptionalText(500, "reason") = ""


MAX_RESERVATION_LINES = 500
MAX_TTL_SECONDS = 30 * 24 * 60 * 60


class DemandLineIn(Schema):
    sku: Sku
    quantity: Quantity = Field(...)


DemandLines = Annotated[list[DemandLineIn], Field(min_length=1, max_length=MAX_RESERVATION_LINES)]


class ReservationIn(Schema):
    warehouse: WarehouseCode
    lines: DemandLines
    ttl_seconds: Annotated[int, Field(ge=1, le=MAX_TTL_SECONDS)] | None = None
    reference: OptionalText(200, "reference") = ""
    allow_partial: bool = False


class OrderIn(Schema):
    reference: Text(100, "reference")
    customer: Text(200, "customer")
    warehouse: WarehouseCode
    lines: DemandLines


MovementKind = Literal[tuple(LedgerKind.values)]  # type: ignore[valid-type]


# -- responses (documentation; quantities and amounts are decimal strings) ------


class ErrorDetail(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    error: ErrorDetail


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    uom: str
    qc_required: bool
    unit_cost: str
    shelf_life_days: int | None
    attributes: dict[str, Any]
    is_active: bool


class ProductListOut(Schema):
    items: list[ProductOut]


class LocationOut(Schema):
    id: int
    warehouse: str
    code: str
    kind: str
    pick_sequence: int


class WarehouseOut(Schema):
    id: int
    code: str
    name: str
    time_zone: str
    locations: list[LocationOut]


class LotOut(Schema):
    id: int
    code: str
    sku: str
    qc_status: str
    qc_note: str
    qc_at: datetime.datetime | None
    expires_on: datetime.date | None
    received_at: datetime.datetime
    unit_cost: str


class ReceiptOut(Schema):
    lot_id: int
    lot_code: str
    sku: str
    uom: str
    warehouse: str
    location: str
    quantity: str
    qc_status: str
    expires_on: datetime.date | None
    unit_cost: str
    received_at: datetime.datetime
    entry_id: int
    operation_id: int


class EntryOut(Schema):
    id: int
    occurred_at: datetime.datetime
    kind: str
    sku: str
    warehouse: str
    location: str
    lot_id: int
    lot_code: str
    quantity: str
    reason: str
    operation_id: int


class MoveOut(Schema):
    sku: str
    lot_code: str
    warehouse: str
    from_location: str
    to_location: str
    quantity: str
    entries: list[EntryOut]


class CountLineOut(Schema):
    sku: str
    lot_code: str
    location: str
    previous_quantity: str
    counted_quantity: str
    difference: str
    entry_id: int | None


class CountOut(Schema):
    warehouse: str
    lines: list[CountLineOut]
    posted: int


class StockOut(Schema):
    sku: str
    warehouse: str | None
    on_hand: str
    reserved: str
    available: str
    quarantined: str
    rejected: str
    expired: str


class MovementPageOut(Schema):
    items: list[EntryOut]
    limit: int
    offset: int
    next_offset: int | None


class AllocationOut(Schema):
    lot_code: str
    location: str
    quantity: str


class ReservationLineOut(Schema):
    sku: str
    quantity: str
    allocated: str
    allocations: list[AllocationOut]


class ReservationOut(Schema):
    id: int
    status: str
    warehouse: str
    reference: str
    allow_partial: bool
    complete: bool
    expires_at: datetime.datetime | None
    created_at: datetime.datetime
    lines: list[ReservationLineOut]


class IssuedLotOut(Schema):
    sku: str
    lot_code: str
    location: str
    quantity: str


class IssueOut(Schema):
    reservation_id: int
    status: str
    lots_issued: list[IssuedLotOut]


class OrderLineOut(Schema):
    sku: str
    quantity: str


class OrderOut(Schema):
    id: int
    reference: str
    customer: str
    warehouse: str
    status: str
    created_at: datetime.datetime
    lines: list[OrderLineOut]
    reservation: ReservationOut | None

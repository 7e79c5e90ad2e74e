"""Request and response bodies of API v1.

Responses are built from these schemas, from the objects the services and
selectors return (see "responses" below), never from hand-written dicts.

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
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils import timezone
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
    OrderLine,
    ReservationStatus,
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


# -- responses ------------------------------------------------------------------------
#
# Every answer is one of these, validated from the objects the services and
# selectors return (``ProductOut.from_orm(product)``); ``resolve_<field>``
# says where a field comes from when it is not an attribute of the same name.
# A nested field takes those objects too, not schema instances: ninja would
# run the resolvers again on an instance.
# Quantities and amounts are decimal strings, written as the ledger holds them.
#
# Two values may come through the validation ``context`` instead:
# ``{"product": ..., "warehouse": ...}`` for a ledger entry whose endpoint
# already holds them (no query for them again), and ``{"reservation": ...}``
# for an order's reservation.


def _decimal_text(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


DecimalText = Annotated[str, BeforeValidator(_decimal_text)]


def _known(obj: Any, name: str, context: dict | None) -> Any:
    """The related row ``name`` of ``obj``: the one in ``context`` if given, else ``obj``'s."""
    if context and context.get(name) is not None:
        return context[name]
    return getattr(obj, name)


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
    unit_cost: DecimalText
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

    @staticmethod
    def resolve_warehouse(location) -> str:
        return location.warehouse.code


class WarehouseOut(Schema):
    id: int
    code: str
    name: str
    time_zone: str
    locations: list[LocationOut]

    @staticmethod
    def resolve_locations(warehouse) -> list:
        return list(warehouse.locations.order_by("pick_sequence", "code"))


class LotOut(Schema):
    id: int
    code: str
    sku: str
    qc_status: str
    qc_note: str
    qc_at: datetime.datetime | None
    expires_on: datetime.date | None
    received_at: datetime.datetime
    unit_cost: DecimalText

    @staticmethod
    def resolve_sku(lot) -> str:
        return lot.product.sku


class ReceiptOut(Schema):
    """A receipt (``inventory.stock.receipts.Receipt``): the new lot, where it went, its entry."""

    lot_id: int
    lot_code: str
    sku: str
    uom: str
    warehouse: str
    location: str
    quantity: DecimalText
    qc_status: str
    expires_on: datetime.date | None
    is_expired: bool
    is_available: bool
    unit_cost: DecimalText
    received_at: datetime.datetime
    entry_id: int
    operation_id: int

    @staticmethod
    def resolve_lot_id(receipt) -> int:
        return receipt.lot.pk

    @staticmethod
    def resolve_lot_code(receipt) -> str:
        return receipt.lot.code

    @staticmethod
    def resolve_sku(receipt) -> str:
        return receipt.lot.product.sku

    @staticmethod
    def resolve_uom(receipt) -> str:
        return receipt.lot.product.uom

    @staticmethod
    def resolve_warehouse(receipt) -> str:
        return receipt.location.warehouse.code

    @staticmethod
    def resolve_location(receipt) -> str:
        return receipt.location.code

    @staticmethod
    def resolve_qc_status(receipt) -> str:
        return receipt.lot.qc_status

    @staticmethod
    def resolve_expires_on(receipt) -> datetime.date | None:
        return receipt.lot.expires_on

    @staticmethod
    def resolve_unit_cost(receipt) -> Decimal:
        return receipt.lot.unit_cost

    @staticmethod
    def resolve_received_at(receipt) -> datetime.datetime:
        return receipt.lot.received_at

    @staticmethod
    def resolve_entry_id(receipt) -> int:
        return receipt.entry.pk

    @staticmethod
    def resolve_operation_id(receipt) -> int:
        return receipt.entry.operation_id


class EntryOut(Schema):
    """A ledger entry; its product and warehouse may come from the context."""

    id: int
    occurred_at: datetime.datetime
    kind: str
    sku: str
    warehouse: str
    location: str
    lot_id: int
    lot_code: str
    quantity: DecimalText
    reason: str
    operation_id: int

    @staticmethod
    def resolve_sku(entry, context) -> str:
        return _known(entry, "product", context).sku

    @staticmethod
    def resolve_warehouse(entry, context) -> str:
        return _known(entry, "warehouse", context).code

    @staticmethod
    def resolve_location(entry) -> str:
        return entry.location.code

    @staticmethod
    def resolve_lot_code(entry) -> str:
        return entry.lot.code


class MoveOut(Schema):
    """A move (``inventory.stock.movements.Move``); its product and warehouse come from the
    context."""

    sku: str
    lot_code: str
    warehouse: str
    from_location: str
    to_location: str
    quantity: DecimalText
    entries: list[EntryOut]

    @staticmethod
    def resolve_sku(move, context) -> str:
        return context["product"].sku

    @staticmethod
    def resolve_lot_code(move) -> str:
        return move.in_entry.lot.code

    @staticmethod
    def resolve_warehouse(move, context) -> str:
        return context["warehouse"].code

    @staticmethod
    def resolve_from_location(move) -> str:
        return move.out_entry.location.code

    @staticmethod
    def resolve_to_location(move) -> str:
        return move.in_entry.location.code

    @staticmethod
    def resolve_quantity(move) -> Decimal:
        return move.in_entry.quantity

    @staticmethod
    def resolve_entries(move) -> list:
        return [move.out_entry, move.in_entry]


class CountLineOut(Schema):
    """One line of a count (``inventory.stock.counts.CountDifference``)."""

    sku: str
    lot_code: str
    location: str
    previous_quantity: DecimalText
    counted_quantity: DecimalText
    difference: DecimalText
    entry_id: int | None

    @staticmethod
    def resolve_sku(line) -> str:
        return line.lot.product.sku

    @staticmethod
    def resolve_lot_code(line) -> str:
        return line.lot.code

    @staticmethod
    def resolve_location(line) -> str:
        return line.location.code

    @staticmethod
    def resolve_entry_id(line) -> int | None:
        return line.entry.pk if line.entry else None


class CountOut(Schema):
    warehouse: str
    lines: list[CountLineOut]
    posted: int


class StockOut(Schema):
    sku: str
    warehouse: str | None
    on_hand: DecimalText
    reserved: DecimalText
    available: DecimalText
    quarantined: DecimalText
    rejected: DecimalText
    expired: DecimalText


class MovementPageOut(Schema):
    items: list[EntryOut]
    limit: int
    offset: int
    next_offset: int | None


class AllocationOut(Schema):
    lot_code: str
    location: str
    quantity: DecimalText

    @staticmethod
    def resolve_lot_code(allocation) -> str:
        return allocation.lot.code

    @staticmethod
    def resolve_location(allocation) -> str:
        return allocation.location.code


class ReservationLineOut(Schema):
    sku: str
    quantity: DecimalText
    allocated: DecimalText
    allocations: list[AllocationOut]


class ReservationOut(Schema):
    """A reservation (``inventory.reservations.requests.ReservationResult``)."""

    id: int
    status: str
    warehouse: str
    reference: str
    allow_partial: bool
    complete: bool
    expires_at: datetime.datetime | None
    created_at: datetime.datetime
    lines: list[ReservationLineOut]

    @staticmethod
    def resolve_id(result) -> int:
        return result.reservation.pk

    @staticmethod
    def resolve_status(result) -> str:
        reservation = result.reservation
        if reservation.status == ReservationStatus.OPEN and reservation.is_expired_at(
            timezone.now()
        ):
            # Past its expiry but not yet swept: it holds nothing any more.
            return ReservationStatus.EXPIRED
        return reservation.status

    @staticmethod
    def resolve_warehouse(result) -> str:
        return result.reservation.warehouse.code

    @staticmethod
    def resolve_reference(result) -> str:
        return result.reservation.reference

    @staticmethod
    def resolve_allow_partial(result) -> bool:
        return result.reservation.allow_partial

    @staticmethod
    def resolve_complete(result) -> bool:
        return result.is_complete

    @staticmethod
    def resolve_expires_at(result) -> datetime.datetime | None:
        return result.reservation.expires_at

    @staticmethod
    def resolve_created_at(result) -> datetime.datetime:
        return result.reservation.created_at

    @staticmethod
    def resolve_lines(result) -> list[dict]:
        held: dict[int, list] = {}
        for allocation in result.allocations:
            held.setdefault(allocation.line_id, []).append(allocation)
        return [
            {
                "sku": line.product.sku,
                "quantity": line.quantity,
                "allocated": line.allocated,
                "allocations": held.get(line.pk, []),
            }
            for line in result.lines
        ]


class IssuedLotOut(Schema):
    sku: str
    lot_code: str
    location: str
    quantity: DecimalText


class IssueOut(Schema):
    """What issuing a reservation shipped (``ReservationResult`` of ``issue_reservation``)."""

    reservation_id: int
    status: str
    lots_issued: list[IssuedLotOut]

    @staticmethod
    def resolve_reservation_id(result) -> int:
        return result.reservation.pk

    @staticmethod
    def resolve_status(result) -> str:
        return result.reservation.status

    @staticmethod
    def resolve_lots_issued(result) -> list[dict]:
        skus = {line.pk: line.product.sku for line in result.lines}
        return [
            {
                "sku": skus[allocation.line_id],
                "lot_code": allocation.lot.code,
                "location": allocation.location.code,
                "quantity": allocation.quantity,
            }
            for allocation in result.allocations
        ]


class OrderLineOut(Schema):
    sku: str
    quantity: DecimalText

    @staticmethod
    def resolve_sku(line) -> str:
        return line.product.sku


class OrderOut(Schema):
    """An order; its reservation (a ``ReservationResult``, or None) comes from the context."""

    id: int
    reference: str
    customer: str
    warehouse: str
    status: str
    created_at: datetime.datetime
    lines: list[OrderLineOut]
    reservation: ReservationOut | None

    @staticmethod
    def resolve_warehouse(order) -> str:
        return order.warehouse.code

    @staticmethod
    def resolve_lines(order) -> list:
        return list(OrderLine.objects.filter(order=order).select_related("product"))

    @staticmethod
    def resolve_reservation(order, context):
        return (context or {}).get("reservation")

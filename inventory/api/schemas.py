"""Request and response bodies of API v1.

Strings carry the database's length limits, so an oversized value is a 422
from the schema, never an error from the database. Quantities and amounts
are accepted as JSON numbers or decimal strings and validated by
``inventory.quantities`` (``INVALID_QUANTITY``), not here.
"""

from __future__ import annotations

import datetime
import json
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field, StringConstraints, WithJsonSchema, field_validator

from inventory.models import LedgerKind, UnitOfMeasure
from warehouse.models import LocationKind

MAX_ATTRIBUTES_SIZE = 10_000
MAX_COUNT_LINES = 500


# No control characters (PostgreSQL refuses NUL; the services refuse the rest).
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


def Text(max_length: int):
    return Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=1, max_length=max_length, pattern=PRINTABLE
        ),
    ]


def OptionalText(max_length: int):
    return Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=max_length, pattern=PRINTABLE)
    ]


Number = Annotated[
    Any,
    WithJsonSchema(
        {
            "oneOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}],
            "description": 'A decimal, as a JSON number or a string such as "12.5".',
        }
    ),
]

Sku = Text(64)
Code = Text(32)
LotCode = Text(64)
Reason = Text(500)


class ProductIn(Schema):
    sku: Sku
    name: Text(200)
    uom: Literal[tuple(UnitOfMeasure.values)] = UnitOfMeasure.EACH.value  # type: ignore[valid-type]
    qc_required: bool = False
    unit_cost: Number = None
    shelf_life_days: Annotated[int, Field(ge=1, le=36500)] | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("attributes")
    @classmethod
    def attributes_are_small(cls, value: dict) -> dict:
        if len(json.dumps(value)) > MAX_ATTRIBUTES_SIZE:
            raise ValueError(f"must be at most {MAX_ATTRIBUTES_SIZE} characters of JSON")
        return value


class WarehouseIn(Schema):
    code: Code
    name: Text(200)
    time_zone: Text(64) = "UTC"


class LocationIn(Schema):
    code: Code
    kind: Literal[tuple(LocationKind.values)] = LocationKind.STORAGE.value  # type: ignore[valid-type]
    pick_sequence: Annotated[int, Field(ge=0, le=2_000_000_000)] = 0


class ReceiptIn(Schema):
    sku: Sku
    warehouse: Code
    location: Code | None = None
    lot_code: LotCode
    quantity: Number = Field(...)
    expires_on: datetime.date | None = None
    unit_cost: Number = None


class QcDecisionIn(Schema):
    status: Literal["APPROVED", "REJECTED"]
    note: OptionalText(2000) = ""


class AdjustmentIn(Schema):
    sku: Sku
    warehouse: Code
    lot_code: LotCode
    location: Code | None = None
    quantity_delta: Number = Field(...)
    reason: Reason


class ShipmentIn(Schema):
    sku: Sku
    warehouse: Code
    lot_code: LotCode
    location: Code | None = None
    quantity: Number = Field(...)
    reference: OptionalText(500) = ""


class MoveIn(Schema):
    sku: Sku
    lot_code: LotCode
    warehouse: Code
    from_location: Code
    to_location: Code
    quantity: Number = Field(...)
    reason: OptionalText(500) = ""


class CountLineIn(Schema):
    sku: Sku
    lot_code: LotCode
    location: Code
    counted_quantity: Number = Field(...)


class CountIn(Schema):
    warehouse: Code
    lines: Annotated[list[CountLineIn], Field(min_length=1, max_length=MAX_COUNT_LINES)]
    reason: OptionalText(500) = ""


MAX_RESERVATION_LINES = 500
MAX_TTL_SECONDS = 30 * 24 * 60 * 60


class DemandLineIn(Schema):
    sku: Sku
    quantity: Number = Field(...)


DemandLines = Annotated[list[DemandLineIn], Field(min_length=1, max_length=MAX_RESERVATION_LINES)]


class ReservationIn(Schema):
    warehouse: Code
    lines: DemandLines
    ttl_seconds: Annotated[int, Field(ge=1, le=MAX_TTL_SECONDS)] | None = None
    reference: OptionalText(200) = ""
    allow_partial: bool = False


class OrderIn(Schema):
    reference: Text(100)
    customer: Text(200)
    warehouse: Code
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

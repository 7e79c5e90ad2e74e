"""Domain errors: what a service refuses, with a stable code and an HTTP status.

Screens show ``message``; the JSON API answers ``status`` with
``{"error": {"code": code, "message": message}}`` (``as_body()``). Codes are a
public contract: never rename one.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "ERROR"
    status: ClassVar[int] = 400
    default_message: ClassVar[str] = "The request was refused."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)

    def as_body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


class NotFound(DomainError):
    """Missing, or another tenant's: the two are indistinguishable on purpose."""

    status = 404


class ProductNotFound(NotFound):
    code = "PRODUCT_NOT_FOUND"
    default_message = "No such product."


class WarehouseNotFound(NotFound):
    code = "WAREHOUSE_NOT_FOUND"
    default_message = "No such warehouse."


class LocationNotFound(NotFound):
    code = "LOCATION_NOT_FOUND"
    default_message = "No such location."


class LotNotFound(NotFound):
    code = "LOT_NOT_FOUND"
    default_message = "No such lot."


class Conflict(DomainError):
    status = 409


class DuplicateSku(Conflict):
    code = "DUPLICATE_SKU"
    default_message = "A product with this SKU already exists."


class DuplicateLotCode(Conflict):
    code = "DUPLICATE_LOT_CODE"
    default_message = "This product already has a lot with this code."


class DuplicateWarehouseCode(Conflict):
    code = "DUPLICATE_WAREHOUSE_CODE"
    default_message = "A warehouse with this code already exists."


class DuplicateLocationCode(Conflict):
    code = "DUPLICATE_LOCATION_CODE"
    default_message = "This warehouse already has a location with this code."


class InsufficientStock(Conflict):
    code = "INSUFFICIENT_STOCK"
    default_message = "Not enough stock."


class LotNotApproved(Conflict):
    code = "LOT_NOT_APPROVED"
    default_message = "The lot has not been approved by QC."


class LotNotInQuarantine(Conflict):
    """A QC decision on a lot that has already been decided."""

    code = "LOT_NOT_IN_QUARANTINE"
    default_message = "The lot is not in quarantine; its QC decision is already made."


class LotNotDecided(Conflict):
    """A reversal of a lot whose QC decision is not (or no longer) the one named."""

    code = "LOT_NOT_DECIDED"
    default_message = "The lot has no QC decision to reverse."


class LotReserved(Conflict):
    """Taking an approved lot out of stock while reservations hold some of it."""

    code = "LOT_RESERVED"
    default_message = "Part of the lot is reserved; release the reservations first."


class LocationNotReceivable(Conflict):
    """A receipt into a bin that may not take one (pick face, shipping, ...)."""

    code = "LOCATION_NOT_RECEIVABLE"
    default_message = "Goods cannot be received into this location."


class LotExpiredOnReceipt(Conflict):
    """A receipt whose expiry is already past, where the tenant refuses those."""

    code = "LOT_EXPIRED_ON_RECEIPT"
    default_message = "The lot has already expired; this tenant does not receive expired lots."


class Unprocessable(DomainError):
    status = 422


class InvalidQuantity(Unprocessable):
    code = "INVALID_QUANTITY"
    default_message = "The quantity is not valid."


class ValidationFailed(Unprocessable):
    """A field other than a quantity is missing or malformed."""

    code = "VALIDATION_ERROR"
    default_message = "The request is not valid."


class IdempotencyKeyReused(Unprocessable):
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This idempotency key was already used for a different request."


class NoQcApprovedLot(Conflict):
    """The product is on hand in the warehouse, but none of it in an approved lot."""

    code = "NO_QC_APPROVED_LOT"
    default_message = "The product has stock, but none of it has been approved by QC."


class ReservationNotFound(NotFound):
    code = "RESERVATION_NOT_FOUND"
    default_message = "No such reservation."


class OrderNotFound(NotFound):
    code = "ORDER_NOT_FOUND"
    default_message = "No such order."


class ReservationAlreadyIssued(Conflict):
    code = "RESERVATION_ALREADY_ISSUED"
    default_message = "The reservation has already been issued."


class ReservationExpired(Conflict):
    code = "RESERVATION_EXPIRED"
    default_message = "The reservation has expired; its stock is no longer held."


class ReservationCancelled(Conflict):
    code = "RESERVATION_CANCELLED"
    default_message = "The reservation has been cancelled."


class DuplicateOrderReference(Conflict):
    code = "DUPLICATE_ORDER_REFERENCE"
    default_message = "An order with this reference already exists."


class Contention(DomainError):
    """Contention outlasted the retries (or a statement its time limit): try again later.

    Nothing of the attempted operation was written. The API answers 503 with a
    ``Retry-After`` header of ``retry_after`` seconds.
    """

    code = "CONTENTION"
    status = 503
    retry_after = 1
    default_message = "The stock is busy with other operations; try again in a moment."


def error_class(code: str) -> type[DomainError]:
    """The domain error with this code (``DomainError`` itself for an unknown one)."""
    pending = [DomainError]
    while pending:
        candidate = pending.pop()
        if candidate.code == code:
            return candidate
        pending.extend(candidate.__subclasses__())
    return DomainError


# -- orders and picking ------------------------------------------------------------


class OrderNotCancellable(Conflict):
    """A cancel of an order that has shipped (or was cancelled by someone else's request)."""

    code = "ORDER_NOT_CANCELLABLE"
    default_message = "The order can no longer be cancelled."


class OrderStatusConflict(Conflict):
    """An order change its current status does not allow (allocate, pick or ship)."""

    code = "ORDER_STATUS_CONFLICT"
    default_message = "The order's status does not allow this."


class PickingIncomplete(Conflict):
    """Shipping an order while some of its picks are still to be done."""

    code = "PICKING_INCOMPLETE"
    default_message = "Some lines of the order are still to be picked."


class PickNotFound(NotFound):
    code = "PICK_NOT_FOUND"
    default_message = "No such pick."


class WrongBin(Unprocessable):
    """The scanned bin is not the one the pick is in."""

    code = "WRONG_BIN"
    default_message = "This is not the bin to pick from."


class WrongLot(Unprocessable):
    """The scanned lot (or product) is not the one the pick holds."""

    code = "WRONG_LOT"
    default_message = "This is not the lot to pick."


class PickExceedsAllocation(Conflict):
    """More picked than the pick holds (or someone else picked it meanwhile)."""

    code = "PICK_EXCEEDS_ALLOCATION"
    default_message = "That is more than is left to pick here."


# -- GTINs (products' trade item numbers) ----------------------------------------


class InvalidGtin(Unprocessable):
    code = "INVALID_GTIN"
    default_message = "A GTIN has 8, 12, 13 or 14 digits ending in a valid check digit."


class DuplicateGtin(Conflict):
    code = "DUPLICATE_GTIN"
    default_message = "Another product already has this GTIN."

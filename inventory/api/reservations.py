"""API v1, reservations: hold stock for a demand, read, issue and cancel.

Every write is one database function call in a statement of its own
(``statement_write``; see README, "Hot paths in the database"): the tenant
context, a short ``lock_timeout``, the idempotency record and the answer are
in it, and it is retried whole on deadlocks, serialization failures and lock
timeouts. When contention outlasts the retries the answer is
``503 CONTENTION`` with ``Retry-After`` and nothing is written.
"""

from __future__ import annotations

from decimal import Decimal

from ninja import Router

from inventory.api import responses, schemas
from inventory.api.common import ERRORS, WRITE_ERRORS, valid_id
from inventory.api.core import IdempotencyKey, respond, statement_write
from inventory.catalog.selectors import code_key
from inventory.core.errors import InvalidQuantity, ProductNotFound, ReservationNotFound
from inventory.core.quantities import MAX_QUANTITY, parse_quantity, to_decimal
from inventory.models import Product
from inventory.reservations import allocation, lifecycle, selectors
from inventory.reservations.requests import LineRequest
from warehouse.tenancy import tenant_context

router = Router(tags=["reservations"])


def demand_payload(body) -> dict:
    """A reservation's or order's body as fingerprinted: its lines' quantities as decimals."""
    payload = body.dict()
    payload["lines"] = [
        {**line, "quantity": to_decimal(line["quantity"], what="quantity")}
        for line in payload["lines"]
    ]
    return payload


def demand_lines(lines) -> list[LineRequest]:
    """Resolve the SKUs of ``lines`` in one query (case-insensitive, like every SKU lookup)."""
    wanted = {code_key(line.sku) for line in lines} - {None}
    products = {product.sku_key: product for product in Product.objects.filter(sku_key__in=wanted)}
    requests = []
    for line in lines:
        product = products.get(code_key(line.sku))
        if product is None:
            raise ProductNotFound(f"No product with SKU {line.sku!r}.")
        requests.append(LineRequest(product=product, quantity=line.quantity))
    return requests


def _quantity(value: Decimal) -> dict:
    """A line's quantity for ``inventory_api_reserve``, with why it is refused if it is.

    The refusal is raised by the function after the SKUs are resolved, as
    ``reserve_stock`` does; decimal places are left to the function, which
    knows each product's unit.
    """
    try:
        return {"quantity": str(parse_quantity(value)), "refusal": None}
    except InvalidQuantity as refusal:
        if 0 < value <= MAX_QUANTITY:  # only its decimal places are wrong
            return {"quantity": str(value), "refusal": None}
        return {"quantity": "0", "refusal": refusal.message}


@router.post(
    "/reservations",
    response={201: responses.ReservationOut, **WRITE_ERRORS},
    summary="Hold stock of approved, unexpired lots (FEFO) for a demand",
)
@statement_write("api.reservation")
def create_reservation(
    request,
    body: schemas.ReservationIn,
    idempotency_key: schemas.IdempotencyKeyText = IdempotencyKey,
):
    """One statement: ``inventory_api_reserve`` (see ``inventory.reservations.allocation``).

    The write policy all the same: one transaction (the statement's own) with
    the short ``lock_timeout``, the key claimed in it, retried whole on a
    deadlock, serialization failure or lock timeout, ``503 CONTENTION`` after.
    The answer is built by the function in the shape of ``ReservationOut``
    (``tests/api/test_api_responses.py`` holds it to what reading it gives).
    """
    payload = demand_payload(body)
    lines = [
        {"key": code_key(line.sku), "sku_quoted": repr(line.sku), **_quantity(quantity["quantity"])}
        for line, quantity in zip(body.lines, payload["lines"], strict=True)
    ]
    return respond(
        allocation.api_reserve(
            tenant_id=request.tenant.pk,
            token_id=request.api_token.pk,
            key=idempotency_key,
            kind="api.reservation",
            payload=payload,
            request={
                "warehouse_key": code_key(body.warehouse),
                "warehouse_quoted": repr(body.warehouse),
                "lines": lines,
                "reference": body.reference,
                "allow_partial": body.allow_partial,
                "ttl_seconds": body.ttl_seconds,
            },
        )
    )


@router.get(
    "/reservations/{reservation_id}",
    response={200: responses.ReservationOut, **ERRORS, 404: responses.ErrorOut},
    summary="One reservation with its allocations",
)
def get_reservation(request, reservation_id: int):
    valid_id(reservation_id, ReservationNotFound)
    with tenant_context(request.tenant.pk):
        return responses.ReservationOut.from_orm(
            selectors.get_reservation(tenant=request.tenant, reservation_id=reservation_id)
        )


def _reservation_payload(reservation_id: int) -> dict:
    return {"reservation_id": valid_id(reservation_id, ReservationNotFound)}


@router.post(
    "/reservations/{reservation_id}/issue",
    response={200: responses.IssueOut, **WRITE_ERRORS},
    summary="Ship what a reservation holds (SHIP and RELEASE entries)",
)
@statement_write("api.reservation_issue")
def issue_reservation(
    request, reservation_id: int, idempotency_key: schemas.IdempotencyKeyText = IdempotencyKey
):
    """One statement: ``inventory_api_issue``, under the write policy like a reservation."""
    return respond(
        lifecycle.api_issue(
            tenant_id=request.tenant.pk,
            token_id=request.api_token.pk,
            key=idempotency_key,
            reservation_id=valid_id(reservation_id, ReservationNotFound),
        )
    )


@router.post(
    "/reservations/{reservation_id}/cancel",
    response={200: responses.ReservationOut, **WRITE_ERRORS},
    summary="Release what a reservation holds",
)
@statement_write("api.reservation_cancel")
def cancel_reservation(
    request, reservation_id: int, idempotency_key: schemas.IdempotencyKeyText = IdempotencyKey
):
    """One statement: ``inventory_api_cancel``, under the write policy like a reservation."""
    return respond(
        lifecycle.api_cancel(
            tenant_id=request.tenant.pk,
            token_id=request.api_token.pk,
            key=idempotency_key,
            reservation_id=valid_id(reservation_id, ReservationNotFound),
        )
    )

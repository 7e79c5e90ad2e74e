"""Reads of reservations: one with its lines and allocations."""

from __future__ import annotations

from inventory.core.errors import ReservationNotFound
from inventory.models import Allocation, Reservation, ReservationLine
from inventory.reservations.requests import ReservationResult
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context


def load_reservation(reservation: Reservation, *, created: bool = True) -> ReservationResult:
    """``reservation`` with its lines and allocations (call inside its tenant's context).

    ``created`` says whether the calling service made it (False: it found it).
    """
    lines = list(ReservationLine.objects.filter(reservation=reservation).select_related("product"))
    allocations = list(
        Allocation.objects.filter(reservation=reservation)
        .select_related("lot", "location")
        .order_by("line_id", "id")
    )
    return ReservationResult(
        reservation=reservation, lines=lines, allocations=allocations, created=created
    )


def get_reservation(*, tenant: Tenant, reservation_id: int) -> ReservationResult:
    """A reservation with its lines and allocations; ``ReservationNotFound`` otherwise."""
    with tenant_context(tenant.pk):
        reservation = (
            Reservation.objects.select_related("warehouse").filter(pk=reservation_id).first()
        )
        if reservation is None:
            raise ReservationNotFound(f"No reservation {reservation_id}.")
        return load_reservation(reservation)

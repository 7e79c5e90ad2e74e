"""Checks every service makes of what its caller passes in, defined once.

A service takes model objects and plain values from views, API endpoints,
commands and tests alike; these helpers turn a wrong one into the domain
error the caller answers with (``inventory.core.errors``), before anything is
written.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError
from django.utils import timezone

from inventory.core.errors import DomainError, LocationNotFound, ValidationFailed
from warehouse.models import Location, Tenant, Warehouse

# The reason of a stock change (an adjustment, a move, a count) and a shipment's reference.
MAX_REASON_LENGTH = 500


def clean_text(value: Any, *, what: str, max_length: int, required: bool = True) -> str:
    """``value`` stripped; ``ValidationFailed`` unless it is text of at most ``max_length``.

    None counts as empty. Control characters are refused: they would be
    invisible on a screen and in a printed pick list.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(f"The {what} must be text.")
    value = value.strip()
    if required and not value:
        raise ValidationFailed(f"The {what} is required.")
    if len(value) > max_length:
        raise ValidationFailed(f"The {what} may be at most {max_length} characters long.")
    if any(ord(character) < 32 for character in value):
        raise ValidationFailed(f"The {what} may not contain control characters.")
    return value


def owned[T](obj: T, tenant: Tenant, error: type[DomainError], model: type[T]) -> T:
    """``obj`` if it is a saved ``model`` row of ``tenant``; else ``error``.

    Another tenant's object answers like a missing one, so a caller learns
    nothing about rows it may not see.
    """
    if not isinstance(obj, model) or obj.pk is None or obj.tenant_id != tenant.pk:
        raise error()
    return obj


def owned_location(location: Any, warehouse: Warehouse, tenant: Tenant) -> Location:
    """``location`` if it is an active bin of ``warehouse``; else ``LocationNotFound``."""
    owned(location, tenant, LocationNotFound, Location)
    if location.warehouse_id != warehouse.pk or not location.is_active:
        raise LocationNotFound(f"No location {location.code} in warehouse {warehouse.code}.")
    return location


def constraint_name(error: IntegrityError) -> str | None:
    """The name of the constraint PostgreSQL says ``error`` broke, if any."""
    diagnostics = getattr(error.__cause__, "diag", None)
    return getattr(diagnostics, "constraint_name", None)


def aware_time(occurred_at: datetime.datetime | None) -> datetime.datetime:
    """``occurred_at``, or now when it is None; a time without a time zone is refused."""
    if occurred_at is None:
        return timezone.now()
    if timezone.is_naive(occurred_at):
        raise ValidationFailed("The time must carry a time zone.")
    return occurred_at

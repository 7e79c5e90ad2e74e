"""How quantities, money and dates read on every screen.

One format each: quantities with the fixed decimals of their unit and
thousands separators (``1,250.500 kg``, ``12 ea``); money with two decimals;
dates as ``29 Nov 2026`` and moments as ``29 Nov 2026 14:05`` in the
tenant's time zone.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.dateformat import format as format_date

from inventory.models import QUANTITY_PLACES, UOM_DECIMAL_PLACES

register = template.Library()

DAY_FORMAT = "j M Y"
MOMENT_FORMAT = "j M Y H:i"


@register.filter
def quantity(value) -> str:
    """A quantity without trailing zeros: 12.500 -> 12.5, 240.000 -> 240 (messages)."""
    if value is None or value == "":
        return ""
    number = Decimal(value).normalize()
    return format(number, "f") if number != 0 else "0"


@register.filter
def quantity_in(value, uom: str | None = None) -> str:
    """A quantity in its unit's decimals with thousands separators: ``1,250.500``."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    places = UOM_DECIMAL_PLACES.get(uom or "", QUANTITY_PLACES)
    return f"{number:,.{places}f}"


@register.filter
def money(value) -> str:
    """An amount with two decimals and thousands separators; nothing rounds to ``-0.00``."""
    if value is None or value == "":
        return ""
    text = f"{Decimal(value):,.2f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


@register.filter
def day(value) -> str:
    """A date (or the date of a moment, in the current time zone): ``29 Nov 2026``."""
    if not value:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return format_date(value, DAY_FORMAT)


@register.filter
def moment(value) -> str:
    """A moment in the current time zone: ``29 Nov 2026 14:05``."""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_date(value, MOMENT_FORMAT)

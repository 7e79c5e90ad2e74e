from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def quantity(value) -> str:
    """A quantity without trailing zeros: 12.500 -> 12.5, 240.000 -> 240."""
    if value is None or value == "":
        return ""
    number = Decimal(value).normalize()
    return format(number, "f") if number != 0 else "0"

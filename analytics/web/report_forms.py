"""The filter forms of the report screens: GET forms bounded like the report API.

Each form is bound to the query string with its defaults filled in, so a
screen opened without filters shows the values it reports for. Every field
is checked before a report is read: days within the report's window, a SKU
no longer than a SKU can be, a warehouse among the tenant's own, days as
``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime

from django import forms

from analytics.reports.connection import MAX_WINDOW_DAYS
from analytics.reports.demand import MAX_DEMAND_DAYS
from analytics.reports.stockouts import MAX_STOCKOUT_DAYS
from inventory.models import Product

MAX_SKU_LENGTH = Product._meta.get_field("sku").max_length
DAY_FORMAT_HELP = "Enter a day as YYYY-MM-DD, for example 2026-11-29."


def days_field(maximum: int) -> forms.IntegerField:
    message = f"Choose a whole number of days from 1 to {maximum:,}."
    return forms.IntegerField(
        label="Days",
        min_value=1,
        max_value=maximum,
        error_messages={
            "required": message,
            "invalid": message,
            "min_value": message,
            "max_value": message,
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


def sku_field(*, required: bool) -> forms.CharField:
    return forms.CharField(
        label="SKU",
        max_length=MAX_SKU_LENGTH,
        required=required,
        error_messages={
            "required": "Type the SKU of the product to follow.",
            "max_length": "A SKU has at most %(limit_value)d characters.",
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "class": "form-control sy-code"}
        ),
    )


def day_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": DAY_FORMAT_HELP},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class ReportForm(forms.Form):
    """A report's filters. ``DEFAULTS`` fill in what the query string leaves out."""

    DEFAULTS: dict[str, str] = {}
    # Fields without which there is nothing to report: opened without them,
    # the form asks for them (unbound) instead of refusing.
    NEEDED: tuple[str, ...] = ()
    PROMPT = ""

    def __init__(self, query, *, warehouses: list[str]):
        data = query.copy()
        for name, value in self.DEFAULTS.items():
            if not data.get(name):
                data[name] = value
        # A warehouse code in any letter case (as the API takes it) is that warehouse.
        typed = data.get("warehouse", "").strip().lower()
        for code in warehouses:
            if typed and code.lower() == typed:
                data["warehouse"] = code
        self.is_prompt = any(name not in query for name in self.NEEDED)
        if self.is_prompt:
            super().__init__(initial=data.dict())
        else:
            super().__init__(data)
        if "warehouse" in self.fields:
            self.fields["warehouse"].choices = [
                ("", "All warehouses"),
                *((code, code) for code in warehouses),
            ]
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def filters(self) -> dict:
        """The cleaned filters as the report selectors take them (no empty strings)."""
        return {name: value for name, value in self.cleaned_data.items() if value not in ("", None)}


def warehouse_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Warehouse",
        required=False,
        error_messages={
            "invalid_choice": "No warehouse with that code here. Choose one from the list."
        },
    )


class WarehouseForm(ReportForm):
    warehouse = warehouse_field()


class WindowForm(WarehouseForm):
    """The last so many days (ABC, turnover), in one warehouse or all."""

    DEFAULTS = {"days": "90"}
    days = days_field(MAX_WINDOW_DAYS)


class DemandForm(WarehouseForm):
    DEFAULTS = {"days": "90"}
    days = days_field(MAX_DEMAND_DAYS)
    sku = sku_field(required=False)


class StockOutsForm(WarehouseForm):
    DEFAULTS = {"days": "30"}
    days = days_field(MAX_STOCKOUT_DAYS)


class HistoryForm(WarehouseForm):
    NEEDED = ("sku",)
    PROMPT = "Type a product's SKU to see its stock on hand day by day."
    sku = sku_field(required=True)
    since = day_field("From")
    until = day_field("To")

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("since", "The first day comes after the last. Swap them.")
        return cleaned


class ValuationForm(ReportForm):
    as_of = day_field("As of the end of")

    def clean_as_of(self) -> datetime.date | None:
        as_of = self.cleaned_data["as_of"]
        if as_of is not None and as_of.year < 2000:
            raise forms.ValidationError("Choose a day from the year 2000 on.")
        return as_of

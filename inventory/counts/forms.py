"""Forms of the count screens: they bound, parse and resolve codes; services decide."""

from __future__ import annotations

import re

import django_filters
from django import forms

from inventory.catalog.selectors import get_location_by_code, get_product_by_sku
from inventory.core.errors import DomainError
from inventory.counts.services import MAX_COUNT_BINS
from inventory.forms import SCANNED, DecimalTextField, IdempotentForm
from inventory.lots.selectors import get_lot_by_code
from inventory.models import CountSession, CountStatus
from warehouse.models import Warehouse

# Bin codes typed or scanned one after another: spaces, commas, semicolons or lines.
_CODE_SEPARATORS = re.compile(r"[\s,;]+")


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", css)


class StartCountForm(IdempotentForm):
    """Where, and what: some bins by their codes, or one product by its SKU."""

    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), empty_label=None)
    bins = forms.CharField(
        label="Bins",
        max_length=2000,
        required=False,
        help_text="Bin codes, separated by spaces, commas or new lines.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    sku = forms.CharField(
        label="Or a product SKU",
        max_length=64,
        required=False,
        help_text="Counts the product in every bin of the warehouse that holds it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = Warehouse.objects.filter(is_active=True)
        self.fields["bins"].widget.attrs.update(SCANNED)
        self.fields["sku"].widget.attrs.update(SCANNED)
        _style(self)

    def clean(self):
        cleaned = super().clean()
        codes = [code for code in _CODE_SEPARATORS.split(cleaned.get("bins") or "") if code]
        sku = cleaned.get("sku", "").strip()
        cleaned["locations"], cleaned["product"] = [], None
        if codes and sku:
            self.add_error("sku", "Count either bins or a product, not both: clear one of them.")
        elif not codes and not sku and "bins" in cleaned and "sku" in cleaned:
            self.add_error("bins", "Enter the bins to count, or a product SKU below.")
        warehouse = cleaned.get("warehouse")
        if codes and warehouse is not None:
            unique = list(dict.fromkeys(code.upper() for code in codes))
            if len(unique) > MAX_COUNT_BINS:
                self.add_error("bins", f"Count at most {MAX_COUNT_BINS} bins at once.")
            else:
                missing = []
                for code in unique:
                    try:
                        cleaned["locations"].append(get_location_by_code(warehouse, code))
                    except DomainError:
                        missing.append(code)
                if missing:
                    self.add_error(
                        "bins", f"No bin {', '.join(missing)} in warehouse {warehouse.code}."
                    )
        if sku and not codes:
            try:
                cleaned["product"] = get_product_by_sku(sku)
            except DomainError as error:
                self.add_error("sku", error.message)
        return cleaned


class CountLineForm(forms.Form):
    """What is on the shelf for one line (bounded here, checked against the unit by the service)."""

    counted = DecimalTextField(label="Counted", help_text="")


class FoundLotForm(IdempotentForm):
    """A lot on the shelf that the count does not list: where, which lot, how much.

    Its key makes a double submit (or a scanner's double Enter) add the lot once.
    """

    location = forms.CharField(label="Bin", max_length=32)
    sku = forms.CharField(label="Product SKU", max_length=64, required=False)
    lot_code = forms.CharField(label="Lot code", max_length=64)
    counted = DecimalTextField(label="Counted", help_text="")

    def __init__(self, *args, session: CountSession, **kwargs):
        self.session = session
        super().__init__(*args, **kwargs)
        if session.product_id is not None:
            del self.fields["sku"]  # a product count: the lot is of its product
        for name in ("location", "sku", "lot_code"):
            if name in self.fields:
                self.fields[name].widget.attrs.update(SCANNED)
        # Scanned in this order: Enter moves to the next empty field (static/js/floor.js).
        for field in self.visible_fields():
            field.field.widget.attrs.update({"data-scan": field.name, "data-scan-required": ""})
        _style(self)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("location"):
            try:
                cleaned["location_object"] = get_location_by_code(
                    self.session.warehouse, cleaned["location"]
                )
            except DomainError as error:
                self.add_error("location", error.message)
        product = self.session.product
        if "sku" in self.fields:
            product = None
            if cleaned.get("sku"):
                try:
                    product = get_product_by_sku(cleaned["sku"])
                except DomainError as error:
                    self.add_error("sku", error.message)
            elif "sku" in cleaned:
                self.add_error("sku", "Enter the product's SKU: lot codes are per product.")
        if product is not None and cleaned.get("lot_code"):
            try:
                cleaned["lot"] = get_lot_by_code(product, cleaned["lot_code"])
            except DomainError as error:
                self.add_error("lot_code", error.message)
        return cleaned


class CountFilter(django_filters.FilterSet):
    """The list's filters: status and warehouse (GET, bounded by their choices)."""

    status = django_filters.ChoiceFilter(choices=CountStatus.choices, empty_label="Any status")
    warehouse = django_filters.ModelChoiceFilter(
        queryset=lambda request: Warehouse.objects.filter(is_active=True),
        empty_label="All warehouses",
    )

    class Meta:
        model = CountSession
        fields = ["status", "warehouse"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self.form)

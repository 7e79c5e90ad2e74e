"""Forms of the put-away, move, bin and adjustment screens: they parse and resolve; services decide.

Codes a scanner reads (bins, lots, SKUs) are resolved to rows in ``clean`` so a
typo is shown on its own field; quantities are bounded by the unit's
decimals before anything is written. Call ``is_valid()`` in a tenant context.
"""

from __future__ import annotations

import django_filters
from django import forms

from inventory.core.errors import DomainError, LocationNotFound, ValidationFailed
from inventory.core.quantities import parse_quantity
from inventory.core.validation import MAX_REASON_LENGTH
from inventory.forms import SCANNED, DecimalTextField, IdempotentForm
from inventory.stock.bins import find_bin, find_lot, lot_in_bin
from inventory.stock.movements import AdjustmentReason, adjustment_reason_text
from inventory.templatetags.stock import quantity as plain_quantity
from warehouse.models import Warehouse


def _active_warehouses():
    return Warehouse.objects.filter(is_active=True)


class WarehouseFilter(django_filters.FilterSet):
    """The warehouse filter of the put-away and adjustment lists."""

    warehouse = django_filters.ModelChoiceFilter(
        queryset=lambda request: _active_warehouses(),
        empty_label="All warehouses",
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class ScanForm(IdempotentForm):
    """A warehouse chosen once, then codes typed by a scanner in ``SCAN_ORDER``."""

    SCAN_ORDER: tuple[str, ...] = ()
    # Filled by clean(): the warehouse's bin a code names.
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), empty_label=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = _active_warehouses()
        for name in self.SCAN_ORDER:
            field = self.fields[name]
            field.widget.attrs["data-scan"] = name
            if field.required:
                field.widget.attrs["data-scan-required"] = ""
            if not isinstance(field, DecimalTextField):
                field.widget.attrs.update(SCANNED)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    @property
    def scan_fields(self):
        return [self[name] for name in self.SCAN_ORDER if self.shows(name)]

    def shows(self, name: str) -> bool:
        """The SKU is asked for only when a lot code alone did not say which lot."""
        return name != "sku" or bool(self["sku"].value() or self.has_error("sku"))

    def _bin(self, name: str):
        """The bin the field ``name`` names in the chosen warehouse, or an error on the field."""
        warehouse = self.cleaned_data.get("warehouse")
        code = self.cleaned_data.get(name)
        if warehouse is None or not code:
            return None
        try:
            return find_bin(code, warehouse)
        except LocationNotFound as error:
            # A bin of another warehouse: say so, a move or an adjustment stays in one.
            try:
                elsewhere = find_bin(code)
            except DomainError:
                self.add_error(name, error.message)
            else:
                self.add_error(
                    name,
                    f"Bin {elsewhere.code} is in warehouse {elsewhere.warehouse.code}, "
                    f"not {warehouse.code}.",
                )
        return None

    def _quantity(self, name: str, product):
        try:
            return parse_quantity(self.cleaned_data[name], places=product.quantity_places)
        except DomainError as error:
            self.add_error(name, error.message)
            return None


class MoveForm(ScanForm):
    """Scanner order: the bin the stock leaves, the lot, the quantity, the bin it goes to."""

    from_location = forms.CharField(label="From bin", max_length=32)
    lot_code = forms.CharField(label="Lot", max_length=64)
    sku = forms.CharField(label="Product SKU", max_length=64, required=False)
    quantity = DecimalTextField(label="Quantity")
    to_location = forms.CharField(label="To bin", max_length=32)

    SCAN_ORDER = ("from_location", "lot_code", "sku", "quantity", "to_location")
    REQUIRED_SCANS = ("from_location", "lot_code", "quantity", "to_location")

    def __init__(self, *args, focus: str = "from_location", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[focus].widget.attrs["autofocus"] = True

    def clean(self):
        cleaned = super().clean()
        source = self._bin("from_location")
        target = self._bin("to_location")
        if source is not None and target is not None and source.pk == target.pk:
            self.add_error("to_location", "That is the bin the stock is in; scan another bin.")
        balance = None
        if source is not None and cleaned.get("lot_code"):
            try:
                balance = lot_in_bin(source, cleaned["lot_code"], sku=cleaned.get("sku", ""))
            except DomainError as error:
                ambiguous = isinstance(error, ValidationFailed)  # lots of several products
                self.add_error("sku" if ambiguous else "lot_code", error.message)
        if balance is not None and cleaned.get("quantity"):
            amount = self._quantity("quantity", balance.product)
            movable = balance.on_hand - balance.reserved
            if amount is not None and amount > movable:
                uom = balance.product.uom
                held = (
                    f" ({plain_quantity(balance.reserved)} of {plain_quantity(balance.on_hand)} "
                    "is reserved)"
                    if balance.reserved
                    else ""
                )
                self.add_error(
                    "quantity",
                    f"Only {plain_quantity(movable)} {uom} of lot {balance.lot.code} can be "
                    f"moved from {source.code}{held}.",
                )
            cleaned["quantity"] = amount
        cleaned.update(from_object=source, to_object=target, balance=balance)
        return cleaned


class AdjustmentForm(ScanForm):
    """A manager's correction of a bin's stock: where, which lot, how much, and why."""

    location = forms.CharField(label="Bin", max_length=32)
    lot_code = forms.CharField(label="Lot", max_length=64)
    sku = forms.CharField(label="Product SKU", max_length=64, required=False)
    direction = forms.ChoiceField(
        label="Change",
        choices=[("remove", "Remove stock"), ("add", "Add stock")],
        initial="remove",
        widget=forms.RadioSelect,
    )
    quantity = DecimalTextField(label="Quantity")
    reason = forms.ChoiceField(
        label="Reason",
        choices=[("", "Choose a reason…"), *AdjustmentReason.choices],
        error_messages={"required": "Choose a reason."},
    )
    note = forms.CharField(
        label="Note",
        max_length=MAX_REASON_LENGTH - 20,
        required=False,
        help_text="Required for “Other”: say what happened.",
    )

    SCAN_ORDER = ("location", "lot_code", "sku", "quantity")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].widget.attrs["autofocus"] = True
        self.fields["direction"].widget.attrs["class"] = "form-check-input"
        self.fields["note"].widget.attrs["data-no-enter-submit"] = ""

    def clean(self):
        cleaned = super().clean()
        location = self._bin("location")
        lot = None
        if location is not None and cleaned.get("lot_code"):
            try:
                lot = find_lot(cleaned["lot_code"], sku=cleaned.get("sku", ""), location=location)
            except DomainError as error:
                ambiguous = isinstance(error, ValidationFailed)  # lots of several products
                self.add_error("sku" if ambiguous else "lot_code", error.message)
        if lot is not None and cleaned.get("quantity"):
            amount = self._quantity("quantity", lot.product)
            if amount is not None and cleaned.get("direction") == "remove":
                amount = -amount
            cleaned["quantity"] = amount
        if cleaned.get("reason"):
            try:
                cleaned["reason_text"] = adjustment_reason_text(
                    cleaned["reason"], cleaned.get("note", "")
                )
            except DomainError as error:
                self.add_error("note", error.message)
        cleaned.update(location_object=location, lot_object=lot)
        return cleaned

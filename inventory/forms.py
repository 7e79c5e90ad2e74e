"""Forms of the inventory screens: they parse and resolve; services decide."""

import uuid

from django import forms

from inventory.errors import DomainError
from inventory.selectors import get_location_by_code, get_product_by_sku
from warehouse.models import Warehouse


class IdempotentForm(forms.Form):
    """A form that carries a fresh idempotency key each time it is rendered.

    Submitting the same rendered form twice (a double click, a resent POST)
    sends the same key, so the operation takes effect once.
    """

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=255)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", f"form:{uuid.uuid4()}")
        super().__init__(*args, **kwargs)


class ReceiveForm(IdempotentForm):
    sku = forms.CharField(label="Product SKU", max_length=64)
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), empty_label=None)
    location = forms.CharField(
        label="Bin", max_length=32, required=False, help_text="Empty: the receiving bin."
    )
    lot_code = forms.CharField(label="Lot code", max_length=64)
    quantity = forms.DecimalField(max_digits=13, decimal_places=3, min_value=0)
    expires_on = forms.DateField(
        label="Expiry date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Empty: from the product's shelf life.",
    )
    unit_cost = forms.DecimalField(
        max_digits=14,
        decimal_places=4,
        min_value=0,
        required=False,
        help_text="Empty: catalog cost.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = Warehouse.objects.filter(is_active=True)
        self.fields["sku"].widget.attrs.update({"autofocus": True, "autocomplete": "off"})
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def clean(self):
        cleaned = super().clean()
        # Resolve codes to rows here so a typo is shown on its field.
        for field, resolve in (
            ("sku", lambda value: get_product_by_sku(value)),
            (
                "location",
                lambda value: get_location_by_code(cleaned["warehouse"], value) if value else None,
            ),
        ):
            if field in cleaned and (field != "location" or "warehouse" in cleaned):
                try:
                    cleaned[f"{field}_object"] = resolve(cleaned[field])
                except DomainError as error:
                    self.add_error(field, error.message)
        return cleaned


class QcDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    note = forms.CharField(max_length=2000, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not cleaned.get("note", "").strip():
            self.add_error("note", "Say why the lot is rejected.")
        return cleaned


class StockFilterForm(forms.Form):
    q = forms.CharField(max_length=200, required=False)
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.none(), required=False, empty_label="All warehouses"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = Warehouse.objects.filter(is_active=True)

"""Forms of the order screens: they parse, bound and resolve; the services decide."""

from __future__ import annotations

from django import forms

from inventory.catalog.selectors import get_product_by_sku
from inventory.core.errors import DomainError
from inventory.core.quantities import parse_quantity
from inventory.forms import SCANNED, DecimalTextField, IdempotentForm
from inventory.models import ShortReason
from inventory.orders.picking import MAX_SCAN_LENGTH
from inventory.orders.services import MAX_ORDER_REFERENCE_LENGTH
from inventory.reservations.requests import MAX_REFERENCE_LENGTH
from warehouse.models import Warehouse

# The line rows the create screen offers; an order needs at least one filled in.
ORDER_FORM_LINES = 5
# Row ids are bigints: anything larger is no row, refused before it reaches the database.
MAX_PICK_ID = 2**63 - 1


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", css)


class OrderForm(IdempotentForm):
    """An order's head: its reference, the customer and the warehouse it ships from."""

    reference = forms.CharField(
        label="Order reference", max_length=MAX_ORDER_REFERENCE_LENGTH, strip=True
    )
    customer = forms.CharField(label="Customer", max_length=MAX_REFERENCE_LENGTH, strip=True)
    warehouse = forms.ModelChoiceField(
        label="Ships from", queryset=Warehouse.objects.none(), empty_label=None
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = Warehouse.objects.filter(is_active=True)
        self.fields["reference"].widget.attrs.update({"autofocus": True, "autocomplete": "off"})
        _style(self)


class OrderLineForm(forms.Form):
    """One line: a SKU and a quantity, both or neither (an empty row is skipped)."""

    sku = forms.CharField(label="SKU", max_length=64, required=False)
    quantity = DecimalTextField(label="Quantity", required=False, help_text="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sku"].widget.attrs.update({**SCANNED, "placeholder": "SKU"})
        self.fields["quantity"].widget.attrs["placeholder"] = "Quantity"
        _style(self)

    def clean(self):
        cleaned = super().clean()
        sku, quantity = cleaned.get("sku", ""), cleaned.get("quantity", "")
        if not sku and not quantity:
            if not self.errors:
                cleaned["product"] = None
            return cleaned
        if not sku:
            self.add_error("sku", "Which product? Scan or type its SKU.")
        elif "sku" in cleaned:
            try:
                cleaned["product"] = get_product_by_sku(sku)
            except DomainError as error:
                self.add_error("sku", error.message)
        if not quantity and "quantity" not in self.errors:
            self.add_error("quantity", "How many? Enter the quantity ordered.")
        product = cleaned.get("product")
        if quantity and product is not None:
            try:
                cleaned["quantity"] = parse_quantity(quantity, places=product.quantity_places)
            except DomainError as error:
                self.add_error("quantity", error.message)
        return cleaned


class BaseOrderLineFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        products = [form.cleaned_data.get("product") for form in self.forms]
        filled = [product for product in products if product is not None]
        if not filled:
            raise forms.ValidationError("Add at least one line: a SKU and a quantity.")
        seen = set()
        for form, product in zip(self.forms, products, strict=True):
            if product is None:
                continue
            if product.pk in seen:
                form.add_error("sku", f"{product.sku} is already on another line; add them up.")
            seen.add(product.pk)

    def lines(self) -> list:
        return [
            (form.cleaned_data["product"], form.cleaned_data["quantity"])
            for form in self.forms
            if form.cleaned_data.get("product") is not None
        ]


OrderLineFormSet = forms.formset_factory(
    OrderLineForm,
    formset=BaseOrderLineFormSet,
    extra=ORDER_FORM_LINES,
    max_num=ORDER_FORM_LINES,
    absolute_max=ORDER_FORM_LINES,
    validate_max=True,
)


class ActionForm(IdempotentForm):
    """A button that changes an order (allocate, start picking, ship, cancel): only its key."""


class PickStepForm(forms.Form):
    """One step of the pick screen: which pick, which step, and what was scanned or typed.

    ``bin_code`` and ``lot_code`` carry the scans of the earlier steps; the
    final step checks them again in the service.
    """

    STEPS = ("bin", "lot", "quantity", "short")

    pick = forms.IntegerField(min_value=1, max_value=MAX_PICK_ID, widget=forms.HiddenInput)
    step = forms.ChoiceField(choices=[(step, step) for step in STEPS], widget=forms.HiddenInput)
    scan = forms.CharField(max_length=MAX_SCAN_LENGTH, required=False, strip=True)
    bin_code = forms.CharField(max_length=MAX_SCAN_LENGTH, required=False, strip=True)
    lot_code = forms.CharField(max_length=MAX_SCAN_LENGTH, required=False, strip=True)
    quantity = DecimalTextField(required=False)
    short_reason = forms.ChoiceField(
        label="Why short?", choices=[("", "Choose a reason"), *ShortReason.choices], required=False
    )
    idempotency_key = forms.CharField(max_length=255, required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        step = cleaned.get("step")
        if step in ("bin", "lot") and not cleaned.get("scan") and "scan" not in self.errors:
            self.add_error("scan", "Scan the bin label." if step == "bin" else "Scan the lot.")
        if step in ("quantity", "short") and not cleaned.get("idempotency_key"):
            self.add_error(None, "The form is incomplete; reload the page and scan again.")
        if step == "quantity" and not cleaned.get("quantity") and "quantity" not in self.errors:
            self.add_error("quantity", "Enter the quantity you took.")
        if step == "short":
            if not cleaned.get("short_reason") and "short_reason" not in self.errors:
                self.add_error("short_reason", "Choose why the pick is short.")
            if cleaned.get("quantity") == "" and "quantity" not in self.errors:
                cleaned["quantity"] = "0"
        return cleaned


class OrderFilterForm(forms.Form):
    """The list's filter form (django-filter builds its fields; this styles them)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)

"""Forms of the inventory screens: they parse and resolve; services decide."""

import re
import uuid

from django import forms

from inventory.catalog.selectors import get_location_by_code
from inventory.core.errors import DomainError
from inventory.core.quantities import parse_amount, parse_quantity
from inventory.models import QcStatus
from inventory.scanning.gs1 import MAX_SCAN_LENGTH, parse_gs1
from inventory.scanning.resolve import find_product, find_product_by_gtin
from warehouse.models import Warehouse

# A field a scanner or a person types a code into: no suggestions, no spelling
# marks, capitals on a phone keyboard.
SCANNED = {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
DECIMAL_HELP = "A dot or a comma before the decimals (12.5 or 12,5); no thousands separators."

# Digits with at most one decimal separator, ASCII only ("١٢" is not twelve here).
_DOT_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_COMMA_DECIMAL = re.compile(r"-?[0-9]+,[0-9]+", re.ASCII)
# "1,250" reads as 1250 in English and as 1.25 in German or Polish: refuse it.
_GROUPING_LOOKALIKE = re.compile(r"-?[1-9][0-9]{0,2},[0-9]{3}", re.ASCII)


def normalize_decimal(text: str) -> str:
    """A decimal typed on the warehouse floor, written with a dot, or ``ValidationError``.

    The rule, whatever the browser's language: a dot is always the decimal
    separator; a single comma is one too (``12,5`` and ``0,125`` are 12.5 and
    0.125), except where it could be a thousands separator (``1,250``), which
    is refused with what to type instead. Thousands separators, spaces and
    exponents are refused: a number is never silently reinterpreted.
    """
    value = text.strip()
    if _DOT_DECIMAL.fullmatch(value):
        return value
    if _GROUPING_LOOKALIKE.fullmatch(value):
        whole, decimals = value.split(",")
        raise forms.ValidationError(
            "“%(value)s” could mean %(grouped)s or %(decimal)s. Type %(grouped)s, "
            "or %(decimal)s for a decimal.",
            code="ambiguous",
            params={"value": value, "grouped": whole + decimals, "decimal": f"{whole}.{decimals}"},
        )
    if _COMMA_DECIMAL.fullmatch(value):
        return value.replace(",", ".")
    raise forms.ValidationError(
        "Enter a number such as 12.5 (or 12,5), without thousands separators.",
        code="invalid",
    )


class DecimalTextField(forms.CharField):
    """A quantity or amount as typed: text, so the browser never rewrites it.

    ``type="text" inputmode="decimal"``: a number input would drop or reinterpret
    a comma depending on the browser's locale. Cleans to the normalized text
    (see ``normalize_decimal``); the form bounds and checks it with the domain
    parsers, which know the unit's decimals.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", DECIMAL_HELP)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value):
        value = super().clean(value)
        return normalize_decimal(value) if value else value


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
    """Where first (kept between receipts), then what a scanner reads, in scan order.

    The selects come before the scanned fields, so a scan ending in Tab moves
    from SKU to lot to quantity and never lands in a select.
    """

    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), empty_label=None)
    location = forms.CharField(
        label="Bin", max_length=32, required=False, help_text="Empty: the receiving bin."
    )
    # Long enough for a GS1 label scanned into it (see ``with_gs1``).
    sku = forms.CharField(
        label="Product SKU", max_length=MAX_SCAN_LENGTH, help_text="Or its GTIN, or a GS1 label."
    )
    lot_code = forms.CharField(label="Lot code", max_length=64)
    quantity = DecimalTextField(label="Quantity")
    expires_on = forms.DateField(
        label="Expiry date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Empty: from the product's shelf life.",
    )
    unit_cost = DecimalTextField(
        label="Unit cost", required=False, help_text="Empty: catalog cost. " + DECIMAL_HELP
    )

    # The order a scanner fills the form in; Enter moves along it (static/js/floor.js).
    SCAN_ORDER = ("sku", "lot_code", "quantity", "expires_on", "unit_cost")
    # What a GS1 label fills, by the names of the scan-parse answer (static/js/floor.js).
    GS1_FIELDS = {
        "sku": "sku",
        "lot_code": "lot_code",
        "quantity": "quantity",
        "expires_on": "expires_on",
        "location": "bin",
    }

    def __init__(self, data=None, *args, **kwargs):
        data, self.gs1 = with_gs1(data)
        super().__init__(data, *args, **kwargs)
        self.fields["warehouse"].queryset = Warehouse.objects.filter(is_active=True)
        self.fields["sku"].widget.attrs.update({"autofocus": True, "data-scan-fill": ""})
        for name, answer in self.GS1_FIELDS.items():
            self.fields[name].widget.attrs["data-gs1"] = answer
        for name in ("sku", "lot_code", "location"):
            self.fields[name].widget.attrs.update(SCANNED)
        for name in self.SCAN_ORDER:
            self.fields[name].widget.attrs["data-scan"] = name
            if self.fields[name].required:
                self.fields[name].widget.attrs["data-scan-required"] = ""
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    @property
    def where_fields(self):
        return [self[name] for name in ("warehouse", "location")]

    @property
    def scan_fields(self):
        return [self[name] for name in self.SCAN_ORDER]

    def clean(self):
        cleaned = super().clean()
        # Resolve codes to rows here so a typo is shown on its field.
        if "sku" in cleaned:
            try:
                if self.gs1 is not None and self.gs1.gtin:
                    cleaned["sku_object"] = find_product_by_gtin(self.gs1.gtin)
                    # Shown again as the SKU, should another field be refused.
                    self.data["sku"] = cleaned["sku_object"].sku
                else:
                    cleaned["sku_object"] = find_product(cleaned["sku"])
            except DomainError as error:
                self.add_error("sku", error.message)
        if "location" in cleaned and "warehouse" in cleaned:
            try:
                cleaned["location_object"] = (
                    get_location_by_code(cleaned["warehouse"], cleaned["location"])
                    if cleaned["location"]
                    else None
                )
            except DomainError as error:
                self.add_error("location", error.message)
        # Bound and check the numbers as the domain does, on their own fields.
        product = cleaned.get("sku_object")
        if cleaned.get("quantity") and product is not None:
            try:
                cleaned["quantity"] = parse_quantity(
                    cleaned["quantity"], places=product.quantity_places
                )
            except DomainError as error:
                self.add_error("quantity", error.message)
        if cleaned.get("unit_cost"):
            try:
                cleaned["unit_cost"] = parse_amount(cleaned["unit_cost"])
            except DomainError as error:
                self.add_error("unit_cost", error.message)
        else:
            cleaned["unit_cost"] = None
        return cleaned


def with_gs1(data):
    """``data`` with the empty lot, expiry and quantity filled from a GS1 label in its SKU.

    So a label scanned into the SKU field fills the form without JavaScript
    too. Returns (data, the label read or None); ``data`` is copied when filled.
    """
    text = data.get("sku", "") if data is not None else ""
    gs1 = parse_gs1(text) if isinstance(text, str) and len(text) <= MAX_SCAN_LENGTH else None
    if gs1 is None:
        return data, None
    data = data.copy()
    read = {
        "lot_code": gs1.lot,
        "expires_on": gs1.expires_on.isoformat() if gs1.expires_on else None,
        "quantity": format(gs1.quantity, "f") if gs1.quantity is not None else None,
    }
    for name, value in read.items():
        if value is not None and not str(data.get(name, "")).strip():
            data[name] = value
    return data, gs1


DECISION_REQUIRED = "Choose Approve or Reject with its button; nothing was decided."


class QcDecisionForm(IdempotentForm):
    """An inspector's decision. It comes only from a button: there is no default.

    Its key makes a double click record the decision once and answer the
    second click as the first; a form sent without one (a page from before
    keys) is still decided, once, because only a lot in quarantine can be.
    """

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=255, required=False)

    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("reject", "Reject")],
        error_messages={"required": DECISION_REQUIRED, "invalid_choice": DECISION_REQUIRED},
    )
    note = forms.CharField(max_length=2000, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not cleaned.get("note", "").strip():
            self.add_error("note", "Say why the lot is rejected.")
        return cleaned


class QcReversalForm(forms.Form):
    """A manager's correction of a decision: the new status and why."""

    previous_status = forms.ChoiceField(
        choices=[(QcStatus.APPROVED, "Approved"), (QcStatus.REJECTED, "Rejected")],
        widget=forms.HiddenInput,
    )
    status = forms.ChoiceField(
        label="Set to",
        choices=[
            (QcStatus.QUARANTINE, "Back to quarantine"),
            (QcStatus.APPROVED, "Approved"),
            (QcStatus.REJECTED, "Rejected"),
        ],
    )
    reason = forms.CharField(label="Reason", max_length=2000)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") and cleaned.get("status") == cleaned.get("previous_status"):
            self.add_error("status", "Choose a status other than the current one.")
        return cleaned


class StockFilterForm(forms.Form):
    q = forms.CharField(max_length=200, required=False)
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.none(), required=False, empty_label="All warehouses"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = Warehouse.objects.filter(is_active=True)

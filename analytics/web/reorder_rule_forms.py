"""Forms of the reorder rule screen: they bound, parse and resolve; the services decide.

Call ``is_valid()`` in a tenant context: the SKU (or a scanned GTIN) and the
warehouse are looked up in the current tenant. Each level is checked on its
own field with the quantity rules of the services (a point of zero or more,
a quantity above zero, at most the unit's decimals, at most a billion), so a
refusal is shown where it belongs.
"""

from __future__ import annotations

import django_filters
from django import forms

from analytics.web.report_forms import MAX_SKU_LENGTH
from inventory.core.errors import DomainError
from inventory.core.quantities import parse_quantity
from inventory.forms import SCANNED, DecimalTextField, IdempotentForm
from inventory.scanning.resolve import find_product
from warehouse.models import Warehouse


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        if isinstance(field.widget, forms.CheckboxInput):
            field.widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(field.widget, forms.Select):
            field.widget.attrs.setdefault("class", "form-select")
        else:
            field.widget.attrs.setdefault("class", "form-control")


class LevelsForm(IdempotentForm):
    """The reorder point and quantity of a rule, and whether it is enabled."""

    reorder_point = DecimalTextField(
        label="Reorder point", help_text="Reorder when available stock falls below this."
    )
    reorder_quantity = DecimalTextField(label="Reorder quantity", help_text="How much to order.")
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)

    def unit_places(self) -> int | None:
        """How many decimals the product's unit allows (None until the product is known)."""
        return None

    def _level(self, name: str, *, allow_zero: bool):
        value = self.cleaned_data.get(name)
        if not value:
            return value
        places = self.unit_places()
        try:
            return parse_quantity(
                value,
                allow_zero=allow_zero,
                what=self.fields[name].label.lower(),
                **({} if places is None else {"places": places}),
            )
        except DomainError as error:
            self.add_error(name, error.message)
            return None

    def clean(self):
        cleaned = super().clean()
        cleaned["reorder_point"] = self._level("reorder_point", allow_zero=True)
        cleaned["reorder_quantity"] = self._level("reorder_quantity", allow_zero=False)
        return cleaned


class RuleForm(LevelsForm):
    """A new rule: the product (typed or scanned), the warehouse, the levels."""

    sku = forms.CharField(
        label="Product SKU",
        max_length=MAX_SKU_LENGTH,
        help_text="Type or scan the SKU or the GTIN.",
        error_messages={"max_length": "A SKU has at most %(limit_value)d characters."},
    )
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of the warehouses in the list."},
    )

    field_order = ["sku", "warehouse", "reorder_point", "reorder_quantity", "enabled"]

    def __init__(self, *args, **kwargs):
        # Ids of their own: the list's filters beside the form have a SKU field too.
        kwargs.setdefault("auto_id", "rule-%s")
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = Warehouse.objects.filter(is_active=True).order_by(
            "code_key"
        )
        self.fields["sku"].widget.attrs.update({**SCANNED, "autofocus": True})
        _style(self)

    def unit_places(self) -> int | None:
        product = self.cleaned_data.get("product")
        return None if product is None else product.quantity_places

    def clean(self):
        sku = (self.cleaned_data.get("sku") or "").strip()
        if sku:
            try:
                self.cleaned_data["product"] = find_product(sku)
            except DomainError:
                self.add_error("sku", f"No product with SKU or GTIN {sku}. Check the code.")
        return super().clean()


class EditRuleForm(LevelsForm):
    """A rule's levels and whether it is enabled; its product and warehouse stay."""

    def __init__(self, *args, rule, **kwargs):
        self.rule = rule
        kwargs.setdefault("initial", {}).update(
            {
                "reorder_point": rule.reorder_point,
                "reorder_quantity": rule.reorder_quantity,
                "enabled": rule.enabled,
            }
        )
        super().__init__(*args, **kwargs)
        _style(self)

    def unit_places(self) -> int | None:
        return self.rule.product.quantity_places


class ToggleForm(IdempotentForm):
    """Enable or disable a rule: the state wanted, so a repeated click changes nothing more."""

    enabled = forms.TypedChoiceField(
        choices=[("1", "Enabled"), ("0", "Disabled")], coerce=lambda value: value == "1"
    )


class DeleteForm(IdempotentForm):
    """Delete a rule (from its confirmation page)."""


class RuleFilter(django_filters.FilterSet):
    """The list's filters: a SKU prefix, the warehouse, enabled or not (GET, bounded)."""

    sku = django_filters.CharFilter(
        label="SKU starts with",
        method="sku_prefix",
        max_length=MAX_SKU_LENGTH,
    )
    warehouse = django_filters.ModelChoiceFilter(
        queryset=lambda request: Warehouse.objects.filter(is_active=True).order_by("code_key"),
        empty_label="All warehouses",
    )
    enabled = django_filters.ChoiceFilter(
        choices=[("yes", "Enabled"), ("no", "Disabled")],
        empty_label="Enabled or not",
        method="by_enabled",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["sku"].widget.attrs.update(SCANNED)
        _style(self.form)

    def sku_prefix(self, queryset, name, value):
        prefix = value.strip().lower()
        if not (prefix.isascii() and prefix.isprintable()):
            return queryset.none()  # no SKU holds anything else
        return queryset.filter(product__sku_key__startswith=prefix) if prefix else queryset

    def by_enabled(self, queryset, name, value):
        return queryset.filter(enabled=value == "yes")

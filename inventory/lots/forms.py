"""The lot trace's search form: a lot code or a customer name."""

from django import forms


class TraceForm(forms.Form):
    lot = forms.CharField(
        max_length=64,
        required=False,
        label="Lot code",
        error_messages={"max_length": "A lot code has at most %(limit_value)d characters."},
    )
    customer = forms.CharField(
        max_length=200,
        required=False,
        label="Customer",
        error_messages={"max_length": "Type at most %(limit_value)d characters of the name."},
    )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if not cleaned.get("lot") and not cleaned.get("customer"):
            raise forms.ValidationError("Type a lot code, or the start of a customer's name.")
        if cleaned.get("lot") and cleaned.get("customer"):
            self.add_error("customer", "Search by lot or by customer, one at a time.")
        return cleaned

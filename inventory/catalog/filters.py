"""Filters of the product screens: the movement history by kind and date range."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.utils import timezone

from inventory.models import LedgerEntry, LedgerKind

# Dates outside these years are typing mistakes; they are refused before any query.
EARLIEST_DAY = datetime.date(2000, 1, 1)
LATEST_DAY = datetime.date(2999, 12, 31)


def start_of(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the current time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class ProductSearchForm(forms.Form):
    q = forms.CharField(
        max_length=200,
        required=False,
        strip=True,
        label="Search products",
        error_messages={
            "max_length": "Type at most %(limit_value)d characters: a SKU or a few words."
        },
    )


class HistoryFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        for name in ("since", "until"):
            day = cleaned.get(name)
            if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
                self.add_error(name, f"Enter a date between {EARLIEST_DAY:%Y} and {LATEST_DAY:%Y}.")
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The “to” date is before the “from” date.")
        return cleaned


class HistoryFilter(django_filters.FilterSet):
    """What, from and to (both days included) over a product's ledger entries."""

    kind = django_filters.ChoiceFilter(
        choices=LedgerKind.choices, empty_label="Every kind", label="What"
    )
    since = django_filters.DateFilter(
        method="filter_since", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        method="filter_until", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = LedgerEntry
        fields = ["kind"]
        form = HistoryFilterForm

    def filter_since(self, queryset, name, value):
        return queryset.filter(occurred_at__gte=start_of(value))

    def filter_until(self, queryset, name, value):
        return queryset.filter(occurred_at__lt=start_of(value + datetime.timedelta(days=1)))

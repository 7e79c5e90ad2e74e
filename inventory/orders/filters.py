"""The order list's filters: by status, and a search of reference and customer."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from inventory.models import Order, OrderStatus
from inventory.orders.forms import OrderFilterForm

MAX_SEARCH_LENGTH = 100


class OrderFilter(django_filters.FilterSet):
    """A value that does not validate (an unknown status, an overlong search) is ignored.

    The search is a plain ``icontains`` on two short columns, bounded to
    ``MAX_SEARCH_LENGTH`` characters before it reaches the database.
    """

    status = django_filters.ChoiceFilter(
        label="Status", choices=OrderStatus.choices, empty_label="Any status"
    )
    q = django_filters.CharFilter(
        label="Reference or customer", method="search", max_length=MAX_SEARCH_LENGTH
    )

    class Meta:
        model = Order
        fields = ["status"]
        form = OrderFilterForm

    def search(self, queryset, name, value):
        return queryset.filter(Q(reference__icontains=value) | Q(customer__icontains=value))

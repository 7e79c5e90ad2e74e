"""The warehouse and team lists: django-tables2 tables sorted and paged by the database."""

from __future__ import annotations

import django_filters
import django_tables2 as tables
from django.utils.html import format_html

from inventory.web.tables import CodeColumn, DayColumn, ListTable
from warehouse.models import Location, Warehouse

_WIDE_ONLY = {"th": {"class": "sy-wide-only"}, "td": {"class": "sy-wide-only"}}
_NUMBER = {"th": {"class": "text-end"}, "td": {"class": "sy-num"}}


class StatusColumn(tables.BooleanColumn):
    def render(self, value, record, bound_column):
        state = ("text-success", "Active") if value else ("text-body-secondary", "Inactive")
        return format_html('<span class="{}">{}</span>', *state)


class WarehouseTable(ListTable):
    code = CodeColumn(verbose_name="Code")
    name = tables.Column(verbose_name="Name", attrs=_WIDE_ONLY)
    time_zone = tables.Column(verbose_name="Time zone", attrs=_WIDE_ONLY)
    bin_count = tables.Column(verbose_name="Active bins", attrs=_NUMBER)
    is_active = StatusColumn(verbose_name="Status", attrs=_WIDE_ONLY)

    class Meta(ListTable.Meta):
        order_by = ("code",)
        empty_text = "No warehouses yet. An admin adds them in the admin, with their bins."
        row_attrs = {"data-testid": lambda record: f"warehouse-{record.code}"}

    def render_bin_count(self, value):
        return f"{value:,}"


class BinTable(ListTable):
    warehouse = CodeColumn(
        accessor="warehouse__code", verbose_name="Warehouse", order_by=("warehouse__code_key",)
    )
    code = CodeColumn(verbose_name="Bin", order_by=("code_key",))
    kind = tables.Column(verbose_name="Kind", attrs=_WIDE_ONLY)
    pick_sequence = tables.Column(verbose_name="Pick order", attrs=_NUMBER)
    is_active = StatusColumn(verbose_name="Status", attrs=_WIDE_ONLY)

    class Meta(ListTable.Meta):
        prefix = "bin-"
        order_by = ("warehouse", "pick_sequence")
        empty_text = "No bins match. Clear the filter, or ask an admin to add bins."
        row_attrs = {"data-testid": lambda record: f"bin-{record.code}"}

    def render_kind(self, record):
        return format_html(
            '<span class="badge rounded-pill text-bg-light border sy-kind">{}</span>',
            record.get_kind_display(),
        )


def _active_warehouses(request):
    return Warehouse.objects.filter(is_active=True).order_by("code_key")


class BinFilter(django_filters.FilterSet):
    """Bins of one warehouse, and bins whose code starts with what was typed."""

    warehouse = django_filters.ModelChoiceFilter(
        queryset=_active_warehouses, empty_label="All warehouses"
    )
    code = django_filters.CharFilter(method="filter_code", max_length=32, label="Bin code")

    class Meta:
        model = Location
        fields = ["warehouse", "code"]

    def filter_code(self, queryset, name, value):
        prefix = value.strip().lower()
        if not prefix:
            return queryset
        # A range on the stored lowercase key, not ILIKE: a LEAKPROOF comparison
        # the index serves under row-level security (codes are below "~").
        return queryset.filter(code_key__gte=prefix, code_key__lt=prefix + "\x7f")


class TeamTable(ListTable):
    name = tables.Column(
        accessor="user__first_name",
        verbose_name="Name",
        order_by=("user__first_name", "user__last_name"),
    )
    username = CodeColumn(accessor="user__username", verbose_name="Username")
    role = tables.Column(verbose_name="Role")
    created_at = DayColumn(verbose_name="Member since", attrs=_WIDE_ONLY)

    class Meta(ListTable.Meta):
        order_by = ("role", "username")
        empty_text = "Nobody else yet. An admin adds members in the admin."

    def render_name(self, record):
        return record.user.get_full_name() or "—"

    def render_role(self, record):
        return format_html(
            '<span class="badge text-bg-warning">{}</span>', record.get_role_display()
        )

"""The list pattern of every screen: a django-tables2 table inside a named partial.

A list screen is one template with the table region as a named partial
(``{% partialdef orders-table inline %}``) wrapped in
``<div id="orders-table" hx-target="this" hx-swap="outerHTML">``. Sort and
page links are plain links that htmx also follows (``templates/tables/table.html``),
so they swap only the region and work without JavaScript; the filter form
targets the same region. ``render_region`` answers the partial to a request
aimed at that region and the whole page to anything else.

Sorting and paging happen in the database: the table gets a queryset
(``order_by`` by column, ``LIMIT``/``OFFSET`` by page), so a list costs the
same queries whatever its length. Lists too long to count (the ledger)
use ``LazyPaginator``.
"""

from __future__ import annotations

import types

import django_tables2 as tables
import django_tables2.utils
from django.conf import settings
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import get_template
from django.utils.html import format_html
from django_tables2.paginators import LazyPaginator
from django_tables2.utils import AttributeDict

from inventory.templatetags.stock import day, moment, money, quantity_in

PER_PAGE = 25


# Attributes of cells that step aside on a phone (``sy-wide-only``), for plain
# columns, codes and numbers.
WIDE_ONLY = {"th": {"class": "sy-wide-only"}, "td": {"class": "sy-wide-only"}}
WIDE_ONLY_CODE = {"th": {"class": "sy-wide-only"}, "td": {"class": "sy-code sy-wide-only"}}
WIDE_ONLY_NUMBER = {
    "th": {"class": "text-end sy-wide-only"},
    "td": {"class": "sy-num sy-wide-only"},
}


_SIGNATURES: dict = {}
_SIGNATURES_KEPT = 4096


def _remembered_signature(fn, *, inspect_signature=django_tables2.utils.signature):
    """django-tables2's ``signature`` remembered per function.

    django-tables2 inspects the signature of a column's ``render`` (and
    ``value``) for every cell it draws; on a page of 25 rows and a dozen
    columns that inspection was a third of the page's time. A method's
    signature does not depend on the object it is bound to, so it is kept
    per underlying function (functions live as long as their class). Other
    callables (partials, objects with ``__call__``) are inspected each time.
    """
    function = fn.__func__ if isinstance(fn, types.MethodType) else fn
    if not isinstance(function, types.FunctionType):
        return inspect_signature(fn)
    key = (function, isinstance(fn, types.MethodType))
    try:
        return _SIGNATURES[key]
    except KeyError:
        if len(_SIGNATURES) >= _SIGNATURES_KEPT:
            _SIGNATURES.clear()  # closures made per request must not pile up
        found = _SIGNATURES[key] = inspect_signature(fn)
        return found


def remember_cell_signatures() -> None:
    """Make django-tables2 inspect each render method once, not once per cell (app start-up)."""
    django_tables2.utils.signature = _remembered_signature


class ListTable(tables.Table):
    """Base of every list table (template and look come from the settings).

    A subclass's ``Meta`` replaces this one unless it subclasses it
    (``class Meta(ListTable.Meta)``), as django-tables2 reads only the
    table's own ``Meta``. A ``Meta.attrs`` (a test id, a smaller table)
    adds to the house look of ``DJANGO_TABLES2_TABLE_ATTRS`` rather than
    replacing it, as django-tables2 alone would.
    """

    class Meta:
        per_page = PER_PAGE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.attrs = AttributeDict({**settings.DJANGO_TABLES2_TABLE_ATTRS, **self.attrs})


def configure_table(request, table: tables.Table, *, lazy: bool = False) -> tables.Table:
    """Apply the request's sort and page to ``table`` (bad values fall back quietly).

    An unknown sort column is ignored and a page out of range shows the
    last page (django-tables2's ``silent`` paging), so no link a user can
    edit gives an error. ``lazy`` pages without counting the rows.
    """
    paginate = {"per_page": getattr(table._meta, "per_page", None) or PER_PAGE}
    if lazy:
        paginate["paginator_class"] = LazyPaginator
    page = request.GET.get(table.prefixed_page_field, "1")
    if not (page.isascii() and page.isdigit() and len(page) <= 6):
        # Bounded before it costs anything: "page=9999999999999" is page 1.
        paginate["page"] = 1
    tables.RequestConfig(request, paginate=paginate).configure(table)
    table.uncounted = lazy  # the page summary then shows the page number alone
    return table


def render_region(request, template: str, region: str, context: dict, *, status: int = 200):
    """The named partial ``region`` to an htmx request aimed at it, else the page."""
    if request.htmx and request.htmx.target == region:
        return render(request, f"{template}#{region}", context, status=status)
    return render(request, template, context, status=status)


class QuantityColumn(tables.Column):
    """A quantity, right-aligned, with the fixed decimals of its unit and the unit.

    ``unit`` is the accessor of the unit of measure on the row (``"product.uom"``
    on a model row, ``"uom"`` on a dict row).
    """

    def __init__(self, *args, unit: str = "product.uom", **kwargs):
        self.unit = tables.A(unit)
        attrs = kwargs.pop("attrs", {})
        attrs.setdefault("th", {"class": "text-end"})
        attrs.setdefault("td", {"class": "sy-num"})
        super().__init__(*args, attrs=attrs, **kwargs)

    def render(self, value, record):
        uom = self.unit.resolve(record, quiet=True)
        return format_html('{} <span class="sy-unit">{}</span>', quantity_in(value, uom), uom or "")

    def value(self, value, record):  # the CSV export: the number alone
        return value


class SignedQuantityColumn(QuantityColumn):
    """A change of stock with its sign: ``+240`` in, ``12.500`` out behind a minus sign.

    The minus is the typographic minus sign (U+2212), as wide as the plus, so
    a column of changes lines up. The unit is the table's ``uom`` when every
    row is of one product (a product's history), else the row's own.
    """

    def render(self, value, record, table):
        uom = getattr(table, "uom", None) or self.unit.resolve(record, quiet=True)
        sign = "+" if value > 0 else "\N{MINUS SIGN}" if value < 0 else ""
        css = "text-success" if value > 0 else "text-danger"
        return format_html(
            '<span class="{}">{}{}</span> <span class="sy-unit">{}</span>',
            css,
            sign,
            quantity_in(abs(value), uom),
            uom or "",
        )


class PartialColumn(tables.TemplateColumn):
    """A cell drawn by a template (a row's form: ``page.html#partial``) from the row alone.

    django-tables2 renders a ``template_name`` column with the whole page's
    context flattened and the request, so every context processor runs again
    for every cell; a 25-row queue with a form per row spent most of its time
    there. A row's template gets the row (``record``), the column's
    ``extra_context`` and the CSRF token, which is all a row's form needs.
    """

    def render(self, record, table, value, bound_column, **kwargs):
        context = self.get_context_data(
            record=record, table=table, value=value, bound_column=bound_column, **kwargs
        )
        # ``render_table`` hands the table the page's context; a row drawn on
        # its own (an htmx answer of one row) has the request instead.
        page = getattr(table, "context", None)
        request = getattr(table, "request", None)
        if page is not None and page.get("csrf_token"):
            context["csrf_token"] = page["csrf_token"]
        elif request is not None:
            context["csrf_token"] = get_token(request)
        return get_template(self.template_name).render(context)


class MoneyColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"th": {"class": "text-end"}, "td": {"class": "sy-num"}})
        super().__init__(*args, **kwargs)

    def render(self, value):
        return money(value)


class CodeColumn(tables.Column):
    """A SKU, lot or bin code: monospaced and never wrapped at its hyphens."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "sy-code"}})
        super().__init__(*args, **kwargs)


class DayColumn(tables.Column):
    def render(self, value):
        return day(value)


class MomentColumn(tables.Column):
    def render(self, value):
        return moment(value)

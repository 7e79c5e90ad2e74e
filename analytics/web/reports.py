"""One screen per report, each with its CSV export, for managers (and admins).

Every screen is drawn from its spec (``report_specs``): the filter form
(GET), the figures read first, the charts, and the table of the report's
rows, sorted and paged from the query string. A refused filter answers 422
with the message next to its field and no table. The filter form swaps the
``report-results`` region, sort and page links the ``report-table`` region;
both also work as plain links.

The CSV export (``<name>.csv``) takes the same query string and writes
every row of the report in the table's order, not one page.

Read-only: the selectors open their own tenant context on the report
connection; the rest reads in the request's tenant transaction.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.http import QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django_htmx.http import retarget
from django_tables2 import RequestConfig

from analytics.web.report_specs import REPORTS, ReportSpec
from analytics.web.report_tables import ReportPage, ReportRows
from inventory.catalog.selectors import code_key
from inventory.core.errors import ProductNotFound, ValidationFailed, WarehouseNotFound
from inventory.models import Product
from inventory.web.exports import csv_response
from inventory.web.tables import PER_PAGE, configure_table, render_region
from warehouse.access import role_required
from warehouse.models import Role, Warehouse

TEMPLATE = "analytics/reports/report.html"
REGIONS = ("report-results", "report-table")
# Where a refusal of the selector is shown.
ERROR_FIELDS = {ProductNotFound: "sku", WarehouseNotFound: "warehouse", ValidationFailed: "days"}
# Query parameters that never reach a filter form or the CSV link.
PAGE_FIELD = "page"
SORT_FIELD = "sort"
# A sort names at most this many columns (a table has fewer).
MAX_SORT_KEYS = 8
# Pages past this one are read as past the last page.
MAX_PAGE = 1_000_000


def _bound_form(request, spec: ReportSpec):
    warehouses = list(Warehouse.objects.order_by("code_key").values_list("code", flat=True))
    return spec.form_class(request.GET, warehouses=warehouses)


def _read(request, spec: ReportSpec, form, reader=None, **arguments):
    """The report for the form's filters, or None with the refusal added to the form.

    Read by ``spec.read``, or by ``reader`` with ``arguments`` besides the filters.
    """
    if not form.is_valid():
        return None
    try:
        return (reader or spec.read)(tenant=request.tenant, **form.filters(), **arguments)
    except (ProductNotFound, WarehouseNotFound, ValidationFailed) as error:
        name = ERROR_FIELDS[type(error)]
        form.add_error(name if name in form.fields else None, error.message)
        return None


def _page_number(request) -> int:
    """The page asked for, read as django-tables2 reads it (``RequestConfig``): its integer, else 1.

    The table shows the last page for a number below 1 or past the last
    page; such a number comes back as one past ``MAX_PAGE``, so the page read
    is the last one too (and its offset stays a small number).
    """
    try:
        number = int(request.GET.get(PAGE_FIELD, "1"))
    except ValueError:
        return 1
    return number if 1 <= number <= MAX_PAGE else MAX_PAGE + 1


def _sort_aliases(request, spec: ReportSpec) -> list[str]:
    """The request's sort, by columns of the table that sort (the others are ignored)."""
    columns = spec.table_class.base_columns
    aliases = []
    for alias in request.GET.get(SORT_FIELD, "").split(",")[:MAX_SORT_KEYS]:
        column = columns.get(alias.removeprefix("-"))
        if alias and column is not None and column.orderable is not False:
            aliases.append(alias)
    return aliases


def _read_page(request, spec: ReportSpec, form):
    """The page of the report the request asks for, sorted and cut by the database.

    A page past the last shows the last one, as the table's paging does.
    """
    per_page = spec.table_class._meta.per_page or PER_PAGE
    order = _sort_aliases(request, spec)
    offset = (_page_number(request) - 1) * per_page
    page = _read(request, spec, form, spec.page, order=order, limit=per_page, offset=offset)
    if page is not None and page.count and offset >= page.count:
        offset = (page.count - 1) // per_page * per_page
        page = _read(request, spec, form, spec.page, order=order, limit=per_page, offset=offset)
    if page is None:
        return None
    return page, ReportPage(page.rows, count=page.count, offset=offset)


def _table(request, spec: ReportSpec, rows, *, paginate: bool = True):
    table = spec.table_class(rows if isinstance(rows, ReportPage) else ReportRows(rows))
    if paginate:
        configure_table(request, table)
    else:
        # The CSV: every row, in the order the screen shows them.
        RequestConfig(request, paginate=False).configure(table)
    return table


def _units(spec: ReportSpec, table, filters: dict) -> None:
    """Tell the table the unit of its quantities: one query, for the page's products at most."""
    if spec.units == "product" and filters.get("sku"):
        key = code_key(filters["sku"])
        table.uom = Product.objects.filter(sku_key=key).values_list("uom", flat=True).first()
    elif spec.units == "sku":
        skus = {row.record.sku for row in table.page.object_list}
        table.units = dict(Product.objects.filter(sku__in=skus).values_list("sku", "uom"))


def _csv_query(request) -> str:
    query = QueryDict(mutable=True)
    for name, values in request.GET.lists():
        if name != PAGE_FIELD:
            query.setlist(name, values)
    return query.urlencode()


def _switcher(current: ReportSpec) -> list[dict]:
    return [
        {"title": spec.title, "url": reverse(spec.url_name), "active": spec is current}
        for spec in REPORTS
    ]


def report_page(request, spec: ReportSpec):
    """The report's screen: its filters, figures, charts and a page of its table."""
    form = _bound_form(request, spec)
    if spec.page is not None:
        read = _read_page(request, spec, form)
        result, rows = read if read is not None else (None, None)
    else:
        result = _read(request, spec, form)
        rows = None if result is None else spec.rows(result)
    context = {"spec": spec, "switcher": _switcher(spec), "form": form}
    if result is None:
        status = 422
    else:
        status = 200
        filters = form.filters()
        table = _table(request, spec, rows)
        _units(spec, table, filters)
        empty = spec.empty(result, filters)
        if empty and not rows:
            # Said once, where the rows would be.
            table.empty_text, empty = empty, None
        query = _csv_query(request)
        context.update(
            table=table,
            cards=spec.cards(result, filters, uom=getattr(table, "uom", None)),
            charts=spec.charts(result, filters),
            empty=empty,
            csv_url=reverse(spec.csv_url_name) + (f"?{query}" if query else ""),
        )
    if form.is_prompt:
        status = 200  # opened without the product it needs: a question, not a refusal
    target = request.htmx.target if request.htmx else None
    if status != 200 and target == "report-table":
        # A refusal shows next to the filter, which lies outside the table.
        response = render(request, f"{TEMPLATE}#report-results", context, status=status)
        return retarget(response, "#report-results")
    region = target if target in REGIONS else REGIONS[0]
    return render_region(request, TEMPLATE, region, context, status=status)


def _file_name(spec: ReportSpec, filters: dict) -> str:
    parts = [spec.file_stem or spec.name]
    if "sku" in filters:
        parts.append(filters["sku"])
    if "days" in filters:
        parts.append(f"{filters['days']}-days")
    if "warehouse" in filters:
        parts.append(filters["warehouse"])
    for name in ("since", "until", "as_of"):
        if name in filters:
            parts.append(f"{name.replace('_', '-')}-{filters[name].isoformat()}")
    parts.append(timezone.localdate().isoformat())
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(str(part) for part in parts)).strip("-")
    return f"{stem[:120]}.csv"


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")  # a plain decimal, never 1E+3
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def report_csv(request, spec: ReportSpec):
    """Every row of the report for the screen's filters, in the screen's order, as CSV."""
    form = _bound_form(request, spec)
    result = _read(request, spec, form)
    if result is None:
        context = {"spec": spec, "switcher": _switcher(spec), "form": form}
        return render_region(request, TEMPLATE, REGIONS[0], context, status=422)
    filters = form.filters()
    table = _table(request, spec, spec.rows(result), paginate=False)
    header = [header for header, _ in spec.csv_columns]
    rows = (
        [_csv_value(getattr(row.record, name)) for _, name in spec.csv_columns]
        for row in table.rows
    )
    return csv_response(_file_name(spec, filters), header, rows)


def _views(spec: ReportSpec):
    @role_required(Role.MANAGER)
    def page(request):
        return report_page(request, spec)

    @role_required(Role.MANAGER)
    def export(request):
        return report_csv(request, spec)

    page.__name__ = page.__qualname__ = f"{spec.name.replace('-', '_')}_report"
    export.__name__ = export.__qualname__ = f"{spec.name.replace('-', '_')}_report_csv"
    return page, export


def _routes():
    routes = []
    for spec in REPORTS:
        page, export = _views(spec)
        routes += [
            path(f"reports/{spec.name}/", page, name=spec.name),
            path(f"reports/{spec.name}.csv", export, name=f"{spec.name}-csv"),
        ]
    return routes


urlpatterns = _routes()

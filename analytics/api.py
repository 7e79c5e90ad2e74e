"""API v1, reports (``/reports/...``, reads) and reorder rules (``/reorder-rules``).

Every report answers what its selector (``analytics.reports``) returns, for
the token's tenant, with numbers as decimal strings: amounts with 2
decimals, shares with 4, quantities as the ledger holds them (3), rolling
averages with 3, turnover with 2 and days of supply with 1. A bad parameter
is ``422 VALIDATION_ERROR``; a warehouse or SKU the tenant does not have is
``404 WAREHOUSE_NOT_FOUND`` or ``404 PRODUCT_NOT_FOUND``.

The per-product lists (ABC, turnover, stock-outs, low stock) come a page
at a time: ``limit`` rows (2,000 unless asked, at most 10,000) from
``offset``, with ``count``, the rows of the whole report, so a client reads
every row in a few calls (``offset`` += ``limit`` until ``count``). Each page
is a slice of the same ordered report; ABC classes and shares are decided on
the whole report, never on the page.

Reorder rules are listed with the ``read`` scope and written with ``write``,
like every other resource of the API (tokens carry scopes, not roles).
"""

from __future__ import annotations

import datetime

from ninja import Field, Query, Router, Schema
from pydantic import BaseModel, ConfigDict

from analytics import reports
from analytics.reports import reorder_rules as rules
from analytics.reports.abc import SHARE_PLACES
from analytics.reports.connection import MAX_WINDOW_DAYS
from analytics.reports.demand import MAX_DEMAND_DAYS
from analytics.reports.stockouts import MAX_STOCKOUT_DAYS
from inventory.api import schemas
from inventory.api.common import (
    DEFAULT_PAGE_SIZE,
    ERRORS,
    MAX_PAGE_SIZE,
    WRITE_ERRORS,
    fingerprinted,
    valid_id,
)
from inventory.api.core import write_endpoint
from inventory.api.responses import DecimalText, ErrorOut
from inventory.models import Operation
from warehouse.tenancy import tenant_context

router = Router(tags=["reports"])

REPORT_ERRORS = {**ERRORS, 404: ErrorOut}
WAREHOUSE = Query(None, description="One warehouse's code; all warehouses without it.")
ANY_SKU = Query(None, description="One product's SKU; all products without it.")
REQUIRED_SKU = Query(..., description="The product's SKU.")
SINCE = Query(
    None,
    description="The first day (YYYY-MM-DD); by default 89 days before until, and never more "
    "than 730 days before it nor ten years before today. After until: no days.",
)
UNTIL = Query(None, description="The last day (YYYY-MM-DD); by default, and at the latest, today.")
AS_OF = Query(
    None, description="Value the stock at the end of this day (YYYY-MM-DD); a later day is today."
)


# A page of a per-product list: 2,000 rows answer in tens of milliseconds; a
# BI tool reading the whole report asks for up to 10,000 at a time.
REPORT_PAGE_SIZE = 2_000
MAX_REPORT_PAGE_SIZE = 10_000
MAX_REPORT_OFFSET = 1_000_000
LIMIT = Query(
    REPORT_PAGE_SIZE,
    ge=1,
    le=MAX_REPORT_PAGE_SIZE,
    description="Rows in this page, 1 to 10,000; 2,000 unless set.",
)
OFFSET = Query(
    0,
    ge=0,
    le=MAX_REPORT_OFFSET,
    description="Rows of the report to skip (0 to 1,000,000); count says how many there are.",
)


class ReportPageOut(Schema):
    """A page of a per-product report; ``count`` is every row of the report."""

    count: int = Field(description="Rows in the whole report; items holds at most limit of them.")

    @staticmethod
    def resolve_count(page) -> int:
        # Built from a whole report (no page asked for): the count is its length.
        if isinstance(page, dict):
            return page["count"] if "count" in page else len(page.get("items", ()))
        return page.count


def _page(rows: list, limit: int, offset: int) -> dict:
    # A dict, not the answer's schema: ninja validates what a view returns
    # against the response schema, so the rows are read once, not twice.
    return {"items": rows[offset : offset + limit], "count": len(rows)}


def _days(default: int, maximum: int):
    return Query(default, ge=1, le=maximum, description=f"The last 1 to {maximum} days.")


# -- answers -------------------------------------------------------------------------------


class ReportRowOut(BaseModel):
    """A row of a per-product report, read from the selector's row by pydantic itself.

    A plain pydantic model rather than ninja's ``Schema``, whose attribute
    reader runs in Python for every row: a page holds up to 10,000 of them.
    """

    model_config = ConfigDict(from_attributes=True)


class AbcItemOut(ReportRowOut):
    sku: str
    name: str
    consumption_value: DecimalText
    share: DecimalText = Field(description=f"Of the total consumption, {SHARE_PLACES} decimals.")
    cumulative_share: DecimalText
    abc_class: str = Field(serialization_alias="class")


class AbcOut(ReportPageOut):
    items: list[AbcItemOut]


class BucketOut(Schema):
    bucket: str
    quantity: DecimalText
    value: DecimalText


class AgingOut(Schema):
    by_age: list[BucketOut]
    by_expiry: list[BucketOut]


class TurnoverItemOut(ReportRowOut):
    sku: str
    name: str
    shipped: DecimalText
    average_on_hand: DecimalText
    on_hand: DecimalText
    turnover: DecimalText | None
    days_of_supply: DecimalText | None


class TurnoverOut(ReportPageOut):
    items: list[TurnoverItemOut]


class DemandDayOut(Schema):
    day: datetime.date
    shipped: DecimalText
    average_7: DecimalText
    average_28: DecimalText


class DemandOut(Schema):
    items: list[DemandDayOut]


class HistoryDayOut(Schema):
    day: datetime.date
    on_hand: DecimalText


class HistoryOut(Schema):
    items: list[HistoryDayOut]


class WarehouseValueOut(Schema):
    warehouse: str
    lots: int | None = Field(description="Lots in stock there; today only (null as of a past day)")
    quantity: DecimalText
    value: DecimalText


class ValuationOut(Schema):
    as_of: datetime.date
    warehouses: list[WarehouseValueOut]
    total_quantity: DecimalText
    total_value: DecimalText


class StockOutItemOut(ReportRowOut):
    sku: str
    name: str
    days_at_zero: int
    days_counted: int
    out_of_stock: bool


class StockOutsOut(ReportPageOut):
    items: list[StockOutItemOut]


class LowStockItemOut(ReportRowOut):
    sku: str
    name: str
    warehouse: str
    available: DecimalText
    reorder_point: DecimalText
    reorder_quantity: DecimalText
    shortfall: DecimalText


class LowStockOut(ReportPageOut):
    items: list[LowStockItemOut]


# -- reports -------------------------------------------------------------------------------


@router.get(
    "/reports/abc",
    response={200: AbcOut, **REPORT_ERRORS},
    by_alias=True,
    summary="ABC classes by consumption value (a page of products)",
)
def report_abc(
    request,
    days: int = _days(90, MAX_WINDOW_DAYS),
    warehouse: schemas.WarehouseCode | None = WAREHOUSE,
    limit: int = LIMIT,
    offset: int = OFFSET,
):
    rows = reports.abc(tenant=request.tenant, days=days, warehouse=warehouse)
    return _page(rows, limit, offset)


@router.get(
    "/reports/aging",
    response={200: AgingOut, **REPORT_ERRORS},
    summary="Stock on hand by age and by time to expiry",
)
def report_aging(request, warehouse: schemas.WarehouseCode | None = WAREHOUSE):
    return AgingOut.model_validate(
        reports.aging(tenant=request.tenant, warehouse=warehouse), from_attributes=True
    )


@router.get(
    "/reports/turnover",
    response={200: TurnoverOut, **REPORT_ERRORS},
    summary="Turnover and days of supply per product (a page of products)",
)
def report_turnover(
    request,
    days: int = _days(90, MAX_WINDOW_DAYS),
    warehouse: schemas.WarehouseCode | None = WAREHOUSE,
    limit: int = LIMIT,
    offset: int = OFFSET,
):
    # Sorted and cut in the database: only the page is read back.
    page = reports.turnover_page(
        tenant=request.tenant, days=days, warehouse=warehouse, limit=limit, offset=offset
    )
    return {"items": page.rows, "count": page.count}


@router.get(
    "/reports/demand",
    response={200: DemandOut, **REPORT_ERRORS},
    summary="Units shipped per day with 7- and 28-day rolling averages",
)
def report_demand(
    request,
    sku: schemas.Sku | None = ANY_SKU,
    days: int = _days(90, MAX_DEMAND_DAYS),
    warehouse: schemas.WarehouseCode | None = WAREHOUSE,
):
    return DemandOut(
        items=reports.demand(tenant=request.tenant, days=days, sku=sku, warehouse=warehouse)
    )


@router.get(
    "/reports/stock-history",
    response={200: HistoryOut, **REPORT_ERRORS},
    summary="A product's on hand at the end of each day (at most 731 days)",
)
def report_stock_history(
    request,
    sku: schemas.Sku = REQUIRED_SKU,
    warehouse: schemas.WarehouseCode | None = WAREHOUSE,
    since: datetime.date | None = SINCE,
    until: datetime.date | None = UNTIL,
):
    return HistoryOut(
        items=reports.stock_history(
            tenant=request.tenant, sku=sku, warehouse=warehouse, since=since, until=until
        )
    )


@router.get(
    "/reports/valuation",
    response={200: ValuationOut, **REPORT_ERRORS},
    summary="Stock valued at lot cost per warehouse, today or at the end of a past day",
)
def report_valuation(request, as_of: datetime.date | None = AS_OF):
    return ValuationOut.model_validate(
        reports.valuation(tenant=request.tenant, as_of=as_of), from_attributes=True
    )


@router.get(
    "/reports/stock-outs",
    response={200: StockOutsOut, **REPORT_ERRORS},
    summary="Products at zero available stock on snapshotted days of the window (a page)",
)
def report_stock_outs(
    request,
    days: int = _days(30, MAX_STOCKOUT_DAYS),
    warehouse: schemas.WarehouseCode | None = WAREHOUSE,
    limit: int = LIMIT,
    offset: int = OFFSET,
):
    """Days at zero available stock at the end of the day, from the daily snapshots.

    Only the days of the window with a snapshot are counted; today is read
    from the current-stock view (as of its last refresh).
    """
    rows = reports.stock_outs(tenant=request.tenant, days=days, warehouse=warehouse)
    return _page(rows, limit, offset)


@router.get(
    "/reports/low-stock",
    response={200: LowStockOut, **REPORT_ERRORS},
    summary="Enabled reorder rules whose available stock is below the reorder point (a page)",
)
def report_low_stock(
    request,
    warehouse: schemas.WarehouseCode | None = WAREHOUSE,
    limit: int = LIMIT,
    offset: int = OFFSET,
):
    rows = reports.low_stock(tenant=request.tenant, warehouse=warehouse)
    return _page(rows, limit, offset)


# -- reorder rules -------------------------------------------------------------------------


class ReorderRuleOut(Schema):
    id: int
    sku: str
    warehouse: str
    reorder_point: DecimalText
    reorder_quantity: DecimalText
    enabled: bool

    @staticmethod
    def resolve_sku(rule) -> str:
        return rule.product.sku

    @staticmethod
    def resolve_warehouse(rule) -> str:
        return rule.warehouse.code


class ReorderRulePageOut(Schema):
    items: list[ReorderRuleOut]
    limit: int
    offset: int
    next_offset: int | None


class ReorderLevelsIn(Schema):
    reorder_point: schemas.CountedQuantity = Field(
        ..., description="Reorder when available stock is below this."
    )
    reorder_quantity: schemas.Quantity = Field(..., description="How much to reorder.")
    enabled: bool = True


class ReorderRuleIn(ReorderLevelsIn):
    sku: schemas.Sku
    warehouse: schemas.WarehouseCode


@router.get(
    "/reorder-rules",
    response={200: ReorderRulePageOut, **ERRORS},
    summary=f"Reorder rules by SKU and warehouse (at most {MAX_PAGE_SIZE} a page)",
)
def list_reorder_rules(
    request,
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    with tenant_context(request.tenant.pk):
        found = list(rules.reorder_rules()[offset : offset + limit + 1])
        return ReorderRulePageOut(
            items=found[:limit],
            limit=limit,
            offset=offset,
            next_offset=offset + limit if len(found) > limit else None,
        )


@router.post(
    "/reorder-rules",
    response={201: ReorderRuleOut, **WRITE_ERRORS},
    summary="Add a product's reorder rule in a warehouse",
)
@write_endpoint(
    "api.reorder_rule",
    payload=lambda body: fingerprinted(body, "reorder_point", "reorder_quantity"),
)
def create_reorder_rule(request, body: ReorderRuleIn, *, operation: Operation):
    rule = rules.create_reorder_rule(
        tenant=request.tenant,
        sku=body.sku,
        warehouse=body.warehouse,
        reorder_point=body.reorder_point,
        reorder_quantity=body.reorder_quantity,
        enabled=body.enabled,
    )
    return 201, ReorderRuleOut.from_orm(rule)


def _rule_payload(rule_id: int, body=None) -> dict:
    valid_id(rule_id, rules.ReorderRuleNotFound)
    levels = {} if body is None else fingerprinted(body, "reorder_point", "reorder_quantity")
    return {"rule": rule_id, **levels}


@router.put(
    "/reorder-rules/{rule_id}",
    response={200: ReorderRuleOut, **WRITE_ERRORS},
    summary="Change a reorder rule's point, quantity or whether it is enabled",
)
@write_endpoint("api.reorder_rule_update", payload=_rule_payload)
def update_reorder_rule(request, rule_id: int, body: ReorderLevelsIn, *, operation: Operation):
    rule = rules.update_reorder_rule(
        rule_id=rule_id,
        reorder_point=body.reorder_point,
        reorder_quantity=body.reorder_quantity,
        enabled=body.enabled,
    )
    return 200, ReorderRuleOut.from_orm(rule)


@router.delete(
    "/reorder-rules/{rule_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Delete a reorder rule",
)
@write_endpoint("api.reorder_rule_delete", payload=_rule_payload)
def delete_reorder_rule(request, rule_id: int, *, operation: Operation):
    rules.delete_reorder_rule(rule_id=rule_id)
    return 204, None

"""The report selectors against numbers worked out by hand on a small, dated data set.

Today is 31 March 2026 for every report here (their ``today`` argument);
days are UTC days. The stock, built with the services:

lot  product  warehouse  cost  received    qty  expires     afterwards
A1   ALPHA    DC1        1.00  2025-12-01  100  2026-04-15  ship 10 on 12-15, 40 on 02-10
A2   ALPHA    DC1        2.00  2026-03-01   50  2026-06-15  ship 20 on 03-20
B1   BRAVO    DC1        0.50  2026-01-15   60  none        ship 30 on 03-10
B2   BRAVO    DC2        1.00  2025-10-01    4  2026-03-01  (expired, approved)
C1   CHARLIE  DC1        2.50  2025-09-01   10  2026-05-20  ship 2 on 03-25, adjust -8 03-29
D1   DELTA    DC2        3.00  2026-03-25    5  2027-01-01  (QC product: quarantined)

On hand now: A1 50, A2 30, B1 30, B2 4, C1 0, D1 5. ECHO is active and never stocked.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import ProgrammingError, connection, connections
from django.utils import timezone

from analytics.dw import refresh_current_stock, take_snapshot
from analytics.models import ReorderRule
from analytics.reports import (
    abc,
    aging,
    demand,
    low_stock,
    stock_history,
    stock_outs,
    turnover,
    valuation,
)
from inventory.catalog.services import create_product
from inventory.core.errors import ProductNotFound, ValidationFailed, WarehouseNotFound
from inventory.models import Balance, Lot, Reservation
from inventory.reservations.allocation import reserve_stock
from inventory.reservations.requests import LineRequest
from inventory.stock.movements import adjust_stock, move_stock, ship_stock
from inventory.stock.receipts import receive_stock
from tests.analytics.conftest import DW_DATABASES
from tests.conftest import bin_of, make_site
from warehouse.tenancy import tenant_context

TODAY = datetime.date(2026, 3, 31)


def at(day: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T10:00:00+00:00")


def build_reports_data(tenant, site) -> dict:
    """The data set of this module's docstring; ``site`` is DC1 (with its receiving bin)."""
    dc2 = make_site(tenant, "DC2")
    dc2_bin = bin_of(tenant, dc2, "A-01")
    dc1_bin = bin_of(tenant, site, "RECEIVING")
    products = {
        sku: create_product(tenant=tenant, sku=sku, name=sku.title(), qc_required=sku == "DELTA")
        for sku in ("ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO")
    }

    def receive(sku, code, warehouse, cost, day, quantity, expires, location=None):
        return receive_stock(
            tenant=tenant,
            product=products[sku],
            warehouse=warehouse,
            location=location,
            lot_code=code,
            quantity=quantity,
            unit_cost=cost,
            expires_on=expires and datetime.date.fromisoformat(expires),
            occurred_at=at(day),
        ).lot

    a1 = receive("ALPHA", "A1", site, "1.00", "2025-12-01", 100, "2026-04-15")
    a2 = receive("ALPHA", "A2", site, "2.00", "2026-03-01", 50, "2026-06-15")
    b1 = receive("BRAVO", "B1", site, "0.50", "2026-01-15", 60, None)
    receive("BRAVO", "B2", dc2, "1.00", "2025-10-01", 4, "2026-03-01", location=dc2_bin)
    c1 = receive("CHARLIE", "C1", site, "2.50", "2025-09-01", 10, "2026-05-20")
    receive("DELTA", "D1", dc2, "3.00", "2026-03-25", 5, "2027-01-01", location=dc2_bin)
    for lot, quantity, day in (
        (a1, 10, "2025-12-15"),
        (a1, 40, "2026-02-10"),
        (a2, 20, "2026-03-20"),
        (b1, 30, "2026-03-10"),
        (c1, 2, "2026-03-25"),
    ):
        ship_stock(tenant=tenant, lot=lot, location=dc1_bin, quantity=quantity, occurred_at=at(day))
    adjust_stock(
        tenant=tenant,
        lot=c1,
        location=dc1_bin,
        quantity_delta=-8,
        reason="damaged",
        occurred_at=at("2026-03-29"),
    )
    return {"products": products, "dc1": site, "dc2": dc2}


@pytest.fixture
def data(tenant, site):
    return build_reports_data(tenant, site)


def test_abc_classes_at_the_exact_boundaries(tenant, data):
    rows = abc(tenant=tenant, days=90, today=TODAY)
    # Window 2026-01-01..03-31: ALPHA 40 x 1.00 + 20 x 2.00 = 80; BRAVO 30 x 0.50 = 15;
    # CHARLIE 2 x 2.50 = 5; total 100. BRAVO's share before it is exactly 0.80: B, not A.
    # CHARLIE's is exactly 0.95: C. DELTA and ECHO shipped nothing: C, by SKU.
    assert [
        (row.sku, row.consumption_value, row.share, row.cumulative_share, row.abc_class)
        for row in rows
    ] == [
        ("ALPHA", Decimal("80.00"), Decimal("0.8000"), Decimal("0.8000"), "A"),
        ("BRAVO", Decimal("15.00"), Decimal("0.1500"), Decimal("0.9500"), "B"),
        ("CHARLIE", Decimal("5.00"), Decimal("0.0500"), Decimal("1.0000"), "C"),
        ("DELTA", Decimal("0.00"), Decimal("0.0000"), Decimal("1.0000"), "C"),
        ("ECHO", Decimal("0.00"), Decimal("0.0000"), Decimal("1.0000"), "C"),
    ]


def test_abc_counts_only_the_window_and_the_warehouse(tenant, data):
    # 2026-03-02..03-31: ALPHA 20 x 2.00 = 40, BRAVO 15, CHARLIE 5; total 60.
    # ALPHA 40/60 = 0.6667 (A); BRAVO before 0.6667 (A); CHARLIE before 55/60 = 0.9167 (B).
    rows = abc(tenant=tenant, days=30, today=TODAY)
    assert [(row.sku, row.consumption_value, row.abc_class) for row in rows[:3]] == [
        ("ALPHA", Decimal("40.00"), "A"),
        ("BRAVO", Decimal("15.00"), "A"),
        ("CHARLIE", Decimal("5.00"), "B"),
    ]
    # Nothing shipped from DC2: every product zero and C, by SKU.
    rows = abc(tenant=tenant, days=90, warehouse="dc2", today=TODAY)
    assert [(row.sku, row.consumption_value, row.abc_class) for row in rows] == [
        ("ALPHA", Decimal("0.00"), "C"),
        ("BRAVO", Decimal("0.00"), "C"),
        ("CHARLIE", Decimal("0.00"), "C"),
        ("DELTA", Decimal("0.00"), "C"),
        ("ECHO", Decimal("0.00"), "C"),
    ]


def test_aging_by_receipt_and_by_expiry(tenant, data):
    report = aging(tenant=tenant, today=TODAY)
    # Ages on 03-31: A2 30 days, D1 6 (0-30: 30 + 5, 60.00 + 15.00); B1 75 (61-90: 30 x 0.50);
    # A1 120 (91-180: 50 x 1.00); B2 181 (over 180: 4 x 1.00). C1 has nothing on hand.
    assert [(b.bucket, b.quantity, b.value) for b in report.by_age] == [
        ("0-30", Decimal("35.000"), Decimal("75.00")),
        ("31-60", Decimal("0.000"), Decimal("0.00")),
        ("61-90", Decimal("30.000"), Decimal("15.00")),
        ("91-180", Decimal("50.000"), Decimal("50.00")),
        ("over 180", Decimal("4.000"), Decimal("4.00")),
    ]
    # Days to expiry: B2 -30 (expired), A1 15, A2 76, D1 276 (later), B1 none.
    assert [(b.bucket, b.quantity, b.value) for b in report.by_expiry] == [
        ("expired", Decimal("4.000"), Decimal("4.00")),
        ("within 30", Decimal("50.000"), Decimal("50.00")),
        ("31-60", Decimal("0.000"), Decimal("0.00")),
        ("61-90", Decimal("30.000"), Decimal("60.00")),
        ("later", Decimal("5.000"), Decimal("15.00")),
        ("no expiry", Decimal("30.000"), Decimal("15.00")),
    ]
    in_dc2 = aging(tenant=tenant, warehouse="DC2", today=TODAY)
    assert [(b.bucket, b.quantity) for b in in_dc2.by_age if b.quantity] == [
        ("0-30", Decimal("5.000")),
        ("over 180", Decimal("4.000")),
    ]


def test_turnover_and_days_of_supply(tenant, data):
    rows = {row.sku: row for row in turnover(tenant=tenant, days=90, today=TODAY)}
    assert set(rows) == {"ALPHA", "BRAVO", "CHARLIE", "DELTA"}
    alpha = rows["ALPHA"]
    # Opening on 01-01: 90. Changes weighted by the days they count in 01-01..03-31:
    # -40 x 50 (02-10..03-31) + 50 x 31 (03-01..) - 20 x 12 (03-20..) = -690.
    # Average 90 - 690 / 90 = 82.333; shipped 60; turnover 60 / 82.333 = 0.73;
    # days of supply 80 on hand / (60 / 90 a day) = 120.0.
    assert (alpha.shipped, alpha.average_on_hand, alpha.on_hand) == (
        Decimal("60.000"),
        Decimal("82.333"),
        Decimal("80.000"),
    )
    assert (alpha.turnover, alpha.days_of_supply) == (Decimal("0.73"), Decimal("120.0"))
    # BRAVO: opening 4; +60 x 76 - 30 x 22 = 3900; average 4 + 43.333 = 47.333;
    # turnover 30 / 47.333 = 0.63; days of supply 34 x 90 / 30 = 102.0.
    assert (rows["BRAVO"].average_on_hand, rows["BRAVO"].turnover) == (
        Decimal("47.333"),
        Decimal("0.63"),
    )
    assert rows["BRAVO"].days_of_supply == Decimal("102.0")
    # CHARLIE: opening 10; -2 x 7 - 8 x 3 = -38; average 9.578; 2 / 9.578 = 0.21; none left.
    assert (rows["CHARLIE"].average_on_hand, rows["CHARLIE"].turnover) == (
        Decimal("9.578"),
        Decimal("0.21"),
    )
    assert rows["CHARLIE"].days_of_supply == Decimal("0.0")
    # DELTA: received 5 on 03-25 (7 days): average 35 / 90 = 0.389; nothing shipped.
    assert rows["DELTA"].average_on_hand == Decimal("0.389")
    assert rows["DELTA"].days_of_supply is None


def test_demand_with_rolling_averages_that_look_back_before_the_range(tenant, data):
    days = demand(tenant=tenant, sku="alpha", days=14, today=TODAY)
    assert [day.day for day in days] == [
        datetime.date(2026, 3, 18) + datetime.timedelta(days=n) for n in range(14)
    ]
    by_day = {day.day.isoformat(): day for day in days}
    assert by_day["2026-03-20"].shipped == Decimal("20.000")
    assert sum(day.shipped for day in days) == Decimal("20.000")
    # 20 shipped on 03-20: in the 7-day average from 03-20 to 03-26 (20 / 7 = 2.857), then 0;
    # in the 28-day average to the end of the range (20 / 28 = 0.714).
    assert by_day["2026-03-19"].average_7 == Decimal("0.000")
    assert by_day["2026-03-26"].average_7 == Decimal("2.857")
    assert by_day["2026-03-27"].average_7 == Decimal("0.000")
    assert by_day["2026-03-31"].average_28 == Decimal("0.714")
    # All products, one day: the averages still cover 7 and 28 days back.
    # 7 days (03-25..31): CHARLIE 2 -> 0.286. 28 days (03-04..31): 20 + 30 + 2 = 52 -> 1.857.
    (last,) = demand(tenant=tenant, days=1, today=TODAY)
    assert (last.shipped, last.average_7, last.average_28) == (
        Decimal("0"),
        Decimal("0.286"),
        Decimal("1.857"),
    )


def test_stock_history_from_the_ledger(tenant, data):
    rows = stock_history(
        tenant=tenant,
        sku="ALPHA",
        since=datetime.date(2026, 2, 9),
        until=datetime.date(2026, 3, 1),
        today=TODAY,
    )
    on_hand = {row.day.isoformat(): row.on_hand for row in rows}
    assert len(rows) == 21
    # 90 until 40 leave on 02-10; 50 of A2 arrive on 03-01.
    assert on_hand["2026-02-09"] == Decimal("90.000")
    assert on_hand["2026-02-10"] == Decimal("50.000")
    assert on_hand["2026-02-28"] == Decimal("50.000")
    assert on_hand["2026-03-01"] == Decimal("100.000")
    default = stock_history(tenant=tenant, sku="BRAVO", warehouse="DC2", today=TODAY)
    assert len(default) == 90 and default[0].day == datetime.date(2026, 1, 1)
    assert {row.on_hand for row in default} == {Decimal("4.000")}


def test_stock_history_ranges_are_held_within_bounds(tenant, data):
    def days(**kwargs):
        rows = stock_history(tenant=tenant, sku="ALPHA", today=TODAY, **kwargs)
        return len(rows), rows and rows[0].day, rows and rows[-1].day

    # A future end is today; a long range keeps its last 731 days; a reversed one has none.
    assert days(until=datetime.date(2030, 1, 1)) == (90, datetime.date(2026, 1, 1), TODAY)
    assert days(since=datetime.date(2020, 1, 1)) == (731, datetime.date(2024, 3, 31), TODAY)
    assert days(since=TODAY, until=TODAY - datetime.timedelta(1)) == (0, [], [])
    assert days(since=datetime.date.min, until=datetime.date.min) == (0, [], [])


def test_valuation_today_and_as_of_a_past_day(tenant, data):
    today = valuation(tenant=tenant, today=TODAY)
    # DC1: A1 50 x 1.00 + A2 30 x 2.00 + B1 30 x 0.50 = 125.00; DC2: D1 5 x 3 + B2 4 x 1 = 19.00.
    assert [(w.warehouse, w.lots, w.quantity, w.value) for w in today.warehouses] == [
        ("DC1", 3, Decimal("110.000"), Decimal("125.00")),
        ("DC2", 2, Decimal("9.000"), Decimal("19.00")),
    ]
    assert (today.total_quantity, today.total_value) == (Decimal("119.000"), Decimal("144.00"))
    past = valuation(tenant=tenant, as_of=datetime.date(2026, 2, 28), today=TODAY)
    # End of 02-28: A1 50 x 1.00, B1 60 x 0.50, C1 10 x 2.50 = 105.00 in DC1; B2 4.00 in DC2.
    # Lots are counted for today only.
    assert [(w.warehouse, w.lots, w.quantity, w.value) for w in past.warehouses] == [
        ("DC1", None, Decimal("120.000"), Decimal("105.00")),
        ("DC2", None, Decimal("4.000"), Decimal("4.00")),
    ]
    assert (past.total_quantity, past.total_value) == (Decimal("124.000"), Decimal("109.00"))
    # Before the first receipt nothing was on hand; a later day than today is today.
    assert valuation(tenant=tenant, as_of=datetime.date(2025, 8, 31), today=TODAY).warehouses == []
    future = valuation(tenant=tenant, as_of=datetime.date.max, today=TODAY)
    assert (future.as_of, future.total_value) == (TODAY, Decimal("144.00"))


def test_valuation_counts_a_lot_in_two_bins_once(tenant, data):
    """A lot split over two bins of a warehouse is one layer; the day before holds the same."""
    dc1 = data["dc1"]
    with tenant_context(tenant.pk):
        a1 = Lot.objects.get(code="A1")
    move_stock(
        tenant=tenant,
        lot=a1,
        from_location=bin_of(tenant, dc1, "RECEIVING"),
        to_location=bin_of(tenant, dc1, "A-01"),
        quantity=20,
        occurred_at=at("2026-03-30"),
    )
    with tenant_context(tenant.pk):
        assert Balance.objects.filter(lot=a1, on_hand__gt=0).count() == 2
    for as_of, lots in ((TODAY, (3, 2)), (TODAY - datetime.timedelta(days=1), (None, None))):
        report = valuation(tenant=tenant, as_of=as_of, today=TODAY)
        assert [(w.warehouse, w.lots, w.quantity, w.value) for w in report.warehouses] == [
            ("DC1", lots[0], Decimal("110.000"), Decimal("125.00")),
            ("DC2", lots[1], Decimal("9.000"), Decimal("19.00")),
        ]


# The snapshotted days of the stock-outs test: 03-20 to 03-30 but 03-27.
SNAPSHOT_DAYS = [datetime.date(2026, 3, day) for day in range(20, 31) if day != 27]


def take_the_snapshots() -> None:
    """The snapshots of ``SNAPSHOT_DAYS`` (committed data only) and a fresh current-stock view."""
    for day in SNAPSHOT_DAYS:
        take_snapshot(day)
    refresh_current_stock()


def stock_out_days(day: datetime.date) -> list[tuple]:
    """Every tenant's ``dw.stock_out_day`` rows of ``day`` (read across tenants)."""
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(
            "SELECT tenant_id, product_id, warehouse_id FROM dw.stock_out_day WHERE day = %s"
            " ORDER BY 1, 2, 3 NULLS FIRST",
            [day],
        )
        return cursor.fetchall()


def outs(tenant, **filters) -> list[tuple]:
    rows = stock_outs(tenant=tenant, days=30, today=TODAY, **filters)
    return [(r.sku, r.days_at_zero, r.days_counted, r.out_of_stock) for r in rows]


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_stock_outs_count_the_days_at_zero(clean_dw, tenant, site):
    data = build_reports_data(tenant, site)
    take_the_snapshots()
    # The window is 03-02..03-31: 03-02..03-30 from the snapshots, of which only the ten
    # of SNAPSHOT_DAYS are counted; 03-31 from the view, which is the stock now. The data
    # set is in the past: now A1 (04-15) and A2 (06-15) have expired, so ALPHA's available
    # is zero today, though never on a snapshotted day (50 + 30 from 03-20).
    assert timezone.localdate() > datetime.date(2026, 6, 15)
    # DELTA's only lot is quarantined: on hand 5, available zero from its receipt on 03-25:
    # 03-25, 03-26, 03-28, 03-29, 03-30 (03-27 has no snapshot) and today; counted the same.
    # CHARLIE: 10, then 8 on 03-25, then 0 from 03-29: 03-29, 03-30 and today, of the ten
    # snapshotted days and today (received 2025-09-01). BRAVO: B1's 30 in DC1 all along.
    assert outs(tenant) == [
        ("DELTA", 6, 6, True),
        ("CHARLIE", 3, 11, True),
        ("ALPHA", 1, 11, True),
    ]
    # In DC2: B2 (4) expired on 03-01, so BRAVO has zero available there every day (on
    # hand 4); its lot there was received 2025-10-01. DELTA as above.
    assert outs(tenant, warehouse="DC2") == [("BRAVO", 11, 11, True), ("DELTA", 6, 6, True)]
    assert outs(tenant, warehouse="DC1") == [("CHARLIE", 3, 11, True), ("ALPHA", 1, 11, True)]

    # A day taken later counts from then on: 03-27 adds a day at zero to DELTA.
    take_snapshot(datetime.date(2026, 3, 27))
    assert outs(tenant)[0] == ("DELTA", 7, 7, True)

    # Reserved to zero: holding B1's 30 leaves BRAVO no available stock, today (the view)
    # and in a snapshot of the real today, though its 34 are still on hand.
    reserve_stock(
        tenant=tenant, warehouse=data["dc1"], lines=[LineRequest(data["products"]["BRAVO"], 30)]
    )
    refresh_current_stock()
    assert ("BRAVO", 1, 12, True) in outs(tenant)
    take_snapshot(timezone.localdate())
    bravo = data["products"]["BRAVO"].pk
    assert {
        warehouse
        for tenant_id, product, warehouse in stock_out_days(timezone.localdate())
        if product == bravo
    } == {None, data["dc1"].pk, data["dc2"].pk}

    # Retaking a day writes the same rows: DELTA in DC2 and overall, CHARLIE in DC1 and overall.
    before = stock_out_days(datetime.date(2026, 3, 29))
    take_snapshot(datetime.date(2026, 3, 29))
    assert stock_out_days(datetime.date(2026, 3, 29)) == before
    products = data["products"]
    assert sorted(before, key=str) == sorted(
        [
            (tenant.pk, products["CHARLIE"].pk, None),
            (tenant.pk, products["CHARLIE"].pk, data["dc1"].pk),
            (tenant.pk, products["DELTA"].pk, None),
            (tenant.pk, products["DELTA"].pk, data["dc2"].pk),
            (tenant.pk, products["BRAVO"].pk, data["dc2"].pk),
        ],
        key=str,
    )


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_stock_out_days_are_the_tenants_own_and_read_only(clean_dw, tenant, other_tenant, site):
    build_reports_data(tenant, site)
    take_snapshot(datetime.date(2026, 3, 30))
    refresh_current_stock()
    assert stock_outs(tenant=other_tenant, days=30, today=TODAY) == []
    for table in ("dw.stock_out_day", "dw.stock_snapshot_day"):
        with connection.cursor() as cursor:
            with tenant_context(other_tenant.pk):
                cursor.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s", [tenant.pk])
                assert cursor.fetchone()[0] == 0
            with tenant_context(tenant.pk):
                cursor.execute(f"SELECT count(*) FROM {table}")
                assert cursor.fetchone()[0] > 0
            # Without a tenant context nothing is seen.
            cursor.execute(f"SELECT count(*) FROM {table}")
            assert cursor.fetchone()[0] == 0
            # The runtime role reads, never writes, even its own tenant's rows.
            for write in (
                f"DELETE FROM {table}",
                f"INSERT INTO {table} (tenant_id, day) VALUES ({tenant.pk}, DATE '2026-03-01')",
            ):
                with (
                    pytest.raises(ProgrammingError, match="permission denied"),
                    tenant_context(tenant.pk),
                ):
                    cursor.execute(write)


def test_low_stock_against_enabled_rules(tenant, data):
    products, dc1, dc2 = data["products"], data["dc1"], data["dc2"]
    with tenant_context(tenant.pk):
        for sku, warehouse, point, quantity, enabled in (
            ("ALPHA", dc1, 100, 200, True),
            ("BRAVO", dc1, 10, 50, True),
            ("BRAVO", dc2, 2, 8, True),
            ("DELTA", dc2, 1, 10, True),
            ("CHARLIE", dc2, 5, 5, False),
        ):
            ReorderRule.objects.create(
                tenant=tenant,
                product=products[sku],
                warehouse=warehouse,
                reorder_point=point,
                reorder_quantity=quantity,
                enabled=enabled,
            )
    rows = low_stock(tenant=tenant, today=TODAY)
    # ALPHA in DC1: 50 + 30 available < 100, short 20. BRAVO in DC1: 30 >= 10, not listed.
    # BRAVO in DC2: B2 expired, 0 available < 2. DELTA: quarantined, 0 < 1. CHARLIE: disabled.
    assert [(r.sku, r.warehouse, r.available, r.shortfall, r.reorder_quantity) for r in rows] == [
        ("ALPHA", "DC1", Decimal("80.000"), Decimal("20.000"), Decimal("200.000")),
        ("BRAVO", "DC2", Decimal("0"), Decimal("2.000"), Decimal("8.000")),
        ("DELTA", "DC2", Decimal("0"), Decimal("1.000"), Decimal("10.000")),
    ]
    assert [r.sku for r in low_stock(tenant=tenant, warehouse="DC1", today=TODAY)] == ["ALPHA"]


def test_low_stock_available_is_the_stock_functions_own(tenant, data):
    """Available as ``inventory_stock_rows`` says, pair by pair: an expired lot (B2), a
    quarantined one (D1), a live reservation (held) and an overdue one (free again)."""
    products, dc1, dc2 = data["products"], data["dc1"], data["dc2"]
    foxtrot = create_product(tenant=tenant, sku="FOXTROT", name="Foxtrot")
    receive_stock(
        tenant=tenant, product=foxtrot, warehouse=dc1, lot_code="F1", quantity=10,
        unit_cost="1.00", occurred_at=at("2026-03-01"),
    )  # fmt: skip
    receive_stock(
        tenant=tenant, product=foxtrot, warehouse=dc2, lot_code="F2", quantity=6,
        unit_cost="1.00", occurred_at=at("2026-03-01"), location=bin_of(tenant, dc2, "A-01"),
    )  # fmt: skip
    lines = [LineRequest(product=foxtrot, quantity=4)]
    overdue = reserve_stock(tenant=tenant, warehouse=dc1, lines=lines, ttl_seconds=60)
    reserve_stock(tenant=tenant, warehouse=dc1, lines=[LineRequest(product=foxtrot, quantity=3)])
    reserve_stock(tenant=tenant, warehouse=dc2, lines=[LineRequest(product=foxtrot, quantity=2)])
    with tenant_context(tenant.pk):
        Reservation.objects.filter(pk=overdue.reservation.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
        # Every product in every warehouse, with a reorder point nothing reaches: all listed.
        for product in [*products.values(), foxtrot]:
            for warehouse in (dc1, dc2):
                ReorderRule.objects.create(
                    tenant=tenant, product=product, warehouse=warehouse,
                    reorder_point=1000, reorder_quantity=1,
                )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT product.sku, warehouse.code, stock.available"
                "  FROM inventory_stock_rows(NULL, NULL, %s, %s) AS stock"
                "  JOIN inventory_product AS product ON product.id = stock.product_id"
                "  JOIN warehouse_warehouse AS warehouse ON warehouse.id = stock.warehouse_id",
                [TODAY, timezone.now()],
            )
            expected = {(sku, code): available for sku, code, available in cursor.fetchall()}
    rows = low_stock(tenant=tenant, today=TODAY)
    assert len(rows) == 12
    assert {(r.sku, r.warehouse): r.available for r in rows} == {
        (sku, code): expected.get((sku, code), Decimal(0))
        for sku in [*products, "FOXTROT"]
        for code in ("DC1", "DC2")
    }
    # By hand: F1 10 on hand, 7 reserved of which 4 overdue: 7; F2 6 less 2: 4; B2 expired: 0;
    # D1 quarantined: 0; ALPHA 50 + 30.
    available = {(r.sku, r.warehouse): r.available for r in rows}
    assert available[("FOXTROT", "DC1")] == Decimal(7)
    assert available[("FOXTROT", "DC2")] == Decimal(4)
    assert available[("BRAVO", "DC2")] == available[("DELTA", "DC2")] == Decimal(0)
    assert available[("ALPHA", "DC1")] == Decimal(80)


def test_every_report_of_another_tenant_is_empty(tenant, other_tenant, data):
    assert abc(tenant=other_tenant, days=90, today=TODAY) == []
    assert turnover(tenant=other_tenant, days=90, today=TODAY) == []
    assert stock_outs(tenant=other_tenant, days=30, today=TODAY) == []
    assert low_stock(tenant=other_tenant, today=TODAY) == []
    assert valuation(tenant=other_tenant, today=TODAY).warehouses == []
    assert all(not b.quantity for b in aging(tenant=other_tenant, today=TODAY).by_age)
    assert {day.shipped for day in demand(tenant=other_tenant, days=30, today=TODAY)} == {0}
    # Acme's SKU and warehouse do not exist for Globex.
    with pytest.raises(ProductNotFound):
        stock_history(tenant=other_tenant, sku="ALPHA", today=TODAY)
    with pytest.raises(WarehouseNotFound):
        abc(tenant=other_tenant, warehouse="DC1", today=TODAY)


@pytest.mark.parametrize(
    "call",
    [
        lambda tenant: abc(tenant=tenant, days=0),
        lambda tenant: abc(tenant=tenant, days=3661),
        lambda tenant: demand(tenant=tenant, days=732),
        lambda tenant: stock_outs(tenant=tenant, days=732),
    ],
)
def test_out_of_range_arguments_are_refused(tenant, call):
    with pytest.raises(ValidationFailed):
        call(tenant)

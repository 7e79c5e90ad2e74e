"""The monthly roll-up of the ledger: same report numbers rolled or not, dirty marks, isolation.

The data set is the report selectors' (``build_reports_data``: September 2025
to March 2026, every month long closed), so their hand-worked expectations
hold here too, read partly from ``dw.ledger_month``.
"""

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from analytics.dw import refresh_current_stock, roll_ledger_months
from analytics.dw.rollup import MARGIN, last_closed_month, month_of, roll_month
from analytics.models import ReorderRule
from analytics.reports import abc, demand, turnover, valuation
from analytics.reports.connection import day_start
from analytics.reports.rolled import ROLLED_CLEAN, window_parts
from analytics.web.dashboard_cards import ABC_DAYS, a_items_below_reorder_point
from inventory.catalog.services import create_warehouse
from inventory.ledger.partitions import PARENT, ensure_ledger_partitions
from inventory.models import Lot
from inventory.stock.movements import ship_stock
from inventory.stock.receipts import receive_stock
from tests.analytics import test_reports_selectors as selectors
from tests.analytics.conftest import DW_DATABASES
from tests.conftest import bin_of
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True, databases=DW_DATABASES)

TODAY = selectors.TODAY
FEBRUARY = datetime.date(2026, 2, 1)


@pytest.fixture
def clean_rollup(transactional_db):
    """The roll-up tables empty before and after (the flush between tests leaves ``dw``)."""

    def empty():
        with connections["maintenance"].cursor() as cursor:
            cursor.execute("DELETE FROM dw.ledger_month")
            cursor.execute("DELETE FROM dw.ledger_day")
            cursor.execute("DELETE FROM dw.ledger_month_product")
            cursor.execute("DELETE FROM dw.ledger_month_rolled")
            cursor.execute("DELETE FROM dw.ledger_month_dirty")

    empty()
    yield
    empty()


@pytest.fixture
def data(clean_rollup, tenant, site):
    return selectors.build_reports_data(tenant, site)


def marks(tenant) -> list[tuple[int, datetime.date]]:
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(
            "SELECT id, month FROM dw.ledger_month_dirty WHERE tenant_id = %s ORDER BY id",
            [tenant.id],
        )
        return cursor.fetchall()


def rolled_months(tenant) -> list[datetime.date]:
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(
            "SELECT month FROM dw.ledger_month_rolled WHERE tenant_id = %s ORDER BY month",
            [tenant.id],
        )
        return [row[0] for row in cursor.fetchall()]


def every_report(tenant) -> dict:
    """ABC, turnover, demand and valuation as of past days over many windows, both warehouses."""
    results = {}
    for days in (1, 30, 45, 59, 90, 107, 120, 151, 200, 400):
        for warehouse in (None, "DC1", "DC2"):
            results["abc", days, warehouse] = abc(
                tenant=tenant, days=days, warehouse=warehouse, today=TODAY
            )
            results["turnover", days, warehouse] = turnover(
                tenant=tenant, days=days, warehouse=warehouse, today=TODAY
            )
            results["demand", days, warehouse] = demand(
                tenant=tenant, days=days, warehouse=warehouse, today=TODAY
            )
    # Days early in their month (read from the month's start), late, and last.
    for as_of in (
        "2025-08-31",
        "2025-10-31",
        "2025-11-03",
        "2025-12-14",
        "2026-01-31",
        "2026-02-20",
        "2026-02-28",
        "2026-03-02",
    ):
        day = datetime.date.fromisoformat(as_of)
        results["valuation", as_of] = valuation(tenant=tenant, as_of=day, today=TODAY)
    # Today's report date is the real today: as of days before it reads every month since.
    for back in (0, 40, 100, 250):
        day = timezone.localdate() - datetime.timedelta(days=back)
        results["valuation now", back] = valuation(tenant=tenant, as_of=day)
    return results


def test_rolled_months_give_the_same_numbers_as_the_ledger(tenant, data):
    raw = every_report(tenant)
    summary = roll_ledger_months()
    # September 2025 (the first receipt) to the month of the watermark, each once.
    assert rolled_months(tenant)[0] == datetime.date(2025, 9, 1)
    assert rolled_months(tenant)[-1] == month_of(summary.watermark)
    assert summary.months >= len(rolled_months(tenant))
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM dw.ledger_month WHERE tenant_id = %s AND month = %s",
            [tenant.id, datetime.date(2026, 3, 1)],
        )
        # March: A2 received and shipped, B1 and C1 shipped, C1 adjusted, D1 received.
        assert cursor.fetchone()[0] == 4
    assert every_report(tenant) == raw


def test_the_roll_keeps_shipped_value_per_lot_and_shipped_quantity_per_day(tenant, data):
    roll_ledger_months()
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(
            "SELECT lot.code, month.shipped, month.shipped_value FROM dw.ledger_month AS month "
            "JOIN inventory_lot AS lot ON lot.id = month.lot_id "
            "WHERE month.tenant_id = %s AND month.month = %s ORDER BY lot.code",
            [tenant.id, datetime.date(2026, 3, 1)],
        )
        # March: 20 of A2 at 2.00, 30 of B1 at 0.50, 2 of C1 at 2.50; D1 only received.
        assert cursor.fetchall() == [
            ("A2", Decimal("20.000"), Decimal("40.00000")),
            ("B1", Decimal("30.000"), Decimal("15.00000")),
            ("C1", Decimal("2.000"), Decimal("5.00000")),
            ("D1", None, None),
        ]
        cursor.execute(
            "SELECT day, warehouse_id, on_hand_change, value_change, shipped FROM dw.ledger_day "
            "WHERE tenant_id = %s AND month = %s ORDER BY day, warehouse_id",
            [tenant.id, datetime.date(2026, 3, 1)],
        )
        dc1, dc2 = data["dc1"].id, data["dc2"].id
        # March: A2 50 received at 2.00 (1st), B1 30 shipped at 0.50 (10th), A2 20 shipped
        # (20th), D1 5 received at 3.00 in DC2 and C1 2 shipped at 2.50 (25th), C1 8 adjusted
        # away (29th).
        assert [
            (day.day, warehouse, change, value, shipped)
            for day, warehouse, change, value, shipped in cursor.fetchall()
        ] == [
            (1, dc1, Decimal("50.000"), Decimal("100.00000"), None),
            (10, dc1, Decimal("-30.000"), Decimal("-15.00000"), Decimal("30.000")),
            (20, dc1, Decimal("-20.000"), Decimal("-40.00000"), Decimal("20.000")),
            (25, dc1, Decimal("-2.000"), Decimal("-5.00000"), Decimal("2.000")),
            (25, dc2, Decimal("5.000"), Decimal("15.00000"), None),
            (29, dc1, Decimal("-8.000"), Decimal("-20.00000"), None),
        ]


def test_a_lots_unit_cost_is_fixed_once_received(tenant, data):
    """Rolled months keep shipped value at the lot's cost: the cost cannot change behind them."""
    with tenant_context(tenant.id):
        with pytest.raises(DatabaseError, match="fixed at its receipt"), transaction.atomic():
            Lot.objects.filter(code="A1").update(unit_cost=Decimal("9.99"))
        # Anything else of a lot still changes (QC decisions update its status).
        assert Lot.objects.filter(code="A1").update(qc_note="checked") == 1
        assert Lot.objects.get(code="A1").unit_cost == Decimal("1.00")


def rule_everywhere(tenant, data, point=1000):
    """A rule for every product in every warehouse with a point nothing reaches: all low."""
    with tenant_context(tenant.pk):
        for product in data["products"].values():
            for site in (data["dc1"], data["dc2"]):
                ReorderRule.objects.create(
                    tenant=tenant,
                    product=product,
                    warehouse=site,
                    reorder_point=point,
                    reorder_quantity=1,
                )


@pytest.mark.parametrize("rolled", [False, True], ids=["ledger", "rolled"])
def test_the_dashboards_a_items_are_the_abc_reports_a_products_that_are_low(tenant, data, rolled):
    """Over 90 days ALPHA alone is A: BRAVO's share before it is exactly 80 % (B)."""
    rule_everywhere(tenant, data)
    refresh_current_stock()
    if rolled:
        roll_ledger_months()
    report = abc(tenant=tenant, days=ABC_DAYS, today=TODAY)
    assert [row.sku for row in report if row.abc_class == "A"] == ["ALPHA"]
    # Every rule is low (nothing reaches 1,000): the A-items are the A products.
    items = a_items_below_reorder_point(tenant=tenant, today=TODAY)
    assert (items.count, items.skus) == (1, ["ALPHA"])
    # Over the 90 days to 30 January BRAVO's B1 was not yet received: ALPHA (10 of A1 on
    # 12-15) is the only product that shipped, and A.
    earlier = TODAY - datetime.timedelta(days=60)
    assert a_items_below_reorder_point(tenant=tenant, today=earlier).skus == ["ALPHA"]
    # A disabled rule is not low: with ALPHA's rules off, no A-item is.
    with tenant_context(tenant.pk):
        ReorderRule.objects.filter(product__sku="ALPHA").update(enabled=False)
    assert a_items_below_reorder_point(tenant=tenant, today=TODAY).count == 0


@pytest.mark.parametrize(
    "check",
    [
        selectors.test_abc_classes_at_the_exact_boundaries,
        selectors.test_abc_counts_only_the_window_and_the_warehouse,
        selectors.test_turnover_and_days_of_supply,
        selectors.test_valuation_today_and_as_of_a_past_day,
        selectors.test_demand_with_rolling_averages_that_look_back_before_the_range,
    ],
    ids=lambda check: check.__name__,
)
@pytest.mark.parametrize("rolled", [False, True], ids=["ledger", "rolled"])
def test_the_hand_worked_numbers_hold_rolled_or_not(tenant, data, check, rolled):
    if rolled:
        roll_ledger_months()
        assert datetime.date(2026, 1, 1) in rolled_months(tenant)
    check(tenant, data)


def test_a_back_dated_entry_shows_at_once_and_after_the_reroll(tenant, data):
    roll_ledger_months()
    before = abc(tenant=tenant, days=90, today=TODAY)
    assert {row.sku: row.consumption_value for row in before}["BRAVO"] == Decimal("15.00")
    with tenant_context(tenant.id):
        lot = Lot.objects.get(code="B1")
    # 5 of B1 (0.50 each) shipped on 5 February, into a rolled month.
    ship_stock(
        tenant=tenant,
        lot=lot,
        location=bin_of(tenant, data["dc1"], "RECEIVING"),
        quantity=5,
        occurred_at=selectors.at("2026-02-05"),
    )
    assert [month for _, month in marks(tenant)] == [FEBRUARY]

    def numbers():
        values = {
            row.sku: row.consumption_value for row in abc(tenant=tenant, days=90, today=TODAY)
        }
        bravo = {row.sku: row for row in turnover(tenant=tenant, days=90, today=TODAY)}["BRAVO"]
        past = valuation(tenant=tenant, as_of=datetime.date(2026, 1, 31), today=TODAY)
        return values["BRAVO"], bravo.shipped, past.total_quantity

    # At once: February is read from the ledger while its mark stands. BRAVO 15 + 2.50;
    # shipped 30 + 5; at the end of January still A1 90, B1 60, C1 10, B2 4 (the stale
    # February rows would take the 5 shipped since off the balance twice: 159).
    expected = (Decimal("17.50"), Decimal("35.000"), Decimal("164.000"))
    assert numbers() == expected
    summary = roll_ledger_months()
    # February for its mark, and the month of the watermark, rolled further at each run.
    assert summary.rolled == [(tenant.id, FEBRUARY), (tenant.id, month_of(summary.watermark))]
    assert summary.marks_cleared == 1
    assert marks(tenant) == []
    assert numbers() == expected


def test_a_mark_committed_during_a_reroll_survives_it(tenant, data):
    roll_ledger_months()
    with tenant_context(tenant.id):
        lot = Lot.objects.get(code="B1")
    location = bin_of(tenant, data["dc1"], "RECEIVING")

    def ship_on_february(day, quantity):
        ship_stock(
            tenant=tenant,
            lot=lot,
            location=location,
            quantity=quantity,
            occurred_at=selectors.at(day),
        )

    ship_on_february("2026-02-05", 5)
    [(first_mark, _)] = marks(tenant)
    # A maintenance session deletes the first mark and holds its transaction open:
    # the re-roll, having read the mark and recomputed February, waits at its own delete.
    holding, release, failures = threading.Event(), threading.Event(), []

    def hold_the_mark():
        connection = connections["maintenance"]
        try:
            with connection.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("DELETE FROM dw.ledger_month_dirty WHERE id = %s", [first_mark])
                holding.set()
                release.wait(30)
                cursor.execute("ROLLBACK")
        finally:
            connection.close()

    def reroll():
        try:
            roll_month(tenant.id, FEBRUARY)
        except Exception as error:  # reported by the test thread
            failures.append(error)
        finally:
            connections["maintenance"].close()

    holder = threading.Thread(target=hold_the_mark)
    holder.start()
    assert holding.wait(30)
    roller = threading.Thread(target=reroll)
    roller.start()
    try:
        deadline = time.monotonic() + 30
        while not waiting_to_clear_marks():
            assert time.monotonic() < deadline, "the re-roll never reached its delete"
            time.sleep(0.05)
        # Committed now: after the re-roll recomputed February, before it clears marks.
        ship_on_february("2026-02-06", 3)
    finally:
        release.set()
        holder.join(30)
        roller.join(30)
    assert failures == []
    [(second_mark, month)] = marks(tenant)
    assert (second_mark > first_mark, month) == (True, FEBRUARY)
    # The re-rolled rows miss the second shipment; the mark keeps February read raw.
    bravo = {row.sku: row for row in turnover(tenant=tenant, days=90, today=TODAY)}["BRAVO"]
    assert bravo.shipped == Decimal("38.000")
    roll_ledger_months()
    assert marks(tenant) == []
    bravo = {row.sku: row for row in turnover(tenant=tenant, days=90, today=TODAY)}["BRAVO"]
    assert bravo.shipped == Decimal("38.000")


def waiting_to_clear_marks() -> bool:
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE 'DELETE FROM dw.ledger_month_dirty WHERE id = ANY%%'"
        )
        return cursor.fetchone()[0] == 1


def test_only_entries_dated_behind_the_margin_leave_a_mark(clean_rollup, tenant, site, flour):
    receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="NOW", quantity=3)
    # Dated a minute inside the margin: no mark, whatever the month.
    recent = timezone.now() - MARGIN + datetime.timedelta(minutes=1)
    receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        lot_code="RECENT",
        quantity=2,
        occurred_at=recent,
    )
    assert marks(tenant) == []
    # Dated just behind it, even in the current month: its month is marked.
    late = timezone.now() - MARGIN - datetime.timedelta(seconds=1)
    receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        lot_code="LATE",
        quantity=1,
        occurred_at=late,
    )
    assert [month for _, month in marks(tenant)] == [month_of(late)]


def test_one_transaction_marks_a_month_once(clean_rollup, tenant, site, flour):
    with tenant_context(tenant.id):
        for code in ("X1", "X2", "X3"):
            receive_stock(
                tenant=tenant,
                product=flour,
                warehouse=site,
                lot_code=code,
                quantity=1,
                occurred_at=selectors.at("2026-01-10"),
            )
    assert [month for _, month in marks(tenant)] == [datetime.date(2026, 1, 1)]


def test_every_ledger_partition_has_the_trigger_new_ones_too(clean_rollup):
    ensure_ledger_partitions(today=datetime.date(2031, 6, 15), months_back=0, months_ahead=1)
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            """
            SELECT child.relname, count(trigger.oid)
              FROM pg_inherits
              JOIN pg_class child ON child.oid = pg_inherits.inhrelid
              LEFT JOIN pg_trigger trigger
                ON trigger.tgrelid = child.oid AND trigger.tgname = 'ledger_month_dirty'
             WHERE pg_inherits.inhparent = %s::regclass
             GROUP BY child.relname
            """,
            [PARENT],
        )
        partitions = dict(cursor.fetchall())
        for name in (f"{PARENT}_y2031m06", f"{PARENT}_y2031m07"):
            cursor.execute(f'DROP TABLE "{name}"')
    assert partitions[f"{PARENT}_y2031m06"] == 1
    assert set(partitions.values()) == {1}


def test_only_a_closed_month_is_rolled_on_demand(tenant, data):
    this_month = timezone.localdate().replace(day=1)
    # Its end must lie more than a day back.
    noon = datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC)
    assert last_closed_month(noon) == datetime.date(2026, 10, 1)
    assert last_closed_month(noon + datetime.timedelta(days=1)) == datetime.date(2026, 11, 1)
    with pytest.raises(ValueError, match="not closed"):
        roll_ledger_months(month=this_month)
    with pytest.raises(CommandError, match="not closed"):
        call_command("dw_rollup", "--month", f"{this_month:%Y-%m}")


def test_the_app_role_reads_only_its_tenant_rows_and_writes_none(tenant, other_tenant, data):
    receive_stock(
        tenant=other_tenant,
        product=selectors.create_product(tenant=other_tenant, sku="OTHER", name="Other"),
        warehouse=create_warehouse(tenant=other_tenant, code="G1", name="Globex DC"),
        lot_code="O1",
        quantity=7,
        occurred_at=selectors.at("2026-02-02"),
    )
    roll_ledger_months()
    for table in ("dw.ledger_month", "dw.ledger_month_product", "dw.ledger_day"):
        counts = {}
        for who in (tenant, other_tenant, None):
            with tenant_context(who and who.id), connections["default"].cursor() as cursor:
                cursor.execute(
                    f"SELECT count(DISTINCT tenant_id), count(*) FROM {table} WHERE month = %s",
                    [FEBRUARY],
                )
                counts[who and who.slug] = cursor.fetchone()
        # February: A1's shipment for the tenant; O1's receipt for the other one.
        assert counts == {tenant.slug: (1, 1), other_tenant.slug: (1, 1), None: (0, 0)}, table
    for statement in (
        "DELETE FROM dw.ledger_month",
        "DELETE FROM dw.ledger_month_product",
        "DELETE FROM dw.ledger_day",
        "INSERT INTO dw.ledger_month_rolled VALUES (%(tenant)s, '2020-01-01', now())",
        "DELETE FROM dw.ledger_month_dirty",
        "UPDATE dw.settings SET time_zone = 'UTC'",
    ):
        with (
            pytest.raises(DatabaseError, match="permission denied"),
            tenant_context(tenant.id),
            connections["default"].cursor() as cursor,
        ):
            cursor.execute(statement, {"tenant": tenant.id})
    with (
        pytest.raises(DatabaseError, match="permission denied"),
        tenant_context(tenant.id),
        connections["default"].cursor() as cursor,
    ):
        cursor.execute("SELECT dw.mark_month_dirty()")


def test_the_command_rolls_what_is_due_and_a_month_again(tenant, data, capsys):
    call_command("dw_rollup")
    first = capsys.readouterr().out
    assert first.startswith("rolled ")
    assert FEBRUARY in rolled_months(tenant)
    call_command("dw_rollup")
    # Only the month of the watermark, rolled a little further.
    assert capsys.readouterr().out.startswith("rolled 1 months")
    call_command("dw_rollup", "--month", "2026-02")
    assert capsys.readouterr().out.startswith("rolled ")
    for bad in ("2026-13", "Feb", "1999-12", "x" * 500):
        with pytest.raises(CommandError, match="--month"):
            call_command("dw_rollup", "--month", bad)


def test_a_changed_time_zone_rolls_every_month_again(tenant, data, settings):
    roll_ledger_months()
    raw = every_report(tenant)
    settings.TIME_ZONE = "America/New_York"
    try:
        # Until the roll follows the new zone, the reports read the ledger.
        summary = roll_ledger_months()
        assert summary.time_zone_reset
        assert datetime.date(2025, 9, 1) in rolled_months(tenant)
    finally:
        settings.TIME_ZONE = "UTC"
    assert roll_ledger_months().time_zone_reset
    assert every_report(tenant) == raw


# The current month, rolled up to a watermark. Times count back from now, so
# near the start of a month some fall in the previous one: still a month rolled
# up to the watermark, the same checks hold.


def current_reports(tenant) -> dict:
    """ABC, turnover, demand and valuation as of past days over windows ending today."""
    results = {}
    for days in (1, 2, 30, 90):
        results["abc", days] = abc(tenant=tenant, days=days)
        results["turnover", days] = turnover(tenant=tenant, days=days)
        results["demand", days] = demand(tenant=tenant, days=days)
    for back in (1, 2, 40):
        results["valuation", back] = valuation(
            tenant=tenant, as_of=timezone.localdate() - datetime.timedelta(days=back)
        )
    return results


def drop_rollup() -> None:
    with connections["maintenance"].cursor() as cursor:
        cursor.execute("DELETE FROM dw.ledger_month")
        cursor.execute("DELETE FROM dw.ledger_day")
        cursor.execute("DELETE FROM dw.ledger_month_product")
        cursor.execute("DELETE FROM dw.ledger_month_rolled")


def rolled_quantity(tenant, lot) -> Decimal:
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(on_hand_change), 0) FROM dw.ledger_month "
            "WHERE tenant_id = %s AND lot_id = %s",
            [tenant.id, lot.id],
        )
        return cursor.fetchone()[0]


@pytest.fixture
def recent(clean_rollup, tenant, site, flour):
    """Receipts and shipments of flour over the last day, the last one an hour back and after."""
    now = timezone.now()
    location = bin_of(tenant, site, "RECEIVING")
    lots = {}
    for code, hours, quantity in (("R1", 30, 40), ("R2", 3, 20), ("R3", 0.5, 10)):
        lots[code] = receive_stock(
            tenant=tenant,
            product=flour,
            warehouse=site,
            lot_code=code,
            quantity=quantity,
            unit_cost="2.50",
            occurred_at=now - datetime.timedelta(hours=hours),
        ).lot
    for code, hours, quantity in (("R1", 20, 5), ("R1", 2, 3), ("R2", 0.25, 4)):
        ship_stock(
            tenant=tenant,
            lot=lots[code],
            location=location,
            quantity=quantity,
            occurred_at=now - datetime.timedelta(hours=hours),
        )
    ship_stock(tenant=tenant, lot=lots["R3"], location=location, quantity=1)
    return {"lots": lots, "location": location}


def test_the_current_month_rolled_to_a_watermark_gives_the_ledger_numbers(tenant, recent):
    raw = current_reports(tenant)
    summary = roll_ledger_months()
    this_month = month_of(summary.watermark)
    assert this_month in rolled_months(tenant)
    # The back-dated entries' marks were read by the roll; the month is clean.
    assert marks(tenant) == []
    # R1 (30 and 20 hours back, and 2): before the watermark, in the roll-up;
    # R3 (half an hour back and now): after it, read from the ledger.
    lots = recent["lots"]
    assert rolled_quantity(tenant, lots["R1"]) == Decimal("32")
    assert rolled_quantity(tenant, lots["R3"]) == 0
    rolled = current_reports(tenant)
    assert rolled == raw
    # 5 + 3 + 4 + 1 shipped at 2.50.
    assert {row.sku: row.consumption_value for row in rolled["abc", 2]}["FLOUR-25"] == Decimal(
        "32.50"
    )


def test_an_entry_after_the_watermark_shows_at_once(tenant, recent):
    roll_ledger_months()
    before = {row.sku: row.consumption_value for row in abc(tenant=tenant, days=2)}
    ship_stock(tenant=tenant, lot=recent["lots"]["R2"], location=recent["location"], quantity=2)
    assert marks(tenant) == []
    after = current_reports(tenant)
    assert {row.sku: row.consumption_value for row in after["abc", 2]}["FLOUR-25"] == (
        before["FLOUR-25"] + Decimal("5.00")
    )
    drop_rollup()
    assert current_reports(tenant) == after


def test_an_entry_behind_the_watermark_marks_its_month_and_shows_at_once(tenant, recent):
    summary = roll_ledger_months()
    before = {row.sku: row.consumption_value for row in abc(tenant=tenant, days=2)}
    back = summary.watermark - datetime.timedelta(minutes=10)
    ship_stock(
        tenant=tenant,
        lot=recent["lots"]["R1"],
        location=recent["location"],
        quantity=6,
        occurred_at=back,
    )
    assert [month for _, month in marks(tenant)] == [month_of(back)]
    after = current_reports(tenant)
    assert {row.sku: row.consumption_value for row in after["abc", 2]}["FLOUR-25"] == (
        before["FLOUR-25"] + Decimal("15.00")
    )
    roll_ledger_months()
    assert marks(tenant) == []
    assert rolled_quantity(tenant, recent["lots"]["R1"]) == Decimal("26")
    assert current_reports(tenant) == after
    drop_rollup()
    assert current_reports(tenant) == after


def test_an_entry_in_flight_when_the_roll_starts_is_in_its_numbers(tenant, recent, site, flour):
    # Dated a moment inside the margin: no mark, and before the watermark of a
    # roll starting a second later, while its transaction is still open.
    occurred_at = timezone.now() - MARGIN + datetime.timedelta(milliseconds=500)
    inserted, failures = threading.Event(), []

    def insert_and_commit_late():
        try:
            with tenant_context(tenant.id):
                receive_stock(
                    tenant=tenant,
                    product=flour,
                    warehouse=site,
                    lot_code="INFLIGHT",
                    quantity=7,
                    unit_cost="3.00",
                    occurred_at=occurred_at,
                )
                inserted.set()
                time.sleep(2.5)
        except Exception as error:  # reported by the test thread
            failures.append(error)
            inserted.set()
        finally:
            connections["default"].close()

    writer = threading.Thread(target=insert_and_commit_late)
    writer.start()
    try:
        assert inserted.wait(30)
        time.sleep(1)
        started = time.monotonic()
        summary = roll_ledger_months()
        waited = time.monotonic() - started
    finally:
        writer.join(30)
    assert failures == []
    assert summary.watermark > occurred_at
    assert marks(tenant) == []
    # The roll waited for the transaction to end, then rolled its entry.
    assert waited > 0.5
    with tenant_context(tenant.id):
        lot = Lot.objects.get(code="INFLIGHT")
    assert rolled_quantity(tenant, lot) == Decimal("7")
    rolled = current_reports(tenant)
    drop_rollup()
    assert current_reports(tenant) == rolled


def test_an_in_flight_transaction_that_outlasts_the_wait_skips_the_roll(
    tenant, recent, site, flour, monkeypatch
):
    monkeypatch.setattr("analytics.dw.rollup.WAIT_FOR_TRANSACTIONS", datetime.timedelta(0))
    inserted, release = threading.Event(), threading.Event()

    def hold():
        try:
            with tenant_context(tenant.id):
                receive_stock(
                    tenant=tenant, product=flour, warehouse=site, lot_code="HELD", quantity=1
                )
                inserted.set()
                release.wait(30)
        finally:
            inserted.set()
            connections["default"].close()

    writer = threading.Thread(target=hold)
    writer.start()
    try:
        assert inserted.wait(30)
        summary = roll_ledger_months()
    finally:
        release.set()
        writer.join(30)
    assert (summary.skipped, summary.months, rolled_months(tenant)) == (True, 0, [])


def test_the_job_rolls_the_current_month_again_at_each_run(tenant, recent, site, flour):
    first = roll_ledger_months()
    this_month = month_of(first.watermark)
    late = receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        lot_code="LATER",
        quantity=9,
        occurred_at=timezone.now() - MARGIN + datetime.timedelta(milliseconds=200),
    ).lot
    assert marks(tenant) == []
    assert rolled_quantity(tenant, late) == 0
    time.sleep(0.5)
    second = roll_ledger_months()
    assert second.watermark > first.watermark
    assert (tenant.id, month_of(second.watermark)) in second.rolled
    assert month_of(second.watermark) >= this_month
    assert rolled_quantity(tenant, late) == Decimal("9")


def test_a_month_whose_watermark_is_stale_is_read_from_the_ledger(tenant, recent, monkeypatch):
    raw = current_reports(tenant)
    summary = roll_ledger_months()

    def clean_months():
        parts = window_parts(day_start(month_of(summary.watermark)), None)
        with tenant_context(tenant.id), connections["default"].cursor() as cursor:
            cursor.execute(
                f"WITH {ROLLED_CLEAN} SELECT month FROM rolled_clean",
                {**parts.params, "tenant": tenant.id, "time_zone": "UTC"},
            )
            return [row[0] for row in cursor.fetchall()]

    assert clean_months() == [month_of(summary.watermark)]
    # As if the job had stopped: every watermark is now older than the freshness allowed.
    monkeypatch.setattr("analytics.reports.rolled.WATERMARK_FRESHNESS", datetime.timedelta(0))
    assert clean_months() == []
    assert current_reports(tenant) == raw
    ship_stock(tenant=tenant, lot=recent["lots"]["R2"], location=recent["location"], quantity=2)
    after = current_reports(tenant)
    assert after != raw
    drop_rollup()
    assert current_reports(tenant) == after

"""Analytics on a large generated tenant: generation, view refresh, report latency, plans.

Run with ``.venv/bin/python benchmarks/analytics.py [--products N --lots N --entries N]
[--requests N] [--keep] [--write]``.

It works in a throwaway database (``stockyard_bench_analytics``, created,
migrated and dropped by the script) on the server the app uses; with
``--keep`` the database stays, and a later ``--keep`` run finds the tenant
there, applies any new migration and times it again without generating it
(generation takes minutes):

1. ``manage.py generate_analytics_tenant`` builds the tenant (by default
   10,000 products, 50,000 lots, 2,000,000 ledger entries over 24 months),
   printing each step's time; then the database size and a ``reconcile``;
2. ``dw.current_stock_mv`` refreshed by ``analytics.dw.refresh_current_stock``
   as the job runner and ``/admin/refresh-mv`` refresh it (maintenance
   connection): once in full, three times ``CONCURRENTLY``; then the
   dimension and snapshot commands, and the tenant's missing snapshots of
   the last 31 days (what the stock-outs report reads); then the ledger's
   monthly roll-up (``dw.ledger_month``) rolled in full (up to the watermark), one closed
   month again, and a run with no mark (the current month rolled again);
3. ``EXPLAIN (ANALYZE, BUFFERS)`` of the stock-history, ABC, aging, valuation
   (today) and low-stock reports' own SQL as the runtime role (the
   ``default`` alias, tenant context set), with the ledger partitions
   scanned, the indexes used and the execution time;
4. each report's selector called in this process, as a screen calls it;
5. through gunicorn started as ``make run`` starts it, each report's JSON
   endpoint under ``/api/v1/reports/`` (bearer token) and its screen (a
   manager's session), and the dashboard: the median and 95th percentile of
   ``--requests`` requests, one at a time on a keep-alive connection, after
   warm-ups, with the status and the size of the answer.

``--write`` also writes the output to ``benchmarks/results/analytics.txt``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import io
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# This file's name is also the analytics app's: its folder goes last on the
# path (Python puts it first), so ``import analytics`` finds the app.
sys.path[:] = [
    entry for entry in sys.path if Path(entry or ".").resolve() != BASE_DIR / "benchmarks"
]
sys.path.insert(0, str(BASE_DIR))
sys.path.append(str(BASE_DIR / "benchmarks"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))

from connection_burst import free_port, run_gunicorn  # noqa: E402 (sets Django up)
from django.conf import settings  # noqa: E402
from django.core.management import CommandError, call_command, get_commands  # noqa: E402
from django.db import DatabaseError, connections, transaction  # noqa: E402

from benchmarks.harness import percentile, throwaway_database  # noqa: E402
from config.database import SEARCH_ROLE  # noqa: E402

DATABASE = "stockyard_bench_analytics"
SLUG = "bench"
RESULTS = BASE_DIR / "benchmarks" / "results" / "analytics.txt"
REPORTS = (
    "abc",
    "aging",
    "turnover",
    "demand",
    "stock-history",
    "valuation",
    "stock-outs",
    "low-stock",
)


@contextlib.contextmanager
def kept_database(name: str):
    """Database ``name``, created and migrated when missing, else migrated; never dropped.

    The large tenant takes minutes to build: a later ``--keep`` run finds it.
    """
    from django.test.utils import setup_databases

    from warehouse.provisioning import provision_from_settings

    for alias in connections:
        settings.DATABASES[alias]["TEST"] = {
            **settings.DATABASES[alias].get("TEST", {}),
            "NAME": name,
        }
    provision_from_settings()
    setup_databases(verbosity=0, interactive=False, keepdb=True, aliases={"owner"})
    try:
        yield name
    finally:
        connections.close_all()


class Output:
    """Prints as it goes and keeps every line for ``--write``."""

    def __init__(self):
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.extend(text.splitlines() or [""])

    def write(self, text: str) -> None:  # a stdout for call_command
        for line in text.splitlines():
            self(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def generate(out: Output, args) -> float:
    started = time.perf_counter()
    call_command(
        "generate_analytics_tenant",
        "--slug", SLUG, "--products", str(args.products), "--lots", str(args.lots),
        "--entries", str(args.entries), "--months", str(args.months), "--seed", str(args.seed),
        stdout=out,
    )  # fmt: skip
    return time.perf_counter() - started


def database_figures(out: Output) -> None:
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database())), "
            "pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits "
            "WHERE inhparent = 'inventory_ledgerentry'::regclass"
        )
        database_size, ledger_size = cursor.fetchone()
    out(f"database size {database_size} (ledger with its indexes {ledger_size})")
    # manage.py reconcile, as an operator runs it: every balance against the ledger.
    buffer = io.StringIO()
    try:
        call_command("reconcile", stdout=buffer)
    except CommandError as error:
        out(f"manage.py reconcile FAILED: {error}")
        out(buffer.getvalue().strip()[:2000])
    else:
        out(f"manage.py reconcile: {buffer.getvalue().strip()}")


def refresh_view(out: Output) -> None:
    """``dw.current_stock_mv`` refreshed as the job runner and ``/admin/refresh-mv`` do it.

    Through ``analytics.dw.refresh_current_stock`` on the ``maintenance``
    connection (the view belongs to the search role; maintenance holds
    ``MAINTAIN`` on it): once in full (readers wait) and three times
    ``CONCURRENTLY`` (readers keep the previous rows).
    """
    from analytics.dw import refresh_current_stock

    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT to_regclass('dw.current_stock_mv') IS NOT NULL")
        if not cursor.fetchone()[0]:
            out("dw.current_stock_mv: not there (skipped)")
            return
    try:
        full = refresh_current_stock(concurrently=False).duration_ms
        timings = [refresh_current_stock().duration_ms for _ in range(3)]
    except DatabaseError as error:
        out(f"refresh_current_stock FAILED: {str(error).strip()}")
        return
    # Only the view's owning role reads it whole; the owner may act as that role.
    with transaction.atomic(using="owner"), connections["owner"].cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {SEARCH_ROLE}")
        cursor.execute("SELECT count(*) FROM dw.current_stock_mv")
        rows = cursor.fetchone()[0]
    out(
        f"dw.current_stock_mv ({rows:,} rows) refreshed by analytics.dw.refresh_current_stock "
        f"(maintenance): full {full:.0f} ms, CONCURRENTLY median {statistics.median(timings):.0f}"
        " ms of 3"
    )


def run_dw_commands(out: Output) -> None:
    """The dimension upsert and yesterday's snapshot, timed, when those commands exist."""
    available = get_commands()
    for name in ("dw_dimensions", "dw_snapshot"):
        if name not in available:
            out(f"manage.py {name}: not there (skipped)")
            continue
        started = time.perf_counter()
        buffer = io.StringIO()
        call_command(name, stdout=buffer)
        summary = buffer.getvalue().strip().splitlines()[-1:] or [""]
        out(f"manage.py {name}: {time.perf_counter() - started:.1f} s ({summary[0]})")


SNAPSHOT_DAYS = 31


def take_window_snapshots(out: Output, tenant_id: int) -> None:
    """The tenant's snapshots of the last ``SNAPSHOT_DAYS`` days before today, those missing.

    What the stock-outs report reads for its past days: the nightly job takes
    yesterday, so a tenant generated today has none of the others. A kept
    database has them from an earlier run; only the days it lacks are taken
    (``analytics.dw.take_snapshot`` for this tenant, maintenance connection).
    """
    from django.utils import timezone

    from analytics.dw import take_snapshot

    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT to_regclass('dw.stock_snapshot_day') IS NOT NULL")
        if not cursor.fetchone()[0]:
            out("dw.stock_snapshot_day: not there (skipped)")
            return
    today = timezone.localdate()
    wanted = [today - datetime.timedelta(days=back) for back in range(SNAPSHOT_DAYS, 0, -1)]
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(
            "SELECT day FROM dw.stock_snapshot_day WHERE tenant_id = %s AND day = ANY(%s)",
            [tenant_id, wanted],
        )
        taken = {row[0] for row in cursor.fetchall()}
    missing = [day for day in wanted if day not in taken]
    if not missing:
        out(f"snapshots of the last {SNAPSHOT_DAYS} days: all there (none taken)")
        return
    timings = []
    rows = 0
    for day in missing:
        started = time.perf_counter()
        rows += take_snapshot(day, tenant_id=tenant_id)
        timings.append(time.perf_counter() - started)
    out(
        f"snapshots of the last {SNAPSHOT_DAYS} days: {len(missing)} missing, taken by "
        f"analytics.dw.take_snapshot (maintenance) in {sum(timings):.1f} s ({rows:,} rows; "
        f"median {statistics.median(timings) * 1000:.0f} ms a day)"
    )


def roll_ledger(out: Output, tenant_id: int) -> None:
    """``dw.ledger_month`` rolled as the hourly job rolls it, when the roll-up exists.

    The tenant's months are dropped first, so the first roll is a full one
    (every month up to the watermark); then one closed month rolled again
    (what a month with a dirty mark costs) and a run with no mark: the month
    of the watermark (the current month) rolled again up to the new one,
    what every run costs.
    """
    from analytics.dw.rollup import last_closed_month, roll_ledger_months, roll_month

    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT to_regclass('dw.ledger_month') IS NOT NULL")
        if not cursor.fetchone()[0]:
            out("dw.ledger_month: not there (skipped)")
            return
    with transaction.atomic(using="maintenance"), connections["maintenance"].cursor() as cursor:
        cursor.execute("DELETE FROM dw.ledger_month_rolled WHERE tenant_id = %s", [tenant_id])
        cursor.execute("DELETE FROM dw.ledger_month WHERE tenant_id = %s", [tenant_id])
    started = time.perf_counter()
    summary = roll_ledger_months(tenant_id=tenant_id)
    full = time.perf_counter() - started
    month = last_closed_month()
    started = time.perf_counter()
    rows, _ = roll_month(tenant_id, month)
    again = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    idle = roll_ledger_months(tenant_id=tenant_id)
    nothing = (time.perf_counter() - started) * 1000
    current = ", ".join(f"{due:%Y-%m}" for _, due in idle.rolled)
    with connections["owner"].cursor() as cursor:
        cursor.execute("VACUUM ANALYZE dw.ledger_month")
    out(
        f"dw.ledger_month rolled by analytics.dw.roll_ledger_months (maintenance): "
        f"{summary.months} months, {summary.rows:,} rows in {full:.1f} s; "
        f"{month:%Y-%m} again ({rows:,} rows) {again:.0f} ms; a run with no mark "
        f"({idle.months} months: {current}, {idle.rows:,} rows, up to "
        f"{idle.watermark:%Y-%m-%d %H:%M}) {nothing:.0f} ms"
    )


def report_targets(tenant_id: int) -> list[tuple[str, str, str, str]]:
    """``(report, API path, screen path, query)`` per report, parameters picked from the data."""
    from django.urls import NoReverseMatch, reverse

    from inventory.models import Product
    from warehouse.tenancy import tenant_context

    with tenant_context(tenant_id):
        # The best seller: the most balances, so the longest history.
        sku = (
            Product.objects.filter(id=_busiest_product(tenant_id))
            .values_list("sku", flat=True)
            .get()
        )
    today = datetime.date.today()
    as_of = today - datetime.timedelta(days=180)
    history_since = today - datetime.timedelta(days=89)
    cases = (
        ("abc", "abc", "abc", "?days=90"),
        ("aging", "aging", "aging", ""),
        ("turnover", "turnover", "turnover", "?days=90"),
        ("demand", "demand", "demand", "?days=90"),
        (f"demand of {sku}", "demand", "demand", f"?days=90&sku={sku}"),
        ("stock-history", "stock-history", "history", f"?sku={sku}&since={history_since}"),
        ("valuation", "valuation", "valuation", ""),
        (f"valuation as of {as_of}", "valuation", "valuation", f"?as_of={as_of}"),
        ("stock-outs", "stock-outs", "stock-outs", "?days=30"),
        ("low-stock", "low-stock", "low-stock", ""),
        ("dashboard", None, "dashboard", ""),
    )
    targets = []
    for label, endpoint, screen, query in cases:
        api = f"/api/v1/reports/{endpoint}{query}" if endpoint else ""
        try:
            page = reverse(f"analytics:{screen}") + query
        except NoReverseMatch:
            page = ""
        targets.append((label, api, page, query))
    return targets


def _busiest_product(tenant_id: int) -> int:
    from warehouse.tenancy import tenant_context

    with tenant_context(tenant_id), connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT product_id FROM inventory_balance GROUP BY product_id "
            "ORDER BY count(*) DESC, product_id LIMIT 1"
        )
        return cursor.fetchone()[0]


def time_report(port: int, headers: dict, path: str, requests: int, warmups: int):
    """(median ms, p95 ms, status, bytes, error code) of ``requests`` GETs after ``warmups``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    timings, status, body = [], None, b""
    for attempt in range(requests + warmups):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        status = response.status
        if attempt >= warmups:
            timings.append(elapsed * 1000)
    connection.close()
    timings.sort()
    code = _error_code(body) if status >= 400 else ""
    return statistics.median(timings), percentile(timings, 0.95), status, len(body), code


def _error_code(body: bytes) -> str:
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        return json.loads(body)["error"]["code"]
    return ""


def selector_calls(tenant_id: int, sku: str) -> list[tuple[str, object]]:
    """``(label, call)`` of each report's selector with the endpoint's parameters."""
    from analytics import reports
    from warehouse.models import Tenant

    tenant = Tenant.objects.using("owner").get(pk=tenant_id)
    today = datetime.date.today()
    as_of = today - datetime.timedelta(days=180)
    since = today - datetime.timedelta(days=89)
    return [
        ("abc", lambda: reports.abc(tenant=tenant, days=90)),
        ("aging", lambda: reports.aging(tenant=tenant)),
        ("turnover", lambda: reports.turnover(tenant=tenant, days=90)),
        ("demand", lambda: reports.demand(tenant=tenant, days=90)),
        (f"demand of {sku}", lambda: reports.demand(tenant=tenant, days=90, sku=sku)),
        ("stock-history", lambda: reports.stock_history(tenant=tenant, sku=sku, since=since)),
        ("valuation", lambda: reports.valuation(tenant=tenant)),
        (f"valuation as of {as_of}", lambda: reports.valuation(tenant=tenant, as_of=as_of)),
        ("stock-outs", lambda: reports.stock_outs(tenant=tenant, days=30)),
        ("low-stock", lambda: reports.low_stock(tenant=tenant)),
    ]


def time_selectors(out: Output, tenant_id: int, args) -> None:
    """Each selector called in this process (what a screen calls), median of ``--requests``."""
    from inventory.models import Product
    from warehouse.tenancy import tenant_context

    with tenant_context(tenant_id):
        sku = Product.objects.get(id=_busiest_product(tenant_id)).sku
    out(f"\n{'selector (in process, analytics.reports)':<40} {'median ms':>10} {'p95 ms':>8} rows")
    for label, call in selector_calls(tenant_id, sku):
        timings = []
        for attempt in range(args.requests + args.warmups):
            started = time.perf_counter()
            result = call()
            if attempt >= args.warmups:
                timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        rows = len(result) if isinstance(result, list) else "-"
        out(
            f"{label:<40} {statistics.median(timings):>10.1f} "
            f"{percentile(timings, 0.95):>8.1f} {rows}"
        )


def manager_cookie(tenant_id: int) -> str:
    """A signed-in session of the tenant's benchmark manager (made on first use)."""
    from django.contrib.auth import get_user_model
    from screens import session_cookie

    from warehouse.models import Membership, Role
    from warehouse.tenancy import tenant_context

    manager, _ = get_user_model().objects.get_or_create(username="analytics-bench-manager")
    with tenant_context(tenant_id):
        Membership.objects.get_or_create(
            tenant_id=tenant_id, user=manager, defaults={"role": Role.MANAGER}
        )
    return session_cookie(manager)


def time_reports(out: Output, tenant_id: int, args) -> None:
    """Each report's JSON endpoint (bearer token) and its screen (a manager's session)."""
    from inventory.core.tokens import issue_api_token
    from warehouse.models import Tenant

    targets = report_targets(tenant_id)
    _, token = issue_api_token(tenant=Tenant.objects.get(pk=tenant_id), name="benchmark")
    cookie = manager_cookie(tenant_id)
    connections.close_all()
    # The hashed assets the screens name, collected as make run collects them.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"},
        check=True,
    )
    port = free_port()
    log_path = Path(tempfile.gettempdir()) / "stockyard-analytics-gunicorn.log"
    api_headers = {"Authorization": f"Bearer {token}"}
    screen_headers = {"Cookie": cookie}
    with run_gunicorn(port, log_path, database=DATABASE):
        out(f"\n{'report':<32} {'':<7} {'median ms':>10} {'p95 ms':>8} {'status':>7} {'bytes':>10}")
        for label, api, page, _ in targets:
            for kind, path, headers in (
                ("JSON", api, api_headers),
                ("screen", page, screen_headers),
            ):
                if not path:
                    out(f"{label:<32} {kind:<7} {'(none)':>10}")
                    continue
                median, p95, status, size, code = time_report(
                    port, headers, path, args.requests, args.warmups
                )
                note = f"  {code}" if code else ""
                out(
                    f"{label:<32} {kind:<7} {median:>10.1f} {p95:>8.1f} {status:>7} "
                    f"{size:>10,}{note}"
                )
    out(f"({args.requests} requests each after {args.warmups} warm-ups, one at a time)")


def explain(out: Output, tenant_id: int) -> None:
    """Reports' own SQL (history, ABC, aging, valuation, low stock) as the runtime role."""
    from django.utils import timezone

    from analytics.reports.abc import abc_sql
    from analytics.reports.aging import _AGING
    from analytics.reports.connection import day_start, time_zone_name
    from analytics.reports.history import _HISTORY
    from analytics.reports.low_stock import LOW_STOCK_SQL
    from analytics.reports.rolled import window_parts
    from analytics.reports.valuation import _VALUATION_TODAY
    from warehouse.tenancy import tenant_context

    product = _busiest_product(tenant_id)
    today = datetime.date.today()
    since = today - datetime.timedelta(days=89)
    window = (day_start(since), day_start(today + datetime.timedelta(days=1)))
    parts = window_parts(*window)
    cases = (
        (f"stock history, 90 days, product #{product} (analytics.reports.history)",
         _HISTORY,
         {"tenant": tenant_id, "product": product, "warehouse": None, "since": since,
          "until": today, "start": day_start(since), "time_zone": time_zone_name()}),
        ("ABC, 90 days (analytics.reports.abc), rolled months from dw.ledger_month_product",
         abc_sql(parts),
         {**parts.params, "tenant": tenant_id, "warehouse": None, "end": window[1],
          "time_zone": time_zone_name()}),
        ("aging by receipt and by expiry (analytics.reports.aging)", _AGING,
         {"tenant": tenant_id, "warehouse": None, "today": today,
          "time_zone": time_zone_name()}),
        ("valuation today (analytics.reports.valuation)", _VALUATION_TODAY,
         {"tenant": tenant_id}),
        ("low stock, every enabled rule (analytics.reports.low_stock)", LOW_STOCK_SQL,
         {"tenant": tenant_id, "warehouse": None, "today": today, "now": timezone.now()}),
    )  # fmt: skip
    for label, sql, params in cases:
        with tenant_context(tenant_id), connections["default"].cursor() as cursor:
            cursor.execute("SELECT current_user")
            role = cursor.fetchone()[0]
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
        out(f"\nEXPLAIN (ANALYZE, BUFFERS) as {role}, tenant context set: {label}")
        for line in key_lines(plan):
            out(f"  {line}")


def key_lines(plan: list[str]) -> list[str]:
    """The partitions scanned, the indexes used, the top node's buffers, the timings."""
    text = "\n".join(plan)
    # Table scans only: a bitmap index scan names an index, not a partition.
    scanned = re.findall(
        r"(?:Seq Scan|Heap Scan|Index Scan using \S+|Index Only Scan using \S+) on "
        r"(inventory_ledgerentry_\w+)",
        text,
    )
    partitions = sorted(set(scanned))
    indexes = sorted(
        set(re.findall(r"Scan using (\S+)", text) + re.findall(r"Index Scan on (\S+)", text))
    )
    lines = []
    if partitions:
        lines.append(f"ledger partitions scanned ({len(partitions)}): {', '.join(partitions)}")
    lines.append(f"indexes used: {', '.join(indexes) or 'none'}")
    conditions = [line.strip() for line in plan if line.strip().startswith("Index Cond:")]
    # The partitions' index conditions differ only in the partition: one of each shape.
    lines.extend(list(dict.fromkeys(conditions))[:2])
    scans = [line.strip().split("  (")[0] for line in plan if " Scan " in line]
    lines.extend(scans[:8] + ([f"... and {len(scans) - 8} more scans"] if len(scans) > 8 else []))
    buffers = next((line.strip() for line in plan if "Buffers:" in line), "")
    if buffers:
        lines.append(f"top node {buffers}")
    lines.extend(line.strip() for line in plan if line.startswith(("Planning Time", "Execution")))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--lots", type=int, default=50_000)
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--warmups", type=int, default=3)
    parser.add_argument("--write", action="store_true", help=f"also write {RESULTS.name}")
    parser.add_argument(
        "--keep",
        action="store_true",
        help=f"keep database {DATABASE} afterwards, and time the tenant already in it when "
        "there is one (generation is skipped; new migrations are applied)",
    )
    args = parser.parse_args()
    out = Output()
    out(
        f"Analytics benchmark: {args.products:,} products, {args.lots:,} lots, "
        f"{args.entries:,} ledger entries over {args.months} months (seed {args.seed}), "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    database = kept_database(DATABASE) if args.keep else throwaway_database(DATABASE)
    with database:
        from warehouse.models import Tenant

        tenant = Tenant.objects.using("owner").filter(slug=SLUG).first()
        if tenant is None:
            elapsed = generate(out, args)
            out(f"generation, wall time with the command's set-up: {elapsed:.1f} s")
            tenant = Tenant.objects.using("owner").get(slug=SLUG)
        else:
            out(f"tenant {SLUG!r} (id {tenant.id}) already in {DATABASE}: generation skipped")
        tenant_id = tenant.id
        database_figures(out)
        out()
        refresh_view(out)
        run_dw_commands(out)
        take_window_snapshots(out, tenant_id)
        roll_ledger(out, tenant_id)
        explain(out, tenant_id)
        time_selectors(out, tenant_id, args)
        time_reports(out, tenant_id, args)
    if args.write:
        RESULTS.write_text("\n".join(out.lines) + "\n")
        print(f"\nwritten to {RESULTS.relative_to(BASE_DIR)}")


if __name__ == "__main__":
    main()

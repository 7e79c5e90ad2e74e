"""Analytics on a large generated tenant: generation, view refresh, report latency, plans.

Run with ``.venv/bin/python benchmarks/analytics.py [--products N --lots N --entries N]
[--requests N] [--write]``.

It works in a throwaway database (``stockyard_bench_analytics``, created,
migrated and dropped by the script) on the server the app uses:

1. ``manage.py generate_analytics_tenant`` builds the tenant (by default
   10,000 products, 50,000 lots, 2,000,000 ledger entries over 24 months),
   printing each step's time; then the database size and a ``reconcile``;
2. ``REFRESH MATERIALIZED VIEW CONCURRENTLY dw.current_stock_mv`` (when the
   view exists), and the dimension and snapshot commands when they exist;
3. every report endpoint under ``/api/v1/reports/`` that exists, through
   gunicorn started as ``make run`` starts it, with a bearer token: the
   median and 95th percentile of ``--requests`` requests, one at a time on a
   keep-alive connection, after warm-ups;
4. ``EXPLAIN (ANALYZE, BUFFERS)`` as the runtime role (the ``default`` alias,
   tenant context set) of a product's on hand per day over 90 days from the
   ledger and of on hand by receipt age from balances and lots, with the
   partitions each scans, the indexes it uses and its execution time.

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
from django.core.management import CommandError, call_command, get_commands  # noqa: E402
from django.db import DatabaseError, connections  # noqa: E402

from benchmarks.harness import percentile, throwaway_database  # noqa: E402

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
    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT to_regclass('dw.current_stock_mv') IS NOT NULL")
        if not cursor.fetchone()[0]:
            out("dw.current_stock_mv: not there (skipped)")
            return
        cursor.execute(
            "SELECT ispopulated FROM pg_matviews "
            "WHERE schemaname = 'dw' AND matviewname = 'current_stock_mv'"
        )
        populated = cursor.fetchone()[0]
    # The job runner refreshes on the maintenance connection; the owner can too.
    for alias in ("maintenance", "owner"):
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SET statement_timeout = 0")
                if not populated:
                    cursor.execute("REFRESH MATERIALIZED VIEW dw.current_stock_mv")
                timings = []
                for _ in range(3):
                    started = time.perf_counter()
                    cursor.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY dw.current_stock_mv")
                    timings.append((time.perf_counter() - started) * 1000)
                cursor.execute("SELECT count(*) FROM dw.current_stock_mv")
                rows = cursor.fetchone()[0]
        except DatabaseError as error:
            out(f"refresh as {alias}: {str(error).strip()}")
            continue
        out(
            f"REFRESH MATERIALIZED VIEW CONCURRENTLY dw.current_stock_mv ({alias}, {rows:,} rows):"
            f" median {statistics.median(timings):.0f} ms of 3"
        )
        return


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


def report_targets(tenant_id: int) -> list[tuple[str, str]]:
    """``(report, path with query)`` for each report, with parameters picked from the data."""
    from inventory.models import Product
    from warehouse.tenancy import tenant_context

    with tenant_context(tenant_id):
        # The best seller: the most ledger entries, so the longest history.
        sku = (
            Product.objects.filter(id=_busiest_product(tenant_id))
            .values_list("sku", flat=True)
            .get()
        )
    today = datetime.date.today()
    queries = {
        "abc": "?days=90",
        "turnover": "?days=90",
        "demand": "?days=90",
        "stock-history": f"?sku={sku}&since={today - datetime.timedelta(days=89)}",
        "valuation": "",
        "stock-outs": "?days=30",
    }
    targets = []
    for report in REPORTS:
        targets.append((report, f"/api/v1/reports/{report}{queries.get(report, '')}"))
        if report == "valuation":
            as_of = today - datetime.timedelta(days=180)
            targets.append((f"{report} as of {as_of}", f"/api/v1/reports/{report}?as_of={as_of}"))
        if report == "demand":
            targets.append((f"{report} of {sku}", f"/api/v1/reports/{report}?days=90&sku={sku}"))
    return targets


def _busiest_product(tenant_id: int) -> int:
    from warehouse.tenancy import tenant_context

    with tenant_context(tenant_id), connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT product_id FROM inventory_balance GROUP BY product_id "
            "ORDER BY count(*) DESC, product_id LIMIT 1"
        )
        return cursor.fetchone()[0]


def time_report(port: int, token: str, path: str, requests: int, warmups: int):
    """(median ms, p95 ms, status, bytes, error code) of ``requests`` GETs after ``warmups``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Bearer {token}"}
    timings, status, body = [], None, b""
    for attempt in range(requests + warmups):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        status = response.status
        if attempt == 0 and status == 404 and _error_code(body) == "NOT_FOUND":
            connection.close()
            return None
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


def time_reports(out: Output, tenant_id: int, args) -> None:
    from inventory.core.tokens import issue_api_token
    from warehouse.models import Tenant

    targets = report_targets(tenant_id)
    _, token = issue_api_token(tenant=Tenant.objects.get(pk=tenant_id), name="benchmark")
    connections.close_all()
    port = free_port()
    log_path = Path(tempfile.gettempdir()) / "stockyard-analytics-gunicorn.log"
    with run_gunicorn(port, log_path, database=DATABASE):
        out(
            f"\n{'report (GET /api/v1/reports/...)':<40} {'median ms':>10} {'p95 ms':>8} "
            f"{'status':>7} {'bytes':>10}"
        )
        for label, path in targets:
            result = time_report(port, token, path, args.requests, args.warmups)
            if result is None:
                out(f"{label:<40} {'(no such endpoint: skipped)':>38}")
                continue
            median, p95, status, size, code = result
            note = f"  {code}" if code else ""
            out(f"{label:<40} {median:>10.1f} {p95:>8.1f} {status:>7} {size:>10,}{note}")
    out(f"({args.requests} requests each after {args.warmups} warm-ups, one at a time)")


# On hand of one product at the end of each of the last 90 days, from the
# ledger: today's balances minus what moved after each day, so only the
# partitions of the window are read.
STOCK_HISTORY = """
WITH current AS (
    SELECT coalesce(sum(on_hand), 0) AS on_hand
      FROM inventory_balance WHERE product_id = %(product)s
), daily AS (
    SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, sum(quantity) AS change
      FROM inventory_ledgerentry
     WHERE product_id = %(product)s
       AND occurred_at >= %(since)s AND occurred_at < %(until)s::date + 1
       AND kind NOT IN ('RESERVE', 'RELEASE')
     GROUP BY 1
), days AS (
    SELECT day::date FROM generate_series(%(since)s::date, %(until)s::date, interval '1 day') AS day
)
SELECT days.day,
       current.on_hand - coalesce(sum(daily.change) OVER (
           ORDER BY days.day DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS on_hand
  FROM days LEFT JOIN daily USING (day) CROSS JOIN current
 ORDER BY days.day
"""

# On hand and its value at lot cost by age since receipt.
AGING = """
SELECT CASE WHEN age < 30 THEN '0-29 days' WHEN age < 90 THEN '30-89 days'
            WHEN age < 180 THEN '90-179 days' WHEN age < 365 THEN '180-364 days'
            ELSE '365+ days' END AS bucket,
       sum(on_hand) AS on_hand, sum(value) AS value
  FROM (SELECT current_date - (lot.received_at AT TIME ZONE 'UTC')::date AS age,
               balance.on_hand, balance.on_hand * lot.unit_cost AS value
          FROM inventory_balance balance
          JOIN inventory_lot lot ON lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
         WHERE balance.on_hand > 0) AS stock
 GROUP BY 1 ORDER BY min(age)
"""


def explain(out: Output, tenant_id: int) -> None:
    from warehouse.tenancy import tenant_context

    product = _busiest_product(tenant_id)
    until = datetime.datetime.now(datetime.UTC).date()
    since = until - datetime.timedelta(days=89)
    cases = (
        (f"on hand per day, 90 days, product #{product} (ledger)", STOCK_HISTORY,
         {"product": product, "since": since, "until": until}),
        ("on hand by receipt age (balances and lots)", AGING, {}),
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
    args = parser.parse_args()
    out = Output()
    out(
        f"Analytics benchmark: {args.products:,} products, {args.lots:,} lots, "
        f"{args.entries:,} ledger entries over {args.months} months (seed {args.seed}), "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    with throwaway_database(DATABASE):
        from warehouse.models import Tenant

        elapsed = generate(out, args)
        out(f"generation, wall time with the command's set-up: {elapsed:.1f} s")
        tenant_id = Tenant.objects.using("owner").get(slug=SLUG).id
        database_figures(out)
        out()
        refresh_view(out)
        run_dw_commands(out)
        explain(out, tenant_id)
        time_reports(out, tenant_id, args)
    if args.write:
        RESULTS.write_text("\n".join(out.lines) + "\n")
        print(f"\nwritten to {RESULTS.relative_to(BASE_DIR)}")


if __name__ == "__main__":
    main()

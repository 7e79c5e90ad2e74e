"""Stress the reservation and order services with many processes; prove the invariants held.

Run with ``.venv/bin/python benchmarks/stress.py [--scenario hot|mixed|both] [--workers N] ...``
(``--help`` lists the sizes).

Two scenarios, in a throwaway database (``stockyard_stress`` by default,
created, migrated and dropped here; the development data is never touched):

hot SKU
    ``--workers`` processes (64) each make ``--reservations`` (10,000)
    one-unit reservations of one product that has ``--units`` (5,000) units:
    exactly ``min(requests, units)`` must succeed, every other request must
    be answered ``INSUFFICIENT_STOCK``.
mixed orders
    ``--order-workers`` processes (32) each create and allocate ``--orders``
    (2,000) orders of 1 to 5 lines (1 to 3 units each) over ``--skus`` (50)
    products, the lines in random order; one allocated order in five is then
    cancelled and one in five issued, so holds are also released and shipped
    while others allocate.

Every request goes through the real services inside ``run_in_transaction``
(short lock and statement timeouts, retried deadlocks and lock timeouts),
one database connection per process. Afterwards the command checks, as the
maintenance role: no negative balance, reserved within on hand, every
balance equal to the sum of its ledger entries (``inventory.reconcile``), the
``RESERVE`` / ``RELEASE`` / ``SHIP`` entries adding up to what the clients
were told, and that no deadlock reached a client. It prints the check and the
throughput, and exits 1 when an invariant fails.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.db import OperationalError, connections  # noqa: E402

from benchmarks.harness import (  # noqa: E402
    DEFAULT_STRESS_DATABASE,
    InvariantReport,
    check_invariants,
    fork_workers,
    load_stock,
    percentile,
    throwaway_database,
)

DEADLOCK = "40P01"
# The answers a request may get besides success: a shortage, or a 503 CONTENTION
# (retries or the statement time ran out; nothing was written). Anything else
# (a server error, a database error reaching the caller) fails the run.
ANSWERS = {"INSUFFICIENT_STOCK", "CONTENTION"}


def _outcome(error: BaseException) -> tuple[str, bool]:
    """The error code a client would see, and whether a deadlock caused it."""
    from inventory.core.errors import DomainError

    deadlock, cause = False, error
    while cause is not None:
        if getattr(cause, "sqlstate", None) == DEADLOCK:
            deadlock = True
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, DomainError):
        return error.code, deadlock
    if isinstance(error, OperationalError):
        return f"SQLSTATE {getattr(error.__cause__, 'sqlstate', '?')}", deadlock
    return f"UNEXPECTED {type(error).__name__}: {error}"[:120], deadlock


def _context(tenant_id: int, warehouse_id: int, product_ids: list[int]):
    from inventory.models import Product
    from warehouse.models import Tenant, Warehouse
    from warehouse.tenancy import tenant_context

    tenant = Tenant.objects.get(pk=tenant_id)
    with tenant_context(tenant.id):
        warehouse = Warehouse.objects.get(pk=warehouse_id)
        by_id = Product.objects.in_bulk(product_ids)
    return tenant, warehouse, [by_id[pk] for pk in product_ids]


def hot_worker(tenant_id: int, warehouse_id: int, product_id: int, count: int, seed: int):
    """``count`` one-unit reservations of one product; (latencies, outcomes, deadlocks)."""
    from inventory.core.transactions import run_in_transaction
    from inventory.reservations.allocation import reserve_stock
    from inventory.reservations.requests import LineRequest

    tenant, warehouse, (product,) = _context(tenant_id, warehouse_id, [product_id])
    lines = [LineRequest(product=product, quantity=1)]
    latencies, outcomes, deadlocks = [], Counter(), 0
    for _ in range(count):
        started = time.perf_counter()
        try:
            run_in_transaction(
                lambda: reserve_stock(tenant=tenant, warehouse=warehouse, lines=lines)
            )
            outcome = "OK"
        except Exception as error:
            outcome, deadlocked = _outcome(error)
            deadlocks += deadlocked
        latencies.append(time.perf_counter() - started)
        outcomes[outcome] += 1
    return latencies, outcomes, deadlocks


def order_worker(
    tenant_id: int, warehouse_id: int, product_ids: list[int], count: int, seed: int, index: int
):
    """Create and allocate ``count`` orders; settle some. Returns latencies, outcomes, deadlocks."""
    from inventory.core.transactions import run_in_transaction
    from inventory.orders.services import allocate_order, create_order
    from inventory.reservations.lifecycle import cancel_reservation, issue_reservation
    from inventory.reservations.requests import LineRequest

    rng = random.Random(seed)
    tenant, warehouse, products = _context(tenant_id, warehouse_id, product_ids)
    latencies, outcomes, deadlocks = [], Counter(), 0
    settled = Counter()
    for number in range(count):
        # A sample comes in random order: the lines reach the service unsorted.
        chosen = rng.sample(products, min(len(products), rng.randint(1, 5)))
        lines = [LineRequest(product=product, quantity=rng.randint(1, 3)) for product in chosen]
        order = create_order(
            tenant=tenant,
            warehouse=warehouse,
            reference=f"W{index:03d}-{number:05d}",
            customer=f"customer {rng.randrange(500)}",
            lines=lines,
        )
        started = time.perf_counter()
        try:
            result = run_in_transaction(
                lambda order_id=order.pk: allocate_order(tenant=tenant, order_id=order_id)
            )
            outcome = "OK"
        except Exception as error:
            result = None
            outcome, deadlocked = _outcome(error)
            deadlocks += deadlocked
        latencies.append(time.perf_counter() - started)
        outcomes[outcome] += 1
        if result is None:
            continue
        draw = rng.random()
        settle = cancel_reservation if draw < 0.2 else issue_reservation if draw < 0.4 else None
        if settle is None:
            continue
        try:
            run_in_transaction(
                lambda reservation_id=result.reservation.pk, settle=settle: settle(
                    tenant=tenant, reservation_id=reservation_id
                )
            )
            settled[settle.__name__] += 1
        except Exception as error:
            outcome, deadlocked = _outcome(error)
            deadlocks += deadlocked
            settled[f"{settle.__name__} {outcome}"] += 1
    return latencies, outcomes, deadlocks, settled


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


_positive.__name__ = "positive whole number"


# -- helpers --------------------------------------------------------------------------


def _deadlocks_detected() -> int:
    with connections["maintenance"].cursor() as cursor:
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def _run(target, argument_lists):
    before = _deadlocks_detected()
    started = time.perf_counter()
    results = fork_workers(target, argument_lists)
    elapsed = time.perf_counter() - started
    broken = [result for result in results if isinstance(result, Exception)]
    if broken:
        raise SystemExit(f"{len(broken)} worker(s) crashed; first: {broken[0]}")
    time.sleep(0.6)  # statistics reach pg_stat_database with a short delay
    detected = _deadlocks_detected() - before
    return results, elapsed, detected


def _note_contention(report: InvariantReport, refused: dict) -> None:
    if refused.get("CONTENTION"):
        report.lines.append(
            f"[note] {refused['CONTENTION']} request(s) answered 503 CONTENTION: lock waits "
            "outlasted the retries or the statement time limit; nothing of them was written"
        )


def _print(title: str, report: InvariantReport, figures: list[str]) -> None:
    print(f"\n== {title}")
    for line in figures:
        print(f"  {line}")
    for line in report.lines:
        print(f"  {line}")


def _latency(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    return (
        f"p50 {percentile(ordered, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(ordered, 0.99) * 1000:.1f} ms, max {ordered[-1] * 1000:.0f} ms"
    )


# -- scenarios ------------------------------------------------------------------------


def hot(*, workers: int, per_worker: int, units: int) -> list[str]:
    stock = load_stock(
        tenant_slug="stress-hot",
        products=1,
        lots_per_product=1,
        units_per_lot=units,
        locations=1,
        prefix="HOT-",
    )
    requests = workers * per_worker
    print(
        f"hot SKU: {workers} workers x {per_worker:,} one-unit reservations = {requests:,} "
        f"requests against {units:,} units of {stock.skus[0]} ..."
    )
    sys.stdout.flush()
    results, elapsed, detected = _run(
        hot_worker,
        [
            (stock.tenant.id, stock.warehouse.id, stock.product_ids[0], per_worker, seed)
            for seed in range(workers)
        ],
    )
    latencies = [value for result in results for value in result[0]]
    outcomes = sum((result[1] for result in results), Counter())
    deadlocks = sum(result[2] for result in results)
    successes = outcomes.get("OK", 0)
    expected = min(requests, units)

    report = InvariantReport()
    report.check(
        sum(outcomes.values()) == requests,
        f"every request answered ({sum(outcomes.values()):,} of {requests:,})",
    )
    report.check(successes == expected, f"successes: {successes:,} (expected {expected:,})")
    refused = {code: count for code, count in outcomes.items() if code != "OK"}
    report.check(
        set(refused) <= ANSWERS,
        f"failures by error code: {refused or 'none'}",
    )
    _note_contention(report, refused)
    report.check(deadlocks == 0, f"no deadlock reached a client ({deadlocks})")
    check_invariants(stock.tenant.id, report)
    reserve_count, reserve_sum = report.ledger.get("RESERVE", (0, Decimal(0)))
    report.check(
        reserve_count == successes and reserve_sum == successes,
        f"RESERVE entries: {reserve_count:,} totalling {reserve_sum:,} (one per success)",
    )
    report.check(
        report.reserved == successes and report.on_hand == units,
        f"balances: on hand {report.on_hand:,}, reserved {report.reserved:,}, "
        f"available {report.on_hand - report.reserved:,}",
    )
    _print(
        "hot SKU",
        report,
        [
            f"wall time {elapsed:.1f} s: {requests / elapsed:,.0f} requests/s "
            f"({successes / elapsed:,.0f} successful reservations/s averaged over the run)",
            f"latency per request (retries included): {_latency(latencies)}",
            f"deadlocks detected by PostgreSQL (and retried): {detected}",
        ],
    )
    return report.failures


def mixed(*, workers: int, per_worker: int, skus: int, units_per_sku: int) -> list[str]:
    lots = 3
    stock = load_stock(
        tenant_slug="stress-mixed",
        products=skus,
        lots_per_product=lots,
        units_per_lot=max(1, units_per_sku // lots),
        locations=min(20, skus * lots),
        prefix="MIX-",
    )
    supply = stock.units_per_product * skus
    orders = workers * per_worker
    print(
        f"\nmixed orders: {workers} workers x {per_worker:,} orders of 1-5 lines over "
        f"{skus} SKUs ({supply:,} units in {skus * lots} lots) ..."
    )
    sys.stdout.flush()
    results, elapsed, detected = _run(
        order_worker,
        [
            (stock.tenant.id, stock.warehouse.id, stock.product_ids, per_worker, seed, seed)
            for seed in range(workers)
        ],
    )
    latencies = [value for result in results for value in result[0]]
    outcomes = sum((result[1] for result in results), Counter())
    deadlocks = sum(result[2] for result in results)
    settled = sum((result[3] for result in results), Counter())
    successes = outcomes.get("OK", 0)

    report = InvariantReport()
    report.check(
        sum(outcomes.values()) == orders,
        f"every allocation answered ({sum(outcomes.values()):,} of {orders:,})",
    )
    refused = {code: count for code, count in outcomes.items() if code != "OK"}
    report.check(
        set(refused) <= ANSWERS,
        f"allocated {successes:,}; failures by error code: {refused or 'none'}",
    )
    _note_contention(report, refused)
    report.check(
        all(" " not in name or name.endswith(" CONTENTION") for name in settled),
        f"settled afterwards: {dict(settled) or 'none'}",
    )
    report.check(deadlocks == 0, f"no deadlock reached a client ({deadlocks})")
    check_invariants(stock.tenant.id, report)
    figures = _document_figures(stock.tenant.id)
    shipped = -report.ledger.get("SHIP", (0, Decimal(0)))[1]
    report.check(
        figures["allocated_orders"] == successes,
        f"orders allocated in the database: {figures['allocated_orders']:,} "
        f"(clients were told {successes:,})",
    )
    report.check(
        report.reserved == figures["open_held"],
        f"reserved in balances {report.reserved:,} = held by OPEN reservations "
        f"{figures['open_held']:,}",
    )
    report.check(
        report.on_hand == supply - shipped and shipped == figures["issued_held"],
        f"on hand {report.on_hand:,} = supply {supply:,} - shipped {shipped:,} "
        f"(issued reservations held {figures['issued_held']:,})",
    )
    _print(
        "mixed orders",
        report,
        [
            f"wall time {elapsed:.1f} s: {orders / elapsed:,.0f} orders/s created and "
            f"allocated ({successes / elapsed:,.0f} allocations/s)",
            f"allocation latency (retries included): {_latency(latencies)}",
            f"reservations by status: {figures['statuses']}",
            f"deadlocks detected by PostgreSQL (and retried): {detected}",
        ],
    )
    return report.failures


def _document_figures(tenant_id: int) -> dict:
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM inventory_order WHERE tenant_id = %s AND status = 'ALLOCATED'",
            [tenant_id],
        )
        allocated_orders = cursor.fetchone()[0]
        cursor.execute(
            "SELECT r.status, count(DISTINCT r.id), coalesce(sum(a.quantity), 0) "
            "FROM inventory_reservation r "
            "LEFT JOIN inventory_allocation a ON a.reservation_id = r.id "
            "WHERE r.tenant_id = %s GROUP BY r.status ORDER BY r.status",
            [tenant_id],
        )
        rows = cursor.fetchall()
    held = {status: total for status, _, total in rows}
    return {
        "allocated_orders": allocated_orders,
        "statuses": {status: count for status, count, _ in rows},
        "open_held": held.get("OPEN", Decimal(0)),
        "issued_held": held.get("ISSUED", Decimal(0)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=(
            "Run the hot-SKU and mixed-order stress scenarios against a throwaway database with "
            "many worker processes; print the invariant check and the throughput."
        )
    )
    parser.add_argument("--scenario", choices=["hot", "mixed", "both"], default="both")
    parser.add_argument(
        "--workers", type=_positive, default=None, help="processes (default 64 hot, 32 mixed)"
    )
    parser.add_argument("--reservations", type=_positive, default=10_000, help="per hot worker")
    parser.add_argument("--units", type=_positive, default=5_000, help="units of the hot SKU")
    parser.add_argument("--orders", type=_positive, default=2_000, help="per mixed worker")
    parser.add_argument("--skus", type=_positive, default=50, help="products of the mixed scenario")
    parser.add_argument(
        "--units-per-sku", type=_positive, default=4_500, help="mixed: three lots of a third each"
    )
    parser.add_argument("--database", default=DEFAULT_STRESS_DATABASE)
    options = parser.parse_args(argv)

    failures: list[str] = []
    with throwaway_database(options.database):
        if options.scenario in ("hot", "both"):
            failures += hot(
                workers=options.workers or 64,
                per_worker=options.reservations,
                units=options.units,
            )
        if options.scenario in ("mixed", "both"):
            failures += mixed(
                workers=options.workers or 32,
                per_worker=options.orders,
                skus=options.skus,
                units_per_sku=options.units_per_sku,
            )
    if failures:
        raise SystemExit(f"{len(failures)} invariant(s) failed: " + "; ".join(failures))
    print("All invariants held.")


if __name__ == "__main__":
    main()

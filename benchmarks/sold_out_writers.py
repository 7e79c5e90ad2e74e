"""Writers on a sold-out product while buyers stampede it.

Run with ``.venv/bin/python benchmarks/sold_out_writers.py [--buyers 32] [--seconds 20]``.

Requests for a product with nothing free wait for the rows with shared
locks (``inventory.core.locks``, pass 3), and PostgreSQL grants a shared row lock
at once while only shared locks are held, even to a request that comes after
a waiting writer. This measures what that costs a writer: ``--buyers``
processes keep asking for one unit of a sold-out product (one lot in one
bin), while this process, every ``--pause`` seconds, adds one unit with an
adjustment (``adjust_stock``, a conditional update of that balance row) and
times it. Each unit added is taken by one of the buyers at once.

It prints the buyers' answers and rate, the writers' latency (p50, p99, max)
and answers, and the invariant check. Everything happens in a throwaway
database (``stockyard_bench_sold_out``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DJANGO_DEBUG", "false")

import django  # noqa: E402

django.setup()

from benchmarks.harness import (  # noqa: E402
    check_invariants,
    fork_workers,
    load_stock,
    percentile,
    throwaway_database,
)

DATABASE = "stockyard_bench_sold_out"


def buyer(tenant_id: int, warehouse_id: int, product_id: int, until: float):
    """One-unit reservations until ``until`` (time.time()); a Counter of the answers."""
    from inventory.core.errors import DomainError
    from inventory.core.transactions import run_in_transaction
    from inventory.models import Product
    from inventory.reservations.allocation import reserve_stock
    from inventory.reservations.requests import LineRequest
    from warehouse.models import Tenant, Warehouse
    from warehouse.tenancy import tenant_context

    tenant = Tenant.objects.get(pk=tenant_id)
    with tenant_context(tenant_id):
        warehouse = Warehouse.objects.get(pk=warehouse_id)
        lines = [LineRequest(product=Product.objects.get(pk=product_id), quantity=1)]
    answers = Counter()
    while time.time() < until:
        try:
            run_in_transaction(
                lambda: reserve_stock(tenant=tenant, warehouse=warehouse, lines=lines)
            )
            answers["reserved"] += 1
        except DomainError as error:
            answers[error.code] += 1
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--pause", type=float, default=0.1, help="between two writers")
    options = parser.parse_args()

    from inventory.core.errors import DomainError
    from inventory.core.transactions import run_in_transaction
    from inventory.models import Lot
    from inventory.stock.movements import adjust_stock
    from warehouse.models import Location
    from warehouse.tenancy import tenant_context

    with throwaway_database(DATABASE):
        stock = load_stock(
            tenant_slug="sold-out", products=1, units_per_lot=1, locations=1, prefix="GONE-"
        )
        tenant, warehouse = stock.tenant, stock.warehouse
        with tenant_context(tenant.id):
            lot = Lot.objects.get(product_id=stock.product_ids[0])
            location = Location.objects.get(warehouse=warehouse, code="GONE-001")
        until = time.time() + options.seconds
        latencies: list[float] = []
        writes = Counter()

        def write_meanwhile() -> None:
            time.sleep(1.0)  # the buyers take the one unit and start being refused
            while time.time() < until - 1.0:
                started = time.perf_counter()
                try:
                    run_in_transaction(
                        lambda: adjust_stock(
                            tenant=tenant,
                            lot=lot,
                            location=location,
                            quantity_delta=1,
                            reason="Found on the shelf",
                        )
                    )
                    writes["added"] += 1
                except DomainError as error:
                    writes[error.code] += 1
                latencies.append(time.perf_counter() - started)
                time.sleep(options.pause)

        started = time.perf_counter()
        results = fork_workers(
            buyer,
            [(tenant.id, warehouse.id, lot.product_id, until)] * options.buyers,
            meanwhile=write_meanwhile,
        )
        elapsed = time.perf_counter() - started
        broken = [result for result in results if isinstance(result, Exception)]
        if broken:
            raise SystemExit(f"{len(broken)} buyer(s) crashed; first: {broken[0]}")
        answers = sum(results, Counter())
        ordered = sorted(latencies)
        print(
            f"{options.buyers} buyers for {options.seconds:.0f} s of a sold-out product; "
            f"one unit added every {options.pause * 1000:.0f} ms meanwhile"
        )
        print(
            f"buyers: {sum(answers.values()):,} requests, "
            f"{sum(answers.values()) / elapsed:.0f}/s, answers {dict(answers)}"
        )
        print(
            f"writers: {len(latencies)} adjustments, answers {dict(writes)}; latency "
            f"p50 {percentile(ordered, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(ordered, 0.99) * 1000:.1f} ms, "
            f"max {ordered[-1] * 1000:.0f} ms"
        )
        report = check_invariants(tenant.id)
        expected = 1 + writes["added"]
        report.check(
            answers["reserved"] == expected,
            f"buyers reserved {answers['reserved']} units, the units there were ({expected})",
        )
        for line in report.lines:
            print(line)
        if not report.passed:
            raise SystemExit(1)


if __name__ == "__main__":
    main()

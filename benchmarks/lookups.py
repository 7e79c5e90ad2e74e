"""Catalog lookups at scale: SKU lookup, full-text search and attribute filter.

Run with ``.venv/bin/python benchmarks/lookups.py [--calls N]``.

It works in a throwaway database (``stockyard_bench_lookups``, created,
migrated and dropped by the script). Two tenants, one with 1,000 products and
one with 100,000, each product with a name and attributes (so a search vector);
five products of each tenant are "turbine blades" coloured "ultramarine", the
rest "widgets" in five colours (so "red" is in one in five of them).
After ``VACUUM ANALYZE`` every query runs through the selectors, as the
runtime role, one tenant context (one transaction) per call, as a request
does; the figures are the median and 99th percentile of ``--calls`` calls.

The same is timed with the query shapes the selectors used before (``lower(sku)
= ...``, ``search_vector @@ ...`` and ``attributes @> ...`` as conditions under
row-level security), for comparison.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.db import connection, connections  # noqa: E402

from benchmarks.harness import percentile, throwaway_database  # noqa: E402

SIZES = (1_000, 100_000)

# Products n = 7, 207, 407, 607, 807 are turbine blades in every tenant; the
# rest are widgets in one of five colours. Every product has a unique serial.
PRODUCTS = """
INSERT INTO inventory_product (tenant_id, sku, name, uom, qc_required, unit_cost, attributes,
                               is_active, created_at)
SELECT %(tenant)s, 'SKU-' || lpad(n::text, 6, '0'),
       CASE WHEN special THEN 'Turbine blade ' || n
            ELSE 'Widget ' || colour || ' number ' || n END,
       'ea', false, 1.50,
       jsonb_build_object('colour', CASE WHEN special THEN 'ultramarine' ELSE colour END,
                          'size', n %% 10, 'serial', 'S' || n),
       true, now()
  FROM generate_series(1, %(products)s) AS n,
       LATERAL (SELECT n %% 200 = 7 AND n <= 1000 AS special,
                       (ARRAY['red', 'green', 'blue', 'steel', 'oak'])[1 + n %% 5] AS colour) AS p
"""


def old_sku_lookup(sku: str):
    """The former shape: ``lower(sku) = ...``, a filter under row-level security."""
    from django.db.models.functions import Lower

    from inventory.models import Product

    return Product.objects.annotate(sku_lower=Lower("sku")).get(sku_lower=sku.lower())


def old_search(query: str):
    from django.db.models import BooleanField, FloatField
    from django.db.models.expressions import RawSQL

    from inventory.catalog.selectors import SEARCH_QUERY as _QUERY
    from inventory.models import Product

    rank = RawSQL(f"ts_rank(search_vector, {_QUERY})", [query, query], output_field=FloatField())
    matches = RawSQL(f"search_vector @@ {_QUERY}", [query, query], output_field=BooleanField())
    return list(
        Product.objects.active().annotate(rank=rank).filter(matches).order_by("-rank", "sku")[:50]
    )


def old_attributes(wanted: dict):
    from inventory.models import Product

    return list(Product.objects.active().filter(attributes__contains=wanted).order_by("sku")[:50])


def timed(calls: int, runs: dict[int, tuple[int, object]]) -> dict[int, tuple[float, float]]:
    """Median and p99 (ms) of ``calls`` calls per catalog size, the sizes taking turns.

    Taking turns call by call spreads whatever else the machine is doing over
    both sizes alike, so their ratio stays fair on a shared machine.
    """
    from warehouse.tenancy import tenant_context

    durations = {size: [] for size in runs}
    for number in range(calls):
        for size, (tenant_id, call) in runs.items():
            started = time.perf_counter()
            with tenant_context(tenant_id):
                call(number)
            durations[size].append((time.perf_counter() - started) * 1000)
    figures = {}
    for size, values in durations.items():
        values.sort()
        figures[size] = (statistics.median(values), percentile(values, 0.99))
    return figures


def cases(size: int):
    from inventory.catalog.selectors import (
        get_product_by_sku,
        products_with_attributes,
        search_products,
    )

    randomly = random.Random(size)

    def sku(_):
        return f"sku-{randomly.randint(1, size):06}"

    def serial(_):
        return {"serial": f"S{randomly.randint(1, size)}"}

    return [
        (
            "SKU lookup",
            lambda n: get_product_by_sku(sku(n)),
            lambda n: old_sku_lookup(sku(n)),
        ),
        (
            "search 'turbine' (5 matches)",
            lambda n: list(search_products("turbine")),
            lambda n: old_search("turbine"),
        ),
        (
            "attributes colour=ultramarine (5)",
            lambda n: list(products_with_attributes({"colour": "ultramarine"})),
            lambda n: old_attributes({"colour": "ultramarine"}),
        ),
        (
            "attributes serial=S<n> (1)",
            lambda n: list(products_with_attributes(serial(n))),
            lambda n: old_attributes(serial(n)),
        ),
        (
            "search 'red' (a fifth match, 50 best)",
            lambda n: list(search_products("red")),
            lambda n: old_search("red"),
        ),
        (
            "search 'widget' (all match, 50 best)",
            lambda n: list(search_products("widget")),
            lambda n: old_search("widget"),
        ),
    ]


def report(calls: int) -> None:
    from warehouse.models import Tenant
    from warehouse.tenancy import tenant_context

    tenants = {}
    for size in SIZES:
        tenant = Tenant.objects.create(slug=f"catalog-{size}", name=f"Catalog of {size}")
        started = time.perf_counter()
        with tenant_context(tenant.id), connection.cursor() as cursor:
            cursor.execute(PRODUCTS, {"tenant": tenant.id, "products": size})
        print(f"loaded {size:,} products in {time.perf_counter() - started:.1f} s")
        tenants[size] = tenant.id
    with connections["owner"].cursor() as cursor:
        cursor.execute("VACUUM ANALYZE inventory_product")

    by_size = {size: cases(size) for size in SIZES}
    old_calls = max(calls // 10, 5)
    rows = []
    for index, (name, _, _) in enumerate(by_size[SIZES[0]]):
        new = {size: (tenants[size], by_size[size][index][1]) for size in SIZES}
        old = {size: (tenants[size], by_size[size][index][2]) for size in SIZES}
        timed(5, new)  # warm the cache
        new_figures = timed(calls, new)
        old_figures = timed(old_calls, old)
        for size in SIZES:
            rows.append((name, size, *new_figures[size], *old_figures[size]))
    rows.sort(key=lambda row: row[1])

    print(f"\n{calls} calls per cell (the old shapes: {old_calls}), times in ms\n")
    header = (
        f"{'query':38} {'products':>9} {'median':>8} {'p99':>8} {'old median':>11} {'old p99':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, size, new_median, new_p99, old_median, old_p99 in rows:
        print(
            f"{name:38} {size:>9,} {new_median:>8.2f} {new_p99:>8.2f} "
            f"{old_median:>11.2f} {old_p99:>9.2f}"
        )
    print("\nratio of medians, 100,000 products over 1,000 (target: at most 2)\n")
    by_case = {}
    for name, size, new_median, _, old_median, _ in rows:
        by_case.setdefault(name, {})[size] = (new_median, old_median)
    for name, sizes in by_case.items():
        (small_new, small_old), (large_new, large_old) = sizes[SIZES[0]], sizes[SIZES[1]]
        print(f"{name:38} now {large_new / small_new:5.2f}x   before {large_old / small_old:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    with throwaway_database("stockyard_bench_lookups"):
        report(args.calls)


if __name__ == "__main__":
    main()

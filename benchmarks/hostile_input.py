"""What hostile numbers cost the server: time, memory and answer per request.

Run with ``.venv/bin/python benchmarks/hostile_input.py [--repeat 5]``.

Everything happens in a throwaway database (``stockyard_bench_hostile``,
created, migrated and dropped by the script). A tenant with a warehouse, a
product and an approved lot is set up, then each body below is sent through
the whole WSGI stack in-process (``django.test.Client``: middleware, bearer
authentication, the API, the database), ``--repeat`` times. For each the
script prints the answer (status and error code), the median and worst wall
time, and how much the process's peak resident memory grew while it ran.

The bodies are those an attacker would send: a 500-line reservation whose
every quantity is ``"1E+999999"`` (a 22 KB body), ``"1e1000000"`` as a
receipt's quantity and as a product's unit cost, and quantities in
non-ASCII digits, next to an honest one-line reservation for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DJANGO_DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from benchmarks.harness import throwaway_database  # noqa: E402

DATABASE = "stockyard_bench_hostile"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def set_up() -> str:
    from inventory.catalog.services import create_location, create_product, create_warehouse
    from inventory.core.tokens import issue_api_token
    from inventory.stock.receipts import receive_stock
    from warehouse.models import Tenant

    tenant = Tenant.objects.create(slug="hostile", name="Hostile input bench")
    warehouse = create_warehouse(tenant=tenant, code="MAIN", name="Main")
    create_location(tenant=tenant, warehouse=warehouse, code="A-01")
    product = create_product(tenant=tenant, sku="BOLT-1", name="Bolt")
    receive_stock(
        tenant=tenant, product=product, warehouse=warehouse, lot_code="L1", quantity=1_000_000
    )
    _, secret = issue_api_token(tenant=tenant, name="bench")
    return secret


def reservation(quantity: str, lines: int = 1) -> dict:
    return {"warehouse": "MAIN", "lines": [{"sku": "BOLT-1", "quantity": quantity}] * lines}


def bodies() -> list[tuple[str, str, dict]]:
    receipt = {"sku": "BOLT-1", "warehouse": "MAIN", "lot_code": "L2", "quantity": "1e1000000"}
    product = {"sku": "NUT-1", "name": "Nut", "unit_cost": "1e1000000"}
    return [
        ("honest reservation, 1 line", "/reservations", reservation("1")),
        ("reservation, 500 lines of 1E+999999", "/reservations", reservation("1E+999999", 500)),
        ("receipt quantity 1e1000000", "/receipts", receipt),
        ("product unit_cost 1e1000000", "/products", product),
        ("quantity in Arabic-Indic digits", "/reservations", reservation("\u0661\u0662")),
        ("quantity in full-width digits", "/reservations", reservation("\uff11\uff10")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with throwaway_database(DATABASE):
        secret = set_up()
        client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
        print(
            f"{'body':<46} {'bytes':>7} {'answer':<26} {'median ms':>9} {'max ms':>9} "
            f"{'RSS +MiB':>8}"
        )
        for number, (name, path, body) in enumerate(bodies()):
            raw = json.dumps(body)
            timings = []
            rss_before = peak_rss_mib()
            answer = ""
            for attempt in range(args.repeat):
                started = time.perf_counter()
                response = client.post(
                    f"/api/v1{path}",
                    raw,
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {secret}",
                    HTTP_IDEMPOTENCY_KEY=f"bench-{number}-{attempt}",
                )
                timings.append((time.perf_counter() - started) * 1000)
                code = ""
                if response.get("Content-Type", "").startswith("application/json"):
                    code = (response.json().get("error") or {}).get("code", "")
                else:
                    code = response.get("Content-Type", "")
                answer = f"{response.status_code} {code}".strip()
            grown = peak_rss_mib() - rss_before
            print(
                f"{name:<46} {len(raw):>7} {answer[:26]:<26} {statistics.median(timings):>9.2f} "
                f"{max(timings):>9.2f} {grown:>8.1f}"
            )


if __name__ == "__main__":
    main()

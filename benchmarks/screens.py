"""Server response time of every floor screen on a large tenant.

Run with ``.venv/bin/python benchmarks/screens.py [--requests N]``.

It works in a throwaway database (``stockyard_bench_screens``, created,
migrated and dropped by the script) on the server the app uses:

1. loads a tenant of 10,000 products (30,000 lots, 400 bins in two
   warehouses) with 500,000 ledger entries spread over the last twelve
   months (receipts, shipments of 500 shipped orders, adjustments, count
   differences), balances projected from them, 2,000 orders, and a few
   allocated orders and counts made through the services;
2. starts gunicorn as ``make run`` starts it (``gunicorn.conf.py``, DEBUG off)
   and signs a manager in;
3. asks each screen for its full page (and list screens also for the table
   fragment htmx asks for) ``--requests`` times, one request at a time on a
   keep-alive connection, after three warm-up requests, and prints the median
   and the 95th percentile of the time to the last byte, with the status
   and the size of the answer.

One request at a time, so the client's own CPU does not compete with the
server's: these are response times, not throughput.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "benchmarks"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DJANGO_DEBUG", "false")
# gunicorn gets the same key, so the session signed in here is valid there.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))

from connection_burst import free_port, run_gunicorn  # noqa: E402 (sets Django up)
from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402

from benchmarks.harness import percentile, throwaway_database  # noqa: E402

DATABASE = "stockyard_bench_screens"
PRODUCTS = 10_000
LOTS_PER_PRODUCT = 3
ENTRIES = 500_000
ORDERS = 2_000
SHIPPED_EVERY = 4  # one order in four has shipped

_PRODUCTS = """
INSERT INTO inventory_product (tenant_id, sku, name, uom, qc_required, shelf_life_days,
                               unit_cost, attributes, gtin, is_active, created_at)
SELECT %(tenant)s, 'FL-' || lpad(n::text, 5, '0'),
       (ARRAY['Flour', 'Rice', 'Olive oil', 'Tomatoes', 'Coffee', 'Sugar', 'Salt', 'Pasta'])
           [1 + n %% 8] || ' ' || (ARRAY['fine', 'organic', 'bulk', 'premium', 'catering'])
           [1 + n %% 5] || ' ' || n,
       (ARRAY['ea', 'ea', 'ea', 'ea', 'ea', 'ea', 'ea', 'kg', 'kg', 'box'])[1 + n %% 10],
       n %% 5 = 0, 365, (1 + n %% 50) / 2.0,
       jsonb_build_object('origin', (ARRAY['IT', 'ES', 'DE', 'PL'])[1 + n %% 4]), '', true, now()
  FROM generate_series(1, %(products)s) AS n
"""

_LOCATIONS = """
INSERT INTO warehouse_location (tenant_id, warehouse_id, code, kind, pick_sequence, is_active)
SELECT %(tenant)s, %(warehouse)s, %(prefix)s || lpad(n::text, 3, '0'),
       CASE WHEN n <= %(receiving)s THEN 'receiving'
            WHEN n <= %(receiving)s + 4 THEN 'quarantine' ELSE 'storage' END,
       n, true
  FROM generate_series(1, %(count)s) AS n
"""

_LOTS = """
INSERT INTO inventory_lot (tenant_id, product_id, code, expires_on, received_at, unit_cost,
                           qc_status, qc_at, qc_note)
SELECT %(tenant)s, p.id, 'L' || right(p.sku, 5) || '-' || k,
       current_date + ((p.id * 37 + k * 101) %% 540)::int - 40,
       now() - ((p.id + k * 53) %% 365) * interval '1 day',
       p.unit_cost,
       CASE WHEN (p.id + k) %% 20 = 0 THEN 'QUARANTINE'
            WHEN (p.id + k) %% 97 = 0 THEN 'REJECTED' ELSE 'APPROVED' END,
       CASE WHEN (p.id + k) %% 20 = 0 THEN NULL ELSE now() END, ''
  FROM inventory_product p, generate_series(1, %(lots_per_product)s) AS k
 WHERE p.tenant_id = %(tenant)s
"""

# Entry n is of lot n mod L in "round" n div L; a lot's rounds cycle through
# the kinds, so each lot has receipts enough for its shipments and losses.
_ENTRIES = """
WITH lots AS (
    SELECT array_agg(id ORDER BY id) AS ids, array_agg(product_id ORDER BY id) AS products
      FROM inventory_lot WHERE tenant_id = %(tenant)s
), bins AS (
    SELECT array_agg(id ORDER BY warehouse_id, pick_sequence) AS ids,
           array_agg(warehouse_id ORDER BY warehouse_id, pick_sequence) AS sites
      FROM warehouse_location WHERE tenant_id = %(tenant)s AND kind <> 'quarantine'
), shipments AS (
    SELECT array_agg(shipment_operation_id ORDER BY id) AS ops
      FROM inventory_order WHERE tenant_id = %(tenant)s AND status = 'SHIPPED'
), entry AS (
    SELECT n, n %% cardinality(lots.ids) AS lot_index,
           (n / cardinality(lots.ids)) %% 10 AS round_kind
      FROM generate_series(0, %(entries)s - 1) AS n, lots
)
INSERT INTO inventory_ledgerentry (tenant_id, occurred_at, kind, product_id, warehouse_id,
                                   location_id, lot_id, quantity, reason, operation_id)
SELECT %(tenant)s, now() - (random() * 360) * interval '1 day',
       CASE WHEN entry.round_kind < 6 THEN 'RECEIPT' WHEN entry.round_kind < 8 THEN 'SHIP'
            WHEN entry.round_kind = 8 THEN 'ADJUST' ELSE 'COUNT' END,
       lots.products[1 + entry.lot_index],
       bins.sites[1 + (entry.lot_index * 7) %% cardinality(bins.ids)],
       bins.ids[1 + (entry.lot_index * 7) %% cardinality(bins.ids)],
       lots.ids[1 + entry.lot_index],
       CASE WHEN entry.round_kind < 6 THEN 10 + entry.n %% 20
            WHEN entry.round_kind < 8 THEN -(1 + entry.n %% 3)
            WHEN entry.n %% 2 = 0 THEN 1 ELSE -1 END,
       CASE WHEN entry.round_kind = 8 THEN 'Damaged: crushed in handling'
            WHEN entry.round_kind = 9 THEN 'Physical count' ELSE '' END,
       CASE WHEN entry.round_kind IN (6, 7)
            THEN shipments.ops[1 + entry.n %% cardinality(shipments.ops)]
            ELSE %(operation)s END
  FROM entry, lots, bins, shipments
"""

_BALANCES = """
INSERT INTO inventory_balance (tenant_id, lot_id, location_id, product_id, warehouse_id,
                               on_hand, reserved, updated_at)
SELECT tenant_id, lot_id, location_id, product_id, warehouse_id, sum(quantity), 0, now()
  FROM inventory_ledgerentry WHERE tenant_id = %(tenant)s
 GROUP BY tenant_id, lot_id, location_id, product_id, warehouse_id
"""

_SHIPMENT_OPERATIONS = """
INSERT INTO inventory_operation (tenant_id, key, kind, fingerprint, created_at)
SELECT %(tenant)s, 'bench-shipment-' || n, 'order.ship', '', now()
  FROM generate_series(1, %(orders)s / %(shipped_every)s) AS n
RETURNING id
"""

_ORDERS = """
INSERT INTO inventory_order (tenant_id, reference, customer, warehouse_id, status, created_at,
                             shipped_at, shipment_operation_id)
SELECT %(tenant)s, 'SO-' || lpad(n::text, 6, '0'), 'Customer ' || (n %% 300),
       %(warehouse)s,
       CASE WHEN n %% %(shipped_every)s = 0 THEN 'SHIPPED' ELSE 'OPEN' END,
       now() - (n %% 60) * interval '1 day',
       CASE WHEN n %% %(shipped_every)s = 0 THEN now() - (n %% 60) * interval '1 day' END,
       CASE WHEN n %% %(shipped_every)s = 0 THEN (%(operations)s::bigint[])[n / %(shipped_every)s]
       END
  FROM generate_series(1, %(orders)s) AS n
"""

_ORDER_LINES = """
INSERT INTO inventory_orderline (tenant_id, order_id, product_id, quantity)
SELECT o.tenant_id, o.id, p.id, 1 + (o.id + k) %% 5
  FROM inventory_order o
  CROSS JOIN generate_series(0, 1) AS k
  JOIN inventory_product p ON p.tenant_id = o.tenant_id
   AND p.sku = 'FL-' || lpad((1 + (o.id * 13 + k * 4999) %% %(products)s)::text, 5, '0')
 WHERE o.tenant_id = %(tenant)s
"""


def load(*, products: int = PRODUCTS, entries: int = ENTRIES, tenant_slug: str = "floor"):
    """The large tenant; its manager; returns ``(tenant, manager)``."""
    from django.contrib.auth import get_user_model

    from inventory.catalog.services import create_warehouse
    from inventory.ledger.partitions import ensure_ledger_partitions
    from warehouse.models import Membership, Role, Tenant
    from warehouse.tenancy import tenant_context

    ensure_ledger_partitions(months_back=13)
    tenant = Tenant.objects.create(slug=tenant_slug, name="Floor bench")
    main = create_warehouse(tenant=tenant, code="DC1", name="Main DC")
    second = create_warehouse(tenant=tenant, code="DC2", name="Second DC")
    params = {
        "tenant": tenant.id,
        "products": products,
        "lots_per_product": LOTS_PER_PRODUCT,
        "entries": entries,
        "orders": ORDERS,
        "shipped_every": SHIPPED_EVERY,
    }
    with tenant_context(tenant.id), connections["default"].cursor() as cursor:
        # The bulk statements run longer than the app role's statement timeout.
        cursor.execute("SET statement_timeout = 0")
        cursor.execute(_PRODUCTS, params)
        for warehouse, prefix, count in ((main, "A-", 300), (second, "B-", 100)):
            cursor.execute(
                _LOCATIONS,
                {**params, "warehouse": warehouse.id, "prefix": prefix, "count": count,
                 "receiving": 4},
            )  # fmt: skip
        cursor.execute(_LOTS, params)
        cursor.execute(
            "INSERT INTO inventory_operation (tenant_id, key, kind, fingerprint, created_at) "
            "VALUES (%s, 'bench-load', 'bench.load', '', now()) RETURNING id",
            [tenant.id],
        )
        params["operation"] = cursor.fetchone()[0]
        cursor.execute(_SHIPMENT_OPERATIONS, params)
        params["operations"] = [row[0] for row in cursor.fetchall()]
        cursor.execute(_ORDERS, {**params, "warehouse": main.id})
        cursor.execute(_ORDER_LINES, params)
        cursor.execute(_ENTRIES, params)
        cursor.execute(_BALANCES, params)
        cursor.execute("RESET statement_timeout")
    with connections["owner"].cursor() as cursor:
        cursor.execute("ANALYZE")
    manager = get_user_model().objects.create_user("bench-manager", password=None)
    with tenant_context(tenant.id):
        Membership.objects.create(tenant=tenant, user=manager, role=Role.MANAGER)
    live_work(tenant, main, manager)
    return tenant, manager


def live_work(tenant, warehouse, manager) -> None:
    """Orders allocated and being picked, counts (one counted and submitted for review)
    and QC decisions, made through the services."""
    from inventory.core.errors import InsufficientStock
    from inventory.counts.services import save_count_line, start_count, submit_count
    from inventory.ledger.posting import Actor
    from inventory.lots.services import approve_lot
    from inventory.models import Balance, CountLine, Lot, Order, OrderStatus, QcStatus
    from inventory.orders.picking import start_picking
    from inventory.orders.services import allocate_order
    from warehouse.models import Location
    from warehouse.tenancy import tenant_context

    with tenant_context(tenant.id):
        open_orders = list(
            Order.objects.filter(status=OrderStatus.OPEN)
            .order_by("id")
            .values_list("id", flat=True)[:40]
        )
        bins = list(Location.objects.filter(warehouse=warehouse, code__in=["A-120", "A-121"]))
        counted_bins = list(
            Location.objects.filter(warehouse=warehouse, code__in=["A-130", "A-131", "A-132"])
        )
        waiting = list(Lot.objects.filter(qc_status=QcStatus.QUARANTINE).order_by("id")[:60])
    allocated = 0
    for order_id in open_orders:
        try:
            allocate_order(tenant=tenant, order_id=order_id, allow_partial=True)
        except InsufficientStock:  # none of it in this warehouse: the order stays open
            continue
        allocated += 1
        if allocated % 2:
            start_picking(tenant=tenant, order_id=order_id)
    start_count(tenant=tenant, warehouse=warehouse, user=manager, locations=bins)
    # A count of three more bins, every line counted (every tenth one short), in review.
    reviewed = start_count(tenant=tenant, warehouse=warehouse, user=manager, locations=counted_bins)
    with tenant_context(tenant.id):
        lines = list(CountLine.objects.filter(session=reviewed).order_by("id"))
        books = {
            (balance.lot_id, balance.location_id): balance.on_hand
            for balance in Balance.objects.filter(location__in=counted_bins)
        }
    for number, line in enumerate(lines):
        on_shelf = books.get((line.lot_id, line.location_id), 0)
        save_count_line(
            tenant=tenant,
            session=reviewed,
            line_id=line.pk,
            quantity=0 if number % 10 == 0 else on_shelf,
            user=manager,
        )
    submit_count(tenant=tenant, session=reviewed, user=manager)
    for lot in waiting:
        approve_lot(tenant=tenant, lot=lot, actor=Actor.user(manager), note="Certificate checked")


def session_cookie(user) -> str:
    """A signed-in session for ``user`` (the database session store gunicorn reads too)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def screens(tenant) -> list[tuple[str, str, dict]]:
    """``(label, path, extra headers)`` of every screen to time, objects picked from the data."""
    from django.urls import NoReverseMatch, reverse

    from inventory.models import CountSession, Lot, Order, Product
    from warehouse.models import Location
    from warehouse.tenancy import tenant_context

    with tenant_context(tenant.id):
        picking = Order.objects.filter(status="PICKING").order_by("id").first()
        count = CountSession.objects.filter(status="OPEN").order_by("id").first()
        reviewed = CountSession.objects.filter(status="SUBMITTED").order_by("id").first()
        product = Product.objects.order_by("sku")[min(4241, Product.objects.count() - 1)]
        lot = Lot.objects.filter(product=product).order_by("id").first()
        shipped_lot = (
            Lot.objects.filter(ledger_entries__kind="SHIP").order_by("id").values("id").first()
        )
        order = Order.objects.filter(status="OPEN").order_by("id").first()
        location = Location.objects.filter(code="A-120").first()

    def fragment(region: str) -> dict:
        return {"HX-Request": "true", "HX-Target": region}

    wanted = [
        ("home", "home", {}, "", {}),
        ("stock, first page", "inventory:stock", {}, "", {}),
        ("stock, by available, page 40", "inventory:stock", {}, "?sort=-available&page=40",
         fragment("stock-table")),
        ("stock, search 'olive'", "inventory:stock", {}, "?q=olive", fragment("stock-table")),
        ("QC queue", "inventory:qc-queue", {}, "", {}),
        ("QC history", "inventory:qc-history", {}, "", {}),
        ("receive", "inventory:receive", {}, "", {}),
        ("orders", "inventory:orders", {}, "", {}),
        ("orders, shipped, page 5", "inventory:orders", {}, "?status=SHIPPED&page=5",
         fragment("orders-table")),
        ("order", "inventory:order", {"order_id": order.id}, "", {}),
        ("pick", "inventory:pick", {"order_id": picking.id}, "", {}),
        ("put-away", "inventory:put-away", {}, "", {}),
        ("move", "inventory:move", {}, "", {}),
        ("bin", "inventory:bin", {"location_id": location.id}, "", {}),
        ("adjustments", "inventory:adjustments", {}, "", {}),
        ("counts", "inventory:counts", {}, "", {}),
        ("count sheet", "inventory:count", {"session_id": count.id}, "", {}),
        ("count review", "inventory:count-review", {"session_id": reviewed.id}, "", {}),
        ("count review, by value (fragment)", "inventory:count-review",
         {"session_id": reviewed.id}, "?sort=-variance_value", fragment("review-table")),
        ("products, search 'olive'", "inventory:products", {}, "?q=olive", {}),
        ("product", "inventory:product", {"product_id": product.id}, "", {}),
        ("product history, receipts, page 3", "inventory:product", {"product_id": product.id},
         "?kind=RECEIPT&page=3", fragment("history-table")),
        ("lot trace", "inventory:lot", {"lot_id": (shipped_lot or {"id": lot.id})["id"]}, "", {}),
        ("lot trace CSV", "inventory:lot-trace-csv",
         {"lot_id": (shipped_lot or {"id": lot.id})["id"]}, "", {}),
        ("customer trace", "inventory:trace", {}, "?customer=Customer+42", {}),
    ]  # fmt: skip
    found = []
    for label, name, kwargs, query, headers in wanted:
        try:
            found.append((label, reverse(name, kwargs=kwargs) + query, headers))
        except NoReverseMatch:
            print(f"  (no screen {name}: skipped)")
    return found


def time_screen(port: int, cookie: str, path: str, headers: dict, requests: int):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Cookie": cookie, **headers}
    timings, status, size = [], None, 0
    for attempt in range(requests + 3):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        status, size = response.status, len(body)
        if attempt >= 3:
            timings.append(elapsed * 1000)
    connection.close()
    timings.sort()
    return statistics.median(timings), percentile(timings, 0.95), status, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--products", type=int, default=PRODUCTS)
    parser.add_argument("--entries", type=int, default=ENTRIES)
    args = parser.parse_args()
    with throwaway_database(DATABASE):
        started = time.perf_counter()
        tenant, manager = load(products=args.products, entries=args.entries)
        print(
            f"Loaded {args.products:,} products, {args.products * LOTS_PER_PRODUCT:,} lots, "
            f"{args.entries:,} ledger entries, {ORDERS:,} orders in "
            f"{time.perf_counter() - started:.0f} s"
        )
        targets = screens(tenant)
        cookie = session_cookie(manager)
        connections.close_all()
        # The hashed assets the pages name, collected as make run collects them.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=BASE_DIR,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"},
            check=True,
        )
        port = free_port()
        log_path = Path(tempfile.gettempdir()) / "stockyard-screens-gunicorn.log"
        with run_gunicorn(port, log_path, database=DATABASE):
            print(f"\n{'screen':<38} {'median ms':>10} {'p95 ms':>8} {'status':>7} {'bytes':>9}")
            for label, path, headers in targets:
                median, p95, status, size = time_screen(port, cookie, path, headers, args.requests)
                kind = " (fragment)" if headers else ""
                print(f"{label + kind:<38} {median:>10.1f} {p95:>8.1f} {status:>7} {size:>9,}")


if __name__ == "__main__":
    main()

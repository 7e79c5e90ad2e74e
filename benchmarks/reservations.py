"""Reservation throughput and latency: the service, the HTTP API and raw SQL, side by side.

Run with ``.venv/bin/python benchmarks/reservations.py [--seconds 10] [--concurrency 8]``.

Everything happens in a throwaway database (``stockyard_bench_reservations``,
created, migrated and dropped by the script) on the same PostgreSQL server
the app uses. Two scenarios, each with its own tenant:

* **hot SKU**: every request reserves one unit of the same product (four
  approved lots in four bins, ten million units each, so nothing runs out);
* **spread SKUs**: each request reserves one unit of one of 1,000 products
  (one lot each) chosen at random.

Each scenario is driven three ways, one after the other, by ``--concurrency``
client processes (forked, one connection each) for ``--seconds`` after a
warm-up:

* **raw SQL**: ``benchmarks/rawsql.py``, psycopg as the app role, the same
  locking (FEFO, ``FOR UPDATE SKIP LOCKED``), conditional balance update and
  ledger insert in the fewest round trips;
* **service**: the reservation service called in-process, through
  ``run_in_transaction`` exactly as the API calls it;
* **HTTP**: ``POST /api/v1/reservations`` through gunicorn (started here on
  127.0.0.1 and an ephemeral port, ``config.settings.production``, gthread
  workers with persistent database connections), from keep-alive
  ``http.client`` connections; one more process reads ``GET /api/v1/stock``
  at a steady pace meanwhile and reports its latency.

It then counts the queries of one reservation (service call, and a whole API
request) and profiles the in-process service with cProfile.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import http.client
import io
import json
import os
import pstats
import random
import secrets
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "benchmarks"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
# As in production: no query log kept in memory (CaptureQueriesContext still counts).
os.environ.setdefault("DJANGO_DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from benchmarks.harness import (  # noqa: E402
    app_conninfo,
    cpu_by_process,
    cpu_seconds,
    cpu_spent,
    fork_workers,
    load_stock,
    machine_busy_seconds,
    percentile,
    postmaster_pid,
    process_tree,
    server_environment,
    serving,
    throwaway_database,
)

DATABASE = "stockyard_bench_reservations"
READ_INTERVAL = 0.02  # one stock read every 20 ms while the HTTP load runs


# -- the scenarios -------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    tenant_id: int
    warehouse_id: int
    warehouse_code: str
    product_ids: list[int]
    skus: list[str]
    token: str = ""

    def pick(self, rng: random.Random) -> int:
        return 0 if len(self.product_ids) == 1 else rng.randrange(len(self.product_ids))


def prepare_targets(products: int) -> list[Target]:
    from inventory.core.tokens import issue_api_token

    targets = []
    for name, slug, count, lots, units in (
        ("hot SKU", "bench-hot", 1, 4, 10_000_000),
        (f"spread ({products:,} SKUs)", "bench-spread", products, 1, 1_000_000),
    ):
        stock = load_stock(
            tenant_slug=slug,
            products=count,
            lots_per_product=lots,
            units_per_lot=units,
            locations=min(50, max(4, count)),
            prefix="HOT-" if count == 1 else "SPREAD-",
        )
        _, secret = issue_api_token(tenant=stock.tenant, name="benchmark")
        targets.append(
            Target(
                name=name,
                tenant_id=stock.tenant.id,
                warehouse_id=stock.warehouse.id,
                warehouse_code=stock.warehouse.code,
                product_ids=stock.product_ids,
                skus=stock.skus,
                token=secret,
            )
        )
    return targets


# -- the three clients ---------------------------------------------------------------------


class ServiceClient:
    """The reservation service in this process, one transaction (with retries) per call."""

    def __init__(self, target: Target):
        from inventory.ledger.posting import SYSTEM
        from inventory.models import Product
        from warehouse.models import Tenant, Warehouse
        from warehouse.tenancy import tenant_context

        self.tenant = Tenant.objects.get(pk=target.tenant_id)
        with tenant_context(self.tenant.id):
            self.warehouse = Warehouse.objects.get(pk=target.warehouse_id)
            by_id = Product.objects.in_bulk(target.product_ids)
        self.products = [by_id[pk] for pk in target.product_ids]
        self.actor = SYSTEM

    def reserve(self, index: int) -> None:
        from inventory.core.transactions import run_in_transaction
        from inventory.reservations.allocation import reserve_stock
        from inventory.reservations.requests import LineRequest

        lines = [LineRequest(product=self.products[index], quantity=Decimal(1))]
        run_in_transaction(
            lambda: reserve_stock(
                tenant=self.tenant, warehouse=self.warehouse, lines=lines, actor=self.actor
            ),
            tenant_id=self.tenant.id,
        )

    def close(self) -> None:
        pass


class RawClient:
    def __init__(self, target: Target):
        from rawsql import RawReservations

        self.target = target
        self.client = RawReservations(
            app_conninfo(), tenant_id=target.tenant_id, warehouse_id=target.warehouse_id
        )

    def reserve(self, index: int) -> None:
        self.client.reserve(self.target.product_ids[index], Decimal(1))

    def close(self) -> None:
        self.client.close()


class HttpError(Exception):
    def __init__(self, status: int, code: str):
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code


class HttpClient:
    """One keep-alive HTTP/1.1 connection to the API."""

    def __init__(self, target: Target, port: int):
        self.target = target
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {
            "Authorization": f"Bearer {target.token}",
            "Content-Type": "application/json",
        }

    def request(self, method: str, path: str, body: dict | None = None, **headers) -> bytes:
        payload = None if body is None else json.dumps(body)
        try:
            self.connection.request(method, path, body=payload, headers={**self.headers, **headers})
            response = self.connection.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            # Never resend (a POST may have taken effect): count it, reconnect for the next.
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            raise HttpError(0, "CONNECTION") from None
        if response.status >= 300:
            try:
                code = json.loads(data)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = "?"
            raise HttpError(response.status, code)
        return data

    def reserve(self, index: int) -> None:
        self.request(
            "POST",
            "/api/v1/reservations",
            {
                "warehouse": self.target.warehouse_code,
                "lines": [{"sku": self.target.skus[index], "quantity": 1}],
            },
            **{"Idempotency-Key": str(uuid.uuid4())},
        )

    def read_stock(self, index: int) -> None:
        self.request(
            "GET",
            f"/api/v1/stock?sku={self.target.skus[index]}&warehouse={self.target.warehouse_code}",
        )

    def close(self) -> None:
        self.connection.close()


# -- one cell: N clients for a while -------------------------------------------------------


def client_loop(mode: str, target: Target, port: int, measure_from: float, until: float, seed: int):
    """Run requests back to back until ``until``; return (latencies, outcomes) of the window.

    ``measure_from`` and ``until`` are ``time.perf_counter()`` values of the
    parent (a system-wide monotonic clock), so every client measures the same
    window. A request counts for throughput when it completes inside the
    window; its latency counts when it completes after ``measure_from``, so a
    request stalled past the end still shows in the percentiles.
    """
    rng = random.Random(seed)
    if mode == "raw":
        client = RawClient(target)
    elif mode == "service":
        client = ServiceClient(target)
    else:
        client = HttpClient(target, port)
    call = client.read_stock if mode == "read" else client.reserve
    latencies: list[float] = []
    outcomes: Counter = Counter()
    try:
        while (begin := time.perf_counter()) < until:
            try:
                call(target.pick(rng))
                outcome = "OK"
            except Exception as error:
                outcome = getattr(error, "code", None) or type(error).__name__
            end = time.perf_counter()
            if end >= measure_from:
                latencies.append(end - begin)
                if end <= until:
                    outcomes[outcome] += 1
            if mode == "read":
                time.sleep(max(0.0, READ_INTERVAL - (end - begin)))
    finally:
        client.close()
    return latencies, outcomes


@dataclass
class Cell:
    scenario: str
    client: str
    requests: int
    seconds: float
    p50: float
    p99: float
    outcomes: Counter
    reads: tuple[int, float, float, Counter] | None = None
    cpu: dict[str, float] | None = None  # CPU milliseconds per completed reservation
    machine_busy: float = 0.0  # share of both cores busy during the window, all processes

    @property
    def rate(self) -> float:
        return self.outcomes.get("OK", 0) / self.seconds


def _cpu_sample(gunicorn_pid: int | None) -> dict:
    """CPU seconds so far per process of the clients, gunicorn and PostgreSQL; machine total."""
    server = set(process_tree(gunicorn_pid)) if gunicorn_pid else set()
    clients = [pid for pid in process_tree(os.getpid()) if pid != os.getpid() and pid not in server]
    busy, _ = machine_busy_seconds()
    return {
        "clients": cpu_by_process(clients),
        "gunicorn": cpu_by_process(list(server)),
        "postgres": cpu_by_process(process_tree(postmaster_pid() or 0)),
        "machine": busy,
    }


def run_cell(
    mode: str,
    target: Target,
    *,
    concurrency: int,
    warmup: float,
    seconds: float,
    port: int = 0,
    gunicorn_pid: int | None = None,
    reads: bool = False,
) -> Cell:
    # Fresh planner statistics for every cell, as autovacuum would keep them
    # in a steady state (the previous cell added thousands of reservations).
    with connections["owner"].cursor() as cursor:
        cursor.execute("ANALYZE")
    # Time to fork and connect, then the warm-up, then the measured window.
    measure_from = time.perf_counter() + 1.0 + warmup
    until = measure_from + seconds
    arguments = [(mode, target, port, measure_from, until, seed) for seed in range(concurrency)]
    if reads:
        arguments.append(("read", target, port, measure_from, until, 10_000))
    samples = []

    def sample_window() -> None:
        for moment in (measure_from, until):
            time.sleep(max(0.0, moment - time.perf_counter()))
            samples.append((_cpu_sample(gunicorn_pid), time.perf_counter()))

    results = fork_workers(client_loop, arguments, meanwhile=sample_window)
    for result in results:
        if isinstance(result, Exception):
            raise result
    latencies = sorted(value for values, _ in results[:concurrency] for value in values)
    outcomes = sum((outcome for _, outcome in results[:concurrency]), Counter())
    cell = Cell(
        scenario=target.name,
        client={"raw": "raw SQL", "service": "service in-process", "http": "HTTP (gunicorn)"}[mode],
        requests=len(latencies),
        seconds=seconds,
        p50=percentile(latencies, 0.50) * 1000,
        p99=percentile(latencies, 0.99) * 1000,
        outcomes=outcomes,
    )
    (first, started), (last, ended) = samples
    completed = max(1, sum(outcomes.values()))
    spent = {
        name: last[name] - first[name] if name == "machine" else cpu_spent(first[name], last[name])
        for name in first
    }
    ours = spent["clients"] + spent["gunicorn"] + spent["postgres"]
    cell.cpu = {
        "clients": spent["clients"] * 1000 / completed,
        "gunicorn": spent["gunicorn"] * 1000 / completed,
        "postgres": spent["postgres"] * 1000 / completed,
        "other processes": max(0.0, spent["machine"] - ours) * 1000 / completed,
    }
    cell.machine_busy = spent["machine"] / ((ended - started) * (os.cpu_count() or 1))
    if reads:
        read_latencies, read_outcomes = results[-1]
        read_latencies = sorted(read_latencies)
        cell.reads = (
            len(read_latencies),
            percentile(read_latencies, 0.50) * 1000,
            percentile(read_latencies, 0.99) * 1000,
            read_outcomes,
        )
    return cell


# -- gunicorn ------------------------------------------------------------------------------


@contextlib.contextmanager
def gunicorn(*, workers: int, threads: int, log_path: Path):
    """gunicorn on 127.0.0.1 and a port the kernel picks; stopped (and waited for) on exit."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    port = listener.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        # The throwaway database on the very server this process uses.
        **server_environment(DATABASE),
        "DATABASE_CONN_MAX_AGE": "600",
        "STOCKYARD_PGDATA": os.environ.get("STOCKYARD_PGDATA", str(BASE_DIR / ".pgdata")),
        "PYTHONPATH": str(BASE_DIR),
    }
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application",
        "--bind", f"fd://{listener.fileno()}",
        "--worker-class", "gthread",
        "--workers", str(workers),
        "--threads", str(threads),
        "--keep-alive", "60",
        "--log-level", "warning",
        "--graceful-timeout", "5",
    ]  # fmt: skip
    try:
        with serving(
            command,
            env=env,
            port=port,
            log_path=log_path,
            probe="/api/v1/stock?sku=x",
            pass_fds=(listener.fileno(),),
        ) as pid:
            yield port, pid
    finally:
        listener.close()


# -- round trips and profile ---------------------------------------------------------------


def count_queries(target: Target) -> tuple[list[str], list[str]]:
    """The SQL of one service reservation, and of one whole API request (in-process client)."""
    from django.test import Client

    client = ServiceClient(target)
    client.reserve(0)  # warm caches (content types, prepared plans) first
    with CaptureQueriesContext(connection) as service_queries:
        client.reserve(0)
    api = Client(HTTP_HOST="127.0.0.1")
    body = {"warehouse": target.warehouse_code, "lines": [{"sku": target.skus[0], "quantity": 1}]}

    def post(key):
        return api.post(
            "/api/v1/reservations",
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {target.token}", "Idempotency-Key": key},
        )

    post("q-0")  # the token's first use records it (once a minute): not a steady request
    with CaptureQueriesContext(connection) as api_queries:
        response = post("q-1")
    if response.status_code != 201:
        raise RuntimeError(f"API reservation failed: {response.status_code} {response.content!r}")
    return (
        [query["sql"] for query in service_queries.captured_queries],
        [query["sql"] for query in api_queries.captured_queries],
    )


def serial_costs(target: Target, calls: int) -> dict[str, tuple[float, float, float]]:
    """One client alone: wall, client CPU and server (backend) CPU milliseconds per reservation."""
    costs = {}
    for name, client in (("raw SQL", RawClient(target)), ("service", ServiceClient(target))):
        client.reserve(0)
        if isinstance(client, RawClient):
            backend = client.client.connection.info.backend_pid
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend = cursor.fetchone()[0]
        wall, cpu, server = time.perf_counter(), time.process_time(), cpu_seconds([backend])
        for _ in range(calls):
            client.reserve(0)
        costs[name] = (
            (time.perf_counter() - wall) * 1000 / calls,
            (time.process_time() - cpu) * 1000 / calls,
            (cpu_seconds([backend]) - server) * 1000 / calls,
        )
        client.close()
    return costs


def profile_service(target: Target, calls: int) -> str:
    client = ServiceClient(target)
    client.reserve(0)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        client.reserve(0)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(18)
    return out.getvalue()


# -- report --------------------------------------------------------------------------------


def cpu_table(cells: list[Cell]) -> str:
    lines = [
        "CPU milliseconds per reservation in the measured window (2 cores = 2,000 ms per second)",
        f"{'scenario':<22} {'client':<20} {'clients':>8} {'gunicorn':>9} {'postgres':>9} "
        f"{'others':>7} {'machine busy':>13}",
        "-" * 96,
    ]
    for cell in cells:
        cpu = cell.cpu or {}
        lines.append(
            f"{cell.scenario:<22} {cell.client:<20} {cpu.get('clients', 0):>8.2f} "
            f"{cpu.get('gunicorn', 0):>9.2f} {cpu.get('postgres', 0):>9.2f} "
            f"{cpu.get('other processes', 0):>7.2f} {cell.machine_busy:>12.0%}"
        )
    return "\n".join(lines)


def table(cells: list[Cell]) -> str:
    raw_rates = {cell.scenario: cell.rate for cell in cells if cell.client == "raw SQL"}
    lines = [
        f"{'scenario':<22} {'client':<20} {'res/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'vs raw':>7}  outcomes",
        "-" * 96,
    ]
    for cell in cells:
        ratio = cell.rate / raw_rates[cell.scenario] if raw_rates.get(cell.scenario) else 0
        outcomes = ", ".join(f"{code} {count}" for code, count in cell.outcomes.most_common())
        lines.append(
            f"{cell.scenario:<22} {cell.client:<20} {cell.rate:>8,.0f} {cell.p50:>8.1f} "
            f"{cell.p99:>8.1f} {ratio:>6.2f}x  {outcomes}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="measured time per cell")
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--concurrency", type=int, default=8, help="client processes per cell")
    parser.add_argument("--products", type=int, default=1000, help="SKUs of the spread scenario")
    parser.add_argument("--http-workers", type=int, default=3)
    parser.add_argument("--http-threads", type=int, default=4)
    parser.add_argument("--only", choices=["raw", "service", "http"], action="append")
    parser.add_argument(
        "--raw-lock-batch",
        type=int,
        default=None,
        help="rows the raw client locks per pass (default: the service's batch)",
    )
    args = parser.parse_args()
    modes = args.only or ["raw", "service", "http"]
    if args.raw_lock_batch:
        import rawsql

        rawsql.LOCK_BATCH = args.raw_lock_batch

    print(
        f"Reservations benchmark: {args.concurrency} clients per cell, {args.warmup:g} s warm-up, "
        f"{args.seconds:g} s measured; {os.cpu_count()} CPUs"
    )
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with throwaway_database(DATABASE):
        targets = prepare_targets(args.products)
        cells: list[Cell] = []
        log_path = Path(tempfile.gettempdir()) / "stockyard-bench-gunicorn.log"
        server = (
            gunicorn(workers=args.http_workers, threads=args.http_threads, log_path=log_path)
            if "http" in modes
            else contextlib.nullcontext((0, None))
        )
        with server as (port, gunicorn_pid):
            for target in targets:
                for mode in modes:
                    cell = run_cell(
                        mode,
                        target,
                        concurrency=args.concurrency,
                        warmup=args.warmup,
                        seconds=args.seconds,
                        port=port,
                        gunicorn_pid=gunicorn_pid,
                        reads=mode == "http",
                    )
                    cells.append(cell)
                    print(
                        f"  measured: {cell.scenario} / {cell.client}: {cell.rate:,.0f} res/s",
                        flush=True,
                    )
        print()
        print(table(cells))
        print()
        print(cpu_table(cells))
        print()
        for cell in cells:
            if cell.reads:
                count, p50, p99, outcomes = cell.reads
                print(
                    f"GET /api/v1/stock under {cell.scenario} HTTP reservation load: "
                    f"{count} reads, "
                    f"p50 {p50:.1f} ms, p99 {p99:.1f} ms ({dict(outcomes)})"
                )
        if "http" in modes:
            print(
                f"gunicorn: {args.http_workers} gthread workers x {args.http_threads} threads, "
                "config.settings.production, DATABASE_CONN_MAX_AGE=600"
            )

        spread = targets[-1]
        service_sql, api_sql = count_queries(spread)
        print(
            f"\nRound trips per reservation (one line, one unit), BEGIN and COMMIT included: "
            f"service {len(service_sql)}, whole API request {len(api_sql)}, raw SQL client 5"
        )
        print("\n== SQL of one service reservation")
        for number, sql in enumerate(service_sql, 1):
            print(f"  {number:>2}. {' '.join(sql.split())[:150]}")
        print("\n== SQL of one API request (POST /api/v1/reservations)")
        for number, sql in enumerate(api_sql, 1):
            print(f"  {number:>2}. {' '.join(sql.split())[:150]}")

        costs = serial_costs(spread, 300)
        print("\n== One client alone, 300 reservations of one SKU (ms per reservation)")
        for name, (wall, cpu, server) in costs.items():
            print(
                f"  {name:<8} wall {wall:.2f}  client CPU {cpu:.2f}  PostgreSQL backend CPU "
                f"{server:.2f}"
            )
        print("\n== cProfile of 300 in-process service reservations (by own time)")
        print(profile_service(spread, 300))
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()

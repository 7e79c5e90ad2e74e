"""A burst of clients, a new connection per request, against the server ``make run`` starts.

Run with ``.venv/bin/python benchmarks/connection_burst.py [--connections 32] [--seconds 20]``.

gunicorn is started exactly as ``make run`` starts it (``gunicorn.conf.py``,
DEBUG off) on 127.0.0.1 and a free port, against a throwaway database
(``stockyard_bench_burst``) on the same PostgreSQL server. ``wrk`` (a C load
generator, Debian's package; ``apt-get install wrk``) then sends
``POST /api/v1/reservations`` of one unit of a random SKU from
``--connections`` connections, each closed after its request
(``Connection: close``), for ``--seconds``. There is less stock than the
burst asks for, so the answers are a mix of 201 and 409.

The script prints: the answers by status, socket errors (connect, read,
write, timeout: a reset shows here), the rate and latency, the most app-role
connections PostgreSQL had open at any moment (sampled every 20 ms) against
the bound ``gunicorn.conf.py`` sets (workers x threads), and the CPU per
request of the server and of PostgreSQL, read from ``/proc``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import runpy
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DJANGO_DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402

from benchmarks.harness import (  # noqa: E402
    cpu_by_process,
    cpu_spent,
    load_stock,
    postmaster_pid,
    process_tree,
    server_environment,
    serving,
    throwaway_database,
)

DATABASE = "stockyard_bench_burst"

LUA = r"""
local skus = {%(skus)s}
local counter = 0
statuses = {}
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(id * 7919)
end

function request()
  counter = counter + 1
  local sku = skus[math.random(#skus)]
  local body = '{"warehouse": "MAIN", "lines": [{"sku": "' .. sku .. '", "quantity": 1}]}'
  return wrk.format("POST", "/api/v1/reservations", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer %(token)s",
    ["Idempotency-Key"] = "burst-" .. id .. "-" .. counter,
    ["Connection"] = "close",
  }, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %%d %%d\n", status, count))
  end
  io.write(string.format("p50_ms %%.1f\np99_ms %%.1f\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def run_gunicorn(port: int, log_path: Path, database: str = DATABASE):
    """gunicorn as ``make run`` starts it, on ``port`` and ``database``; stopped on exit."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        # A caller that signs sessions in itself passes its key along.
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(64),
        "DJANGO_LOG_LEVEL": "WARNING",
        "GUNICORN_ACCESS_LOG": "/dev/null",
        **server_environment(database),
        "PYTHONPATH": str(BASE_DIR),
    }
    env.pop("DATABASE_POOL_MAX_SIZE", None)
    command = [
        sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
        "--bind", f"127.0.0.1:{port}",
    ]  # fmt: skip
    with serving(command, env=env, port=port, log_path=log_path) as pid:
        yield pid


class ConnectionSampler(threading.Thread):
    """The most app-role connections to the bench database seen at once."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.peak = 0
        self.samples = 0

    def run(self):
        try:
            with connections["maintenance"].cursor() as cursor:
                while not self.stop.is_set():
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND usename = %s",
                        [
                            connections["default"].settings_dict["NAME"],
                            connections["default"].settings_dict["USER"],
                        ],
                    )
                    self.peak = max(self.peak, cursor.fetchone()[0])
                    self.samples += 1
                    time.sleep(0.02)
        finally:
            connections["maintenance"].close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--products", type=int, default=100)
    parser.add_argument("--units", type=int, default=10, help="units of stock per product")
    args = parser.parse_args()
    from django.conf import settings

    from inventory.core.tokens import issue_api_token

    with throwaway_database(DATABASE):
        stock = load_stock(
            tenant_slug="burst", products=args.products, units_per_lot=args.units, prefix="B-"
        )
        _, token = issue_api_token(tenant=stock.tenant, name="burst")
        connections["default"].close()  # only the server's connections are counted
        skus = ", ".join(f'"{sku}"' for sku in stock.skus)
        script = Path(tempfile.gettempdir()) / "stockyard-burst.lua"
        script.write_text(LUA % {"skus": skus, "token": token})
        port = free_port()
        log_path = Path(tempfile.gettempdir()) / "stockyard-burst-gunicorn.log"
        role = settings.DATABASES["default"]["USER"]
        with run_gunicorn(port, log_path) as gunicorn_pid:
            sampler = ConnectionSampler()
            sampler.start()
            server_pids = process_tree(gunicorn_pid)
            database_pids = process_tree(postmaster_pid() or 0)
            before = cpu_by_process(server_pids), cpu_by_process(database_pids)
            wrk = ["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{args.seconds}s"]
            wrk += ["--timeout", "30s", "-s", str(script), f"http://127.0.0.1:{port}"]
            try:
                result = subprocess.run(wrk, capture_output=True, text=True)
            finally:
                sampler.stop.set()
                sampler.join()
            if result.returncode:
                raise SystemExit(f"wrk failed:\n{result.stdout}\n{result.stderr}")
            server_cpu = cpu_spent(before[0], cpu_by_process(process_tree(gunicorn_pid)))
            database_cpu = cpu_spent(before[1], cpu_by_process(process_tree(postmaster_pid())))
        output = result.stdout
        statuses = {int(s): int(n) for s, n in re.findall(r"^status (\d+) (\d+)$", output, re.M)}
        requests = sum(statuses.values())
        errors = re.search(r"Socket errors: (.*)", output)
        rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
        p50 = re.search(r"^p50_ms ([\d.]+)", output, re.M)
        p99 = re.search(r"^p99_ms ([\d.]+)", output, re.M)
        config = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
        bound = config["workers"] * config["threads"]
        print(
            f"Burst: {args.connections} connections, a new one per request, {args.seconds} s, "
            f"POST /api/v1/reservations of 1 unit over {args.products} SKUs x {args.units} units; "
            f"{os.cpu_count()} CPUs"
        )
        print(f"answers by status: {dict(sorted(statuses.items()))} ({requests:,} requests)")
        print(f"socket errors: {errors.group(1) if errors else 'none'}")
        print(
            f"rate {float(rate.group(1)):,.0f} requests/s; "
            f"p50 {p50.group(1)} ms, p99 {p99.group(1)} ms"
        )
        print(
            f"most {role} connections at once: {sampler.peak} "
            f"(bound workers x threads = {bound}; {sampler.samples} samples)"
        )
        if requests:
            print(
                f"CPU per request: server {server_cpu / requests * 1000:.2f} ms, "
                f"PostgreSQL {database_cpu / requests * 1000:.2f} ms"
            )


if __name__ == "__main__":
    main()

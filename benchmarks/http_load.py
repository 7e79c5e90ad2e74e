"""Reservations and stock reads over HTTP against the server ``make run`` starts, driven by wrk.

Run with ``.venv/bin/python benchmarks/http_load.py [--seconds 20] [--connections 32]``.

gunicorn is started as ``make run`` starts it (``gunicorn.conf.py``, DEBUG
off, a connection pool per worker) against a throwaway database
(``stockyard_bench_http``) on the same PostgreSQL server, with two tenants
of approved stock: **spread** (1,000 SKUs, one lot each) and **hot** (one
SKU in four lots), far more units than a run can reserve.

For each scenario ``wrk`` (a C load generator; installed with apt-get when
missing) sends ``POST /api/v1/reservations`` of one unit of a random SKU
from ``--connections`` keep-alive connections for ``--seconds``, while a
second ``wrk`` reads ``GET /api/v1/stock?sku=...`` from 4 connections. The
script prints, per scenario: reservations/s with p50 and p99 and their
answers, the reads' rate, p50 and p99, and the CPU of the server's process
tree and of PostgreSQL's over the window, per reservation (reads included:
the window's CPU divided by the reservations it completed) and per request.
Last, the statements of one ``POST /api/v1/reservations`` (as Django sends
them, in-process), i.e. its round trips.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
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

from connection_burst import LUA, free_port, run_gunicorn  # noqa: E402 (sets Django up)
from django.db import connections  # noqa: E402
from reservations import count_queries, prepare_targets  # noqa: E402

from benchmarks.harness import (  # noqa: E402
    admin_url,
    cpu_by_process,
    cpu_spent,
    postmaster_pid,
    process_tree,
    throwaway_database,
)

DATABASE = "stockyard_bench_http"
READ_CONNECTIONS = 4

READ_LUA = r"""
local skus = {%(skus)s}
statuses = {}
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(id * 104729)
end

function request()
  local sku = skus[math.random(#skus)]
  return wrk.format("GET", "/api/v1/stock?sku=" .. sku, {
    ["Authorization"] = "Bearer %(token)s",
  })
end
""" + LUA[LUA.index("function response(") :]


def loop_seconds() -> float:
    """CPU seconds of a fixed pure-Python loop: how fast this machine is today.

    Cloud machines vary from day to day; figures from two runs compare only
    when this does too.
    """
    started = time.process_time()
    total = 0
    for step in range(10_000_000):
        total += step
    return time.process_time() - started


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing Debian's wrk package", flush=True)
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*prefix, "apt-get", "install", "-y", "-qq", "wrk"], check=False)
    if not shutil.which("wrk"):
        subprocess.run([*prefix, "apt-get", "update", "-qq"], check=True)
        subprocess.run([*prefix, "apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk")


def parse(output: str) -> dict:
    statuses = {int(s): int(n) for s, n in re.findall(r"^status (\d+) (\d+)$", output, re.M)}
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "statuses": dict(sorted(statuses.items())),
        "requests": sum(statuses.values()),
        "p50": float(re.search(r"^p50_ms ([\d.]+)", output, re.M).group(1)),
        "p99": float(re.search(r"^p99_ms ([\d.]+)", output, re.M).group(1)),
        "errors": errors.group(1) if errors else "none",
    }


def run_scenario(wrk: str, target, port: int, gunicorn_pid: int, args) -> dict:
    folder = Path(tempfile.gettempdir())
    skus = ", ".join(f'"{sku}"' for sku in target.skus)
    reserve_script = folder / "stockyard-http-reserve.lua"
    # One-unit reservations; "Connection: close" off: keep-alive, as services do.
    reserve_script.write_text(
        (LUA % {"skus": skus, "token": target.token})
        .replace('    ["Connection"] = "close",\n', "")
        .replace('"warehouse": "MAIN"', f'"warehouse": "{target.warehouse_code}"')
        .replace('"burst-"', f'"http-{target.name[:3]}-"')
    )
    read_script = folder / "stockyard-http-read.lua"
    read_script.write_text(READ_LUA % {"skus": skus, "token": target.token})
    url = f"http://127.0.0.1:{port}"
    duration = ["-d", f"{args.seconds}s", "--timeout", "30s"]
    server_pids = process_tree(gunicorn_pid)
    database_pids = process_tree(postmaster_pid() or 0)
    before = cpu_by_process(server_pids), cpu_by_process(database_pids)
    readers = subprocess.Popen(
        [wrk, "-t", "1", "-c", str(READ_CONNECTIONS), *duration, "-s", str(read_script), url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    writers = subprocess.run(
        [wrk, "-t", "2", "-c", str(args.connections), *duration, "-s", str(reserve_script), url],
        capture_output=True,
        text=True,
    )
    reads_output = readers.communicate()[0]
    server_cpu = cpu_spent(before[0], cpu_by_process(process_tree(gunicorn_pid)))
    database_cpu = cpu_spent(before[1], cpu_by_process(process_tree(postmaster_pid())))
    if writers.returncode or readers.returncode:
        raise SystemExit(f"wrk failed:\n{writers.stdout}{writers.stderr}\n{reads_output}")
    return {
        "writes": parse(writers.stdout),
        "reads": parse(reads_output),
        "server_cpu": server_cpu,
        "database_cpu": database_cpu,
    }


# The statements PostgreSQL spent the most time on during the spread scenario,
# nested ones (inside the PL/pgSQL functions) included, planning apart.
PROFILE = """
    SELECT calls, total_exec_time, total_plan_time, query
      FROM pg_stat_statements
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     ORDER BY total_exec_time + total_plan_time DESC
     LIMIT %s
"""


def admin_connection():
    """A psycopg connection as the administrative login to the bench database."""
    import psycopg

    return psycopg.connect(admin_url(DATABASE), autocommit=True)


def start_statement_profile() -> bool:
    """Have pg_stat_statements track nested statements and planning; False when unavailable."""
    import psycopg

    try:
        with admin_connection() as admin:
            admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            for name, value in (("track", "all"), ("track_planning", "on")):
                setting = f"pg_stat_statements.{name} = '{value}'"
                admin.execute(f"ALTER DATABASE {DATABASE} SET {setting}")
            admin.execute("SELECT pg_stat_statements_reset()")
    except psycopg.Error as error:
        print(f"  (no statement profile: {str(error).strip()})")
        return False
    return True


def statement_profile(limit: int = 15) -> list[tuple]:
    with admin_connection() as admin:
        rows = admin.execute(PROFILE, [limit]).fetchall()
        admin.execute("SELECT pg_stat_statements_reset()")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--products", type=int, default=1000, help="SKUs of the spread scenario")
    args = parser.parse_args()
    wrk = ensure_wrk()
    print(
        f"HTTP load: {args.connections} keep-alive connections reserving, "
        f"{READ_CONNECTIONS} reading, {args.seconds} s per scenario; {os.cpu_count()} CPUs; "
        "gunicorn as make run starts it"
    )
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"machine speed: a 10-million-step Python loop takes {loop_seconds():.2f} s of CPU")
    with throwaway_database(DATABASE):
        hot, spread = prepare_targets(args.products)
        statements = count_queries(spread)[1]
        connections["default"].close()
        port = free_port()
        log_path = Path(tempfile.gettempdir()) / "stockyard-http-gunicorn.log"
        results = {}
        profiling = start_statement_profile()
        profile = []
        with run_gunicorn(port, log_path, database=DATABASE) as gunicorn_pid:
            for target in (spread, hot):
                if profiling:
                    statement_profile()  # only this scenario's statements from here
                results[target.name] = run_scenario(wrk, target, port, gunicorn_pid, args)
                if profiling and target is spread:
                    profile = statement_profile()
                print(f"  measured: {target.name}", flush=True)
    print()
    print(
        f"{'scenario':<22} {'res/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'reads/s':>8} "
        f"{'read p50':>9} {'read p99':>9}"
    )
    for name, result in results.items():
        writes, reads = result["writes"], result["reads"]
        print(
            f"{name:<22} {writes['requests'] / args.seconds:>7.0f} {writes['p50']:>8.1f} "
            f"{writes['p99']:>8.1f} {reads['requests'] / args.seconds:>8.0f} "
            f"{reads['p50']:>9.1f} {reads['p99']:>9.1f}"
        )
    print()
    for name, result in results.items():
        writes, reads = result["writes"], result["reads"]
        reservations = writes["statuses"].get(201, 0) or 1
        requests = (writes["requests"] + reads["requests"]) or 1
        print(f"{name}: reservations {writes['statuses']}, reads {reads['statuses']}")
        print(f"  socket errors: reservations {writes['errors']}; reads {reads['errors']}")
        print(
            f"  CPU per reservation: server {result['server_cpu'] * 1000 / reservations:.2f} ms, "
            f"PostgreSQL {result['database_cpu'] * 1000 / reservations:.2f} ms; "
            f"per request: server {result['server_cpu'] * 1000 / requests:.2f} ms, "
            f"PostgreSQL {result['database_cpu'] * 1000 / requests:.2f} ms"
        )
    if profile:
        reservations = results[spread.name]["writes"]["statuses"].get(201, 0) or 1
        print(
            f"\nPostgreSQL's time in the {spread.name} scenario by statement (pg_stat_statements,"
            " nested statements included, so a function's total holds its statements'),"
            " per reservation:"
        )
        print(f"{'calls':>8} {'exec ms':>8} {'plan ms':>8}  statement")
        for calls, exec_time, plan_time, query in profile:
            print(
                f"{calls:>8} {exec_time / reservations:>8.3f} {plan_time / reservations:>8.3f}  "
                f"{' '.join(query.split())[:110]}"
            )
    print(f"\nStatements of one POST /api/v1/reservations (in-process): {len(statements)}")
    for number, sql in enumerate(statements, 1):
        print(f"  {number:>2}. {' '.join(sql.split())[:150]}")
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()

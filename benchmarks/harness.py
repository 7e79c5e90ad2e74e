"""Load-test plumbing shared by the scripts in ``benchmarks/`` and the tests that start a server.

* ``throwaway_database(name)``: a database of its own (created through the
  ``owner`` role with Django's test-database machinery, migrated, dropped at
  the end), so a stress run never touches the development data;
* ``load_stock(...)``: a tenant, a warehouse, bins, products and approved lots
  with their ``RECEIPT`` entries and balances, written in bulk SQL (a few
  statements whatever the size) exactly as ``post_entries`` would leave them;
* ``check_invariants(...)``: what must hold after any amount of concurrency:
  no negative balance, reserved within on hand, every balance equal to its
  ledger (``inventory.reconcile``), and the ``RESERVE`` entries adding up;
* ``fork_workers(...)``: N worker processes, each with its own connection;
* ``serving(...)`` and ``server_environment(...)``: a server process (gunicorn)
  on a given database of the server in use, up until the block ends;
* CPU accounting of process trees from ``/proc``, and ``percentile``.

Nothing here is used by the application itself, and nothing in the
application imports it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from queue import Empty

from django.conf import settings
from django.db import connections

from config.database import connectable

DEFAULT_STRESS_DATABASE = "stockyard_stress"


@contextlib.contextmanager
def throwaway_database(name: str = DEFAULT_STRESS_DATABASE, *, verbosity: int = 0) -> Iterator[str]:
    """Create, migrate and finally drop database ``name``; every alias points at it meanwhile."""
    from django.test.utils import setup_databases, teardown_databases

    from warehouse.provisioning import provision_from_settings

    for alias in connections:
        settings.DATABASES[alias]["TEST"] = {
            **settings.DATABASES[alias].get("TEST", {}),
            "NAME": name,
        }
    provision_from_settings()
    config = setup_databases(verbosity=verbosity, interactive=False, aliases={"owner"})
    try:
        yield name
    finally:
        connections.close_all()
        teardown_databases(config, verbosity=verbosity)


def app_conninfo() -> dict:
    """psycopg connection keywords of the app role (``default``) on the current database."""
    database = connectable(connections["default"].settings_dict)
    params = {
        "dbname": database["NAME"],
        "user": database["USER"],
        "password": database.get("PASSWORD") or None,
        "host": database.get("HOST") or None,
        "port": database.get("PORT") or None,
        "application_name": "stockyard-bench",
    }
    return {key: value for key, value in params.items() if value}


def admin_url(database: str) -> str:
    """A ``DATABASE_URL`` naming ``database`` on the server the settings use (for gunicorn)."""
    from urllib.parse import quote

    admin = connectable(settings.ADMIN_DATABASE)
    login = quote(admin.get("USER") or "postgres", safe="")
    if admin.get("PASSWORD"):
        login += ":" + quote(admin["PASSWORD"], safe="")
    host = admin.get("HOST") or ""
    if host.startswith("/"):
        return f"postgresql://{login}@/{database}?host={quote(host, safe='/')}"
    port = f":{admin['PORT']}" if admin.get("PORT") else ""
    return f"postgresql://{login}@{host}{port}/{database}"


def server_environment(database: str) -> dict[str, str]:
    """Environment for a server process (gunicorn) on ``database`` of the server in use.

    The app roles' password goes along: on the embedded server it is not the
    administrative login's.
    """
    return {
        "DATABASE_URL": admin_url(database),
        "DATABASE_ROLE_PASSWORD": connectable(settings.DATABASES["default"])["PASSWORD"] or "",
    }


@contextlib.contextmanager
def serving(
    command: list[str],
    *,
    env: dict,
    port: int,
    log_path,
    probe: str = "/healthz",
    pass_fds: tuple[int, ...] = (),
) -> Iterator[int]:
    """Run a server ``command``, wait until ``GET probe`` answers on ``port``; its pid.

    The server is stopped (and waited for) on exit; its output goes to ``log_path``.
    """
    import http.client
    import subprocess
    import time

    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command,
            cwd=str(settings.BASE_DIR),
            env=env,
            pass_fds=pass_fds,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server ended at start-up; see {log_path}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", probe)
                connection.getresponse().read()
                connection.close()
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer within 60 s; see {log_path}")
            time.sleep(0.3)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- bulk stock ----------------------------------------------------------------------------

_PRODUCTS = """
INSERT INTO inventory_product (tenant_id, sku, name, uom, qc_required, unit_cost, attributes,
                               is_active, created_at)
SELECT %(tenant)s, %(prefix)s || lpad(n::text, 5, '0'), 'Stress item ' || n, 'ea', false, 1.50,
       '{}'::jsonb, true, now()
  FROM generate_series(1, %(products)s) AS n
"""

_LOCATIONS = """
INSERT INTO warehouse_location (tenant_id, warehouse_id, code, kind, pick_sequence, is_active)
SELECT %(tenant)s, %(warehouse)s, %(prefix)s || lpad(n::text, 3, '0'), 'storage', n, true
  FROM generate_series(1, %(locations)s) AS n
"""

# Lot n of a product expires n weeks out: FEFO takes lot 1 first, then lot 2, ...
_LOTS = """
INSERT INTO inventory_lot (tenant_id, product_id, code, expires_on, received_at, unit_cost,
                           qc_status, qc_at, qc_note)
SELECT %(tenant)s, p.id, 'L' || n, current_date + 7 * n, now() - n * interval '1 day',
       1.50, 'APPROVED', now(), ''
  FROM inventory_product p, generate_series(1, %(lots_per_product)s) AS n
 WHERE p.tenant_id = %(tenant)s AND p.sku LIKE %(prefix)s || '%%'
"""

# Each lot goes to one bin (lots of a product to consecutive bins).
_RECEIPTS = """
WITH bins AS (
    SELECT array_agg(id ORDER BY id) AS ids FROM warehouse_location
     WHERE tenant_id = %(tenant)s AND warehouse_id = %(warehouse)s AND code LIKE %(prefix)s || '%%'
), lots AS (
    SELECT l.id, l.product_id, row_number() OVER (ORDER BY l.product_id, l.id) AS n
      FROM inventory_lot l JOIN inventory_product p ON p.id = l.product_id
     WHERE l.tenant_id = %(tenant)s AND p.sku LIKE %(prefix)s || '%%'
)
INSERT INTO inventory_ledgerentry (tenant_id, occurred_at, kind, product_id, warehouse_id,
                                   location_id, lot_id, quantity, reason, operation_id)
SELECT %(tenant)s, now(), 'RECEIPT', lots.product_id, %(warehouse)s,
       bins.ids[1 + (lots.n - 1) %% cardinality(bins.ids)], lots.id, %(units)s, '', %(operation)s
  FROM lots, bins
"""

_BALANCES = """
INSERT INTO inventory_balance (tenant_id, lot_id, location_id, product_id, warehouse_id,
                               on_hand, reserved, updated_at)
SELECT tenant_id, lot_id, location_id, product_id, warehouse_id, sum(quantity), 0, now()
  FROM inventory_ledgerentry WHERE tenant_id = %(tenant)s AND operation_id = %(operation)s
 GROUP BY tenant_id, lot_id, location_id, product_id, warehouse_id
"""


@dataclass
class Stock:
    """What ``load_stock`` made: the tenant, its warehouse and the SKUs, in order."""

    tenant: object
    warehouse: object
    skus: list[str]
    product_ids: list[int]
    units_per_product: Decimal


def load_stock(
    *,
    tenant_slug: str,
    products: int,
    lots_per_product: int = 1,
    units_per_lot: int | Decimal = 1000,
    locations: int = 20,
    prefix: str = "SKU-",
    warehouse_code: str = "MAIN",
) -> Stock:
    """A tenant with one warehouse holding ``products`` x ``lots_per_product`` approved lots."""
    from inventory.catalog.services import create_warehouse
    from inventory.models import Product
    from warehouse.models import Tenant
    from warehouse.tenancy import tenant_context

    tenant, _ = Tenant.objects.get_or_create(slug=tenant_slug, defaults={"name": tenant_slug})
    warehouse = create_warehouse(tenant=tenant, code=warehouse_code, name=f"{warehouse_code} DC")
    params = {
        "tenant": tenant.id,
        "warehouse": warehouse.id,
        "products": products,
        "lots_per_product": lots_per_product,
        "locations": locations,
        "units": Decimal(units_per_lot),
        "prefix": prefix,
    }
    with tenant_context(tenant.id), connections["default"].cursor() as cursor:
        cursor.execute(_PRODUCTS, params)
        cursor.execute(_LOCATIONS, params)
        cursor.execute(_LOTS, params)
        cursor.execute(
            "INSERT INTO inventory_operation (tenant_id, key, kind, fingerprint, created_at) "
            "VALUES (%s, %s, 'stress.load', '', now()) RETURNING id",
            [tenant.id, f"stress-load-{prefix}"],
        )
        params["operation"] = cursor.fetchone()[0]
        cursor.execute(_RECEIPTS, params)
        cursor.execute(_BALANCES, params)
        rows = list(
            Product.objects.filter(sku__startswith=prefix).order_by("sku").values_list("id", "sku")
        )
    with connections["owner"].cursor() as cursor:
        cursor.execute("ANALYZE")
    return Stock(
        tenant=tenant,
        warehouse=warehouse,
        skus=[sku for _, sku in rows],
        product_ids=[pk for pk, _ in rows],
        units_per_product=Decimal(units_per_lot) * lots_per_product,
    )


# -- invariants ----------------------------------------------------------------------------

_BALANCE_FIGURES = """
SELECT count(*),
       count(*) FILTER (WHERE on_hand < 0),
       count(*) FILTER (WHERE reserved < 0),
       count(*) FILTER (WHERE reserved > on_hand),
       coalesce(sum(on_hand), 0), coalesce(sum(reserved), 0)
  FROM inventory_balance WHERE tenant_id = %s
"""

_LEDGER_FIGURES = """
SELECT kind, count(*), coalesce(sum(quantity), 0)
  FROM inventory_ledgerentry WHERE tenant_id = %s GROUP BY kind ORDER BY kind
"""


@dataclass
class InvariantReport:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    ledger: dict[str, tuple[int, Decimal]] = field(default_factory=dict)
    on_hand: Decimal = Decimal(0)
    reserved: Decimal = Decimal(0)

    def check(self, ok: bool, text: str) -> None:
        self.lines.append(f"[{'ok' if ok else 'FAILED'}] {text}")
        if not ok:
            self.failures.append(text)

    @property
    def passed(self) -> bool:
        return not self.failures


def check_invariants(tenant_id: int, report: InvariantReport | None = None) -> InvariantReport:
    """Balances and ledger of ``tenant_id``, read on the maintenance connection (all rows)."""
    from inventory.ledger.reconcile import balance_differences

    report = report or InvariantReport()
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(_BALANCE_FIGURES, [tenant_id])
        rows, negative, negative_reserved, over_reserved, on_hand, reserved = cursor.fetchone()
        cursor.execute(_LEDGER_FIGURES, [tenant_id])
        report.ledger = {kind: (count, total) for kind, count, total in cursor.fetchall()}
    report.on_hand, report.reserved = on_hand, reserved
    report.check(negative == 0, f"no negative on-hand balance ({negative} of {rows} rows)")
    report.check(negative_reserved == 0, f"no negative reserved ({negative_reserved} rows)")
    report.check(
        over_reserved == 0, f"reserved <= on hand on every row ({over_reserved} rows over)"
    )
    differences, checked = balance_differences(using="maintenance")
    report.check(
        not differences,
        f"ledger sum equals balance for every lot and bin "
        f"({checked} balances checked, {len(differences)} differ)",
    )
    for difference in differences[:10]:
        report.lines.append(f"    {difference}")
    return report


# -- worker processes ---------------------------------------------------------------------


def fork_workers(
    target: Callable, argument_lists: list[tuple], *, meanwhile: Callable[[], None] | None = None
) -> list:
    """Run ``target(*arguments)`` in one forked process each; return their results in order.

    Connections are closed before forking, so each child opens its own. A
    child's exception comes back as its result (an ``Exception`` instance).
    ``meanwhile()`` runs in this process once the children have started.
    """
    connections.close_all()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()

    def child(index: int, arguments: tuple) -> None:
        try:
            result = target(*arguments)
        except BaseException as error:
            result = RuntimeError(f"worker {index}: {type(error).__name__}: {error}")
        finally:
            with contextlib.suppress(Exception):
                connections.close_all()
        queue.put((index, result))

    processes = [
        context.Process(target=child, args=(index, arguments), daemon=True)
        for index, arguments in enumerate(argument_lists)
    ]
    for process in processes:
        process.start()
    if meanwhile is not None:
        meanwhile()
    results: dict[int, object] = {}
    while len(results) < len(processes):
        try:
            index, result = queue.get(timeout=5)
        except Empty:
            for index, process in enumerate(processes):
                if index not in results and not process.is_alive() and queue.empty():
                    results[index] = RuntimeError(
                        f"worker {index} ended without a result (exit code {process.exitcode})"
                    )
            continue
        results[index] = result
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    return [results[index] for index in range(len(processes))]


# -- CPU accounting (Linux /proc) ----------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as stat_file:
            return stat_file.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def process_tree(root: int) -> list[int]:
    """``root`` and every process descending from it, from one scan of /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))):
            parents.setdefault(int(fields[1]), []).append(int(entry))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending += parents.get(pid, [])
    return tree


def cpu_by_process(pids: list[int]) -> dict[int, float]:
    """User plus system CPU seconds each live process has used so far."""
    used = {}
    for pid in pids:
        if fields := _stat(pid):
            used[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
    return used


def cpu_seconds(pids: list[int]) -> float:
    return sum(cpu_by_process(pids).values())


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two samples by the processes alive at the second one.

    A process that ended in between is left out (its last figures are gone),
    a process that started in between counts from zero.
    """
    return sum(used - before.get(pid, 0.0) for pid, used in after.items())


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    with open("/proc/stat") as stat_file:
        values = [int(value) for value in stat_file.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / _TICKS, sum(values) / _TICKS


def postmaster_pid() -> int | None:
    from config import pgserver

    return pgserver.EmbeddedServer(pgserver.data_dir()).postmaster_pid()


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]

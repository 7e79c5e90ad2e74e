"""The periodic jobs, run by procrastinate's worker on the test database.

The worker fetches jobs on its own psycopg connection as the app role, as in
production; the jobs themselves open the maintenance and owner connections.
"""

import asyncio
import datetime
import threading
import time

import pytest
from django.db import connections
from django.db.models import F
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.periodic import PeriodicDeferrer, PeriodicRegistry

from inventory.catalog.services import create_product, create_warehouse
from inventory.core.idempotency import key_retention
from inventory.ledger.partitions import MONTHS_AHEAD, add_months, partition_name
from inventory.ledger.reconcile import balance_differences
from inventory.models import Operation, Reservation, ReservationStatus
from inventory.reservations.allocation import reserve_stock
from inventory.reservations.requests import LineRequest
from inventory.stock.receipts import receive_stock
from tests.test_idempotency import receipt_call
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "maintenance", "owner"])

PERIODIC = {
    "jobs.fail_stalled",
    "inventory.expire_reservations",
    "inventory.ledger_partitions",
    "inventory.release_expired_idempotency_keys",
    "analytics.refresh_current_stock",
    "analytics.update_dimensions",
    "analytics.snapshot_yesterday",
    "analytics.roll_ledger_months",
}


@pytest.fixture
def worker_app():
    """The Django app with the connector ``manage.py procrastinate worker`` uses."""
    with app.replace_connector(app.connector.get_worker_connector()) as worker:
        yield worker
    # procrastinate's tables are not Django-managed, so the flush leaves them.
    with connections["owner"].cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_periodic_defers")
        cursor.execute("DELETE FROM procrastinate_jobs")


def outside_any_event_loop(work):
    """``work()`` in a thread of its own; its result, or its exception raised here.

    procrastinate's synchronous calls start an event loop, which cannot run in
    a thread that already has one (Playwright's sync API leaves one running in
    the main thread once a browser test has run).
    """
    box = {}

    def run():
        try:
            box["result"] = work()
        except BaseException as error:  # handed to the test's thread
            box["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the worker did not finish within 120 s"
    if "error" in box:
        raise box["error"]
    return box.get("result")


def defer_tick(worker, timestamp):
    """Defer every periodic task for ``timestamp``, as a worker's periodic deferrer does."""

    async def defer():
        async with worker.open_async():
            deferrer = PeriodicDeferrer(registry=worker.periodic_registry)
            tasks = worker.periodic_registry.periodic_tasks.values()
            await deferrer.defer_jobs([(task, timestamp) for task in tasks])

    outside_any_event_loop(lambda: asyncio.run(defer()))


def run_worker_until_idle(worker, *, keep_jobs=True):
    """Run the worker until the queue is empty; the test defers the ticks itself.

    The worker's own periodic deferrer would add jobs for the current tick at a
    moment of its choosing, so it gets an empty schedule while it runs. With
    ``keep_jobs`` finished jobs stay for the test to see; without it the
    settings' worker defaults apply, as for ``manage.py procrastinate worker``.
    """
    options = {"delete_jobs": "never"} if keep_jobs else {}
    schedule = worker.periodic_registry
    worker.periodic_registry = PeriodicRegistry()
    try:
        outside_any_event_loop(
            lambda: worker.run_worker(
                wait=False, install_signal_handlers=False, listen_notify=False, **options
            )
        )
    finally:
        worker.periodic_registry = schedule


def jobs_by_task():
    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT task_name, status FROM procrastinate_jobs ORDER BY id")
        rows = cursor.fetchall()
    by_task = {}
    for name, status in rows:
        by_task.setdefault(name, []).append(status)
    return by_task


def partition_exists(name):
    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def test_the_periodic_jobs_are_scheduled():
    schedule = {task.task.name: task.cron for task in app.periodic_registry.periodic_tasks.values()}
    assert set(schedule) == PERIODIC
    # The expiry sweep keeps its 30-second rhythm (seconds are the sixth field).
    assert schedule["inventory.expire_reservations"] == "* * * * * */30"
    for name in PERIODIC:
        task = app.tasks[name]
        assert (task.lock, task.queueing_lock) == (name, name)


def test_the_worker_runs_the_expiry_sweep_partition_upkeep_and_key_cleanup(
    worker_app, tenant, other_tenant, site, flour
):
    # An overdue reservation ...
    receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="L0", quantity=5)
    held = reserve_stock(
        tenant=tenant,
        warehouse=site,
        lines=[LineRequest(product=flour, quantity=2)],
        ttl_seconds=60,
    ).reservation
    with tenant_context(tenant.id):
        Reservation.objects.filter(pk=held.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
    # ... a missing partition ahead of time ...
    month = add_months(timezone.now().date().replace(day=1), MONTHS_AHEAD)
    with connections["owner"].cursor() as cursor:
        cursor.execute(f"DROP TABLE {partition_name(month)}")
    # ... and idempotency keys, an expired one in each tenant and a recent one.
    other_site = create_warehouse(tenant=other_tenant, code="W", name="Other")
    other_flour = create_product(tenant=other_tenant, sku="F", name="Flour")
    expired = [
        (tenant, receipt_call(tenant, site, flour, key="old")),
        (other_tenant, receipt_call(other_tenant, other_site, other_flour, key="old")),
    ]
    recent = receipt_call(tenant, site, flour, key="recent", lot_code="L2")
    for owner, result in expired:
        with tenant_context(owner.id):
            Operation.objects.filter(pk=result.operation_id).update(
                created_at=F("created_at") - key_retention() - datetime.timedelta(seconds=1)
            )

    started = time.monotonic()
    defer_tick(worker_app, int(time.time()))
    run_worker_until_idle(worker_app)

    assert jobs_by_task() == {name: ["succeeded"] for name in PERIODIC}
    with tenant_context(tenant.id):
        assert Reservation.objects.get(pk=held.pk).status == ReservationStatus.EXPIRED
    assert partition_exists(partition_name(month))
    for owner, result in expired:
        with tenant_context(owner.id):
            assert Operation.objects.get(pk=result.operation_id).key is None
    with tenant_context(tenant.id):
        assert Operation.objects.get(pk=recent.operation_id).key == "recent"
    assert balance_differences()[0] == []
    assert time.monotonic() - started < 15


def test_a_tick_is_deferred_once_however_many_workers_defer_it(worker_app):
    tick = int(time.time())
    defer_tick(worker_app, tick)
    defer_tick(worker_app, tick)  # a second worker's deferrer, same tick
    assert jobs_by_task() == {name: ["todo"] for name in PERIODIC}
    # The next tick while the first still waits: the queueing lock keeps one job.
    defer_tick(worker_app, tick + 30)
    assert jobs_by_task() == {name: ["todo"] for name in PERIODIC}
    run_worker_until_idle(worker_app)
    assert jobs_by_task() == {name: ["succeeded"] for name in PERIODIC}


def test_a_job_whose_worker_died_is_failed_so_its_task_runs_again(worker_app):
    tick = int(time.time())
    defer_tick(worker_app, tick)
    # A worker took the sweep and died: the job stays "doing" with no live worker.
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'doing' WHERE task_name = %s",
            ["inventory.expire_reservations"],
        )
    run_worker_until_idle(worker_app)
    assert jobs_by_task()["inventory.expire_reservations"] == ["failed"]
    # Its lock is free again: the next tick's sweep runs.
    defer_tick(worker_app, tick + 30)
    run_worker_until_idle(worker_app)
    assert jobs_by_task()["inventory.expire_reservations"] == ["failed", "succeeded"]


def test_the_runner_deletes_successful_jobs_and_keeps_failed_ones(worker_app):
    tick = int(time.time())
    defer_tick(worker_app, tick)
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'doing' WHERE task_name = %s",
            ["inventory.ledger_partitions"],
        )
    run_worker_until_idle(worker_app, keep_jobs=False)
    assert jobs_by_task() == {"inventory.ledger_partitions": ["failed"]}

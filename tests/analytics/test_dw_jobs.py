"""The analytics jobs: scheduled with procrastinate, run by its worker, and their settings."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connections
from procrastinate.contrib.django import app

from analytics.dw import freshness
from analytics.tasks import refresh_cron
from tests.analytics.conftest import DW_DATABASES
from tests.test_jobs import defer_tick, jobs_by_task, run_worker_until_idle, worker_app  # noqa: F401

BASE_DIR = Path(__file__).resolve().parents[2]
ANALYTICS_TASKS = {
    "analytics.refresh_current_stock",
    "analytics.update_dimensions",
    "analytics.snapshot_yesterday",
    "analytics.roll_ledger_months",
}


def test_the_analytics_tasks_are_scheduled():
    schedule = {task.task.name: task.cron for task in app.periodic_registry.periodic_tasks.values()}
    assert set(schedule) >= ANALYTICS_TASKS
    # DW_REFRESH_MINUTES is 5 by default.
    assert schedule["analytics.refresh_current_stock"] == "*/5 * * * *"
    assert schedule["analytics.snapshot_yesterday"] == "30 0 * * *"
    assert schedule["analytics.roll_ledger_months"] == "1-59/10 * * * *"
    for name in ANALYTICS_TASKS:
        task = app.tasks[name]
        assert (task.lock, task.queueing_lock) == (name, name)


@pytest.mark.parametrize(
    ("minutes", "cron"), [(1, "*/1 * * * *"), (15, "*/15 * * * *"), (60, "0 * * * *")]
)
def test_the_refresh_schedule_follows_the_setting(minutes, cron):
    assert refresh_cron(minutes) == cron


@pytest.mark.parametrize("minutes", ["0", "61", "-5"])
def test_a_refresh_interval_out_of_bounds_stops_the_start(minutes):
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings.test"],
        cwd=BASE_DIR,
        env={**os.environ, "DW_REFRESH_MINUTES": minutes},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DW_REFRESH_MINUTES must be between 1 and 60" in result.stderr


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_the_worker_runs_the_analytics_jobs(clean_dw, worker_app, tenant, site, flour):  # noqa: F811
    defer_tick(worker_app, int(time.time()))
    run_worker_until_idle(worker_app)

    jobs = jobs_by_task()
    assert {name: jobs.get(name) for name in ANALYTICS_TASKS} == {
        name: ["succeeded"] for name in ANALYTICS_TASKS
    }
    assert freshness() is not None
    with connections["maintenance"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM dw.dim_product WHERE product_id = %s", [flour.pk])
        assert cursor.fetchone()[0] == 1

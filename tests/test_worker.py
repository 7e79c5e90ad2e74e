"""The job worker runs registered jobs when due, one process at a time per job."""

import pytest
from django.core.management import call_command
from django.db import connections

from warehouse import worker
from warehouse.worker import LOCK_NAMESPACE, Job, Worker, periodic, run_job

pytestmark = pytest.mark.django_db(databases=["default", "maintenance", "owner"])


@pytest.fixture
def calls(monkeypatch):
    worker.registered_jobs()  # discover the apps' jobs before copying the registry
    monkeypatch.setattr(worker, "_JOBS", dict(worker._JOBS))
    seen = []
    periodic("test.count", every_seconds=3600)(lambda: seen.append("count"))
    return seen


def test_run_worker_once_runs_every_job(calls, capsys):
    call_command("run_worker", "--once")
    assert calls == ["count"]
    output = capsys.readouterr().out
    count = len(worker.registered_jobs())
    assert f"ran {count} of {count} jobs: " in output and "test.count" in output


def test_a_job_is_not_run_again_before_it_is_due(calls):
    loop = Worker([worker._JOBS["test.count"]])
    assert loop.run_due() == ["test.count"]
    assert loop.run_due() == []
    assert calls == ["count"]


def test_a_job_locked_by_another_process_is_skipped(calls):
    job = worker._JOBS["test.count"]
    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, job.lock_key])
        try:
            assert run_job(job) == (False, None)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, job.lock_key])
    assert calls == []
    assert run_job(job)[0] is True


def test_a_failing_job_does_not_stop_the_others():
    seen = []

    def broken():
        raise RuntimeError("boom")

    loop = Worker(
        [
            Job("a.broken", 60, broken),
            Job("b.fine", 60, lambda: seen.append("fine")),
        ]
    )
    assert loop.run_due() == ["b.fine"]
    assert seen == ["fine"]


def test_ledger_partition_upkeep_is_a_registered_job():
    jobs = {job.name: job for job in worker.registered_jobs()}
    ran, result = run_job(jobs["inventory.ledger_partitions"])
    assert ran is True
    assert result.startswith("created ")

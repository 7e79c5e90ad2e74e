"""The job worker runs registered jobs when due, one process at a time per job."""

import pytest
from django.core.management import call_command
from django.db import connections

from warehouse import worker
from warehouse.worker import LOCK_NAMESPACE, Job, Worker, periodic, run_job

pytestmark = pytest.mark.django_db(databases=["default", "maintenance", "owner"])


@pytest.fixture
def calls(monkeypatch):
    monkeypatch.setattr(worker, "_JOBS", {})
    seen = []
    periodic("test.count", every_seconds=3600)(lambda: seen.append("count"))
    return seen


def test_run_worker_once_runs_every_job(calls, capsys):
    call_command("run_worker", "--once")
    assert calls == ["count"]
    assert "ran 1 of 1 jobs: test.count" in capsys.readouterr().out


def test_a_job_is_not_run_again_before_it_is_due(calls):
    loop = Worker(worker.registered_jobs())
    assert loop.run_due() == ["test.count"]
    assert loop.run_due() == []
    assert calls == ["count"]


def test_a_job_locked_by_another_process_is_skipped(calls):
    job = worker.registered_jobs()[0]
    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, job.lock_key])
        try:
            assert run_job(job) == (False, None)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, job.lock_key])
    assert calls == []
    assert run_job(job)[0] is True


def test_a_failing_job_does_not_stop_the_others(monkeypatch):
    monkeypatch.setattr(worker, "_JOBS", {})
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

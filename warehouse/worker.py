"""Periodic jobs and the loop that runs them (``manage.py run_worker``).

Apps declare jobs in a ``jobs.py`` module with ``@periodic(...)``. Jobs that
touch several tenants are the explicit cross-tenant path: they run on the
``maintenance`` connection. Each run takes a session advisory lock named after
the job, so several workers (or a worker and a hand-run command) never run the
same job at the same time; a worker that finds the lock taken skips that turn.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.utils.module_loading import autodiscover_modules

logger = logging.getLogger("stockyard.worker")

LOCK_NAMESPACE = 0x5713  # first key of the two-key advisory lock: "jobs"


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    function: Callable[[], object]

    @property
    def lock_key(self) -> int:
        return zlib.crc32(self.name.encode()) & 0x7FFFFFFF


_JOBS: dict[str, Job] = {}


def periodic(name: str, *, every_seconds: float):
    """Register the decorated function as a job run every ``every_seconds``."""

    def decorator(function):
        _JOBS[name] = Job(name=name, every_seconds=every_seconds, function=function)
        return function

    return decorator


def registered_jobs() -> list[Job]:
    autodiscover_modules("jobs")
    return sorted(_JOBS.values(), key=lambda job: job.name)


def run_job(job: Job, *, using: str = "maintenance") -> tuple[bool, object]:
    """Run ``job`` unless another process is running it; return (ran, result)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, job.lock_key])
        if not cursor.fetchone()[0]:
            return False, None
    try:
        started = time.monotonic()
        result = job.function()
        logger.info(
            "job %s done in %.0f ms: %s", job.name, 1000 * (time.monotonic() - started), result
        )
        return True, result
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, job.lock_key])


class Worker:
    """Runs every registered job when it is due, until ``stop()`` is called."""

    def __init__(self, jobs: list[Job], *, tick_seconds: float = 0.5):
        self.jobs = jobs
        self.tick_seconds = tick_seconds
        self.next_due = dict.fromkeys((job.name for job in jobs), 0.0)
        self.stopping = False

    def stop(self, *args) -> None:
        self.stopping = True

    def run_due(self) -> list[str]:
        ran = []
        for job in self.jobs:
            if self.stopping or time.monotonic() < self.next_due[job.name]:
                continue
            self.next_due[job.name] = time.monotonic() + job.every_seconds
            try:
                if run_job(job)[0]:
                    ran.append(job.name)
            except Exception:
                # One failing job must not stop the others; it is retried when next due.
                logger.exception("job %s failed", job.name)
                connection = connections["maintenance"]
                if connection.connection is not None and not connection.is_usable():
                    connection.close()
        return ran

    def run_forever(self) -> None:
        while not self.stopping:
            self.run_due()
            time.sleep(self.tick_seconds)

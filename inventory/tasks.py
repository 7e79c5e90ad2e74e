"""Background tasks of the inventory app, run by procrastinate's worker.

``manage.py procrastinate worker`` runs them; its periodic deferrer defers
each periodic task once per tick, however many workers run: procrastinate
records every ``(task, tick)`` in ``procrastinate_periodic_defers`` and a
second worker's insert of the same tick does nothing. On top of that:

* ``queueing_lock``: at most one job of a task waits in the queue, so a
  stopped worker does not come back to a backlog of identical sweeps;
* ``lock``: jobs of one task run one at a time, whichever worker fetched
  them, so two sweeps never contend for the same rows;
* ``retry``: a failed run (a lost connection, contention) is tried again a
  few times with back-off before the job is marked failed; the next tick
  schedules a fresh one anyway.

Periodic tasks receive the tick's ``timestamp``; the bodies live in
``inventory/jobs.py`` and do not need it.
"""

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from inventory import jobs

RETRY = RetryStrategy(max_attempts=3, exponential_wait=2)


def _serial(name: str) -> dict:
    return {"name": name, "queueing_lock": name, "lock": name, "retry": RETRY}


# Seconds are procrastinate's optional sixth cron field.
@app.periodic(cron="* * * * * */30")
@app.task(**_serial("inventory.expire_reservations"))
def expire_reservations(timestamp: int) -> str:
    return jobs.expire_overdue_reservations()


@app.periodic(cron="17 */6 * * *")
@app.task(**_serial("inventory.ledger_partitions"))
def ledger_partitions(timestamp: int) -> str:
    return jobs.ledger_partitions()


@app.periodic(cron="41 * * * *")
@app.task(**_serial("inventory.release_expired_idempotency_keys"))
def release_expired_idempotency_keys(timestamp: int) -> str:
    return jobs.release_expired_idempotency_keys()

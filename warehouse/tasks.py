"""Upkeep of the job runner itself.

A job whose worker died (killed, out of memory, the machine lost) would stay
``doing`` for ever, and with it the ``lock`` of its task: no later job of that
task would run again. This task marks such jobs failed, which frees the lock;
a periodic task simply runs again on its next tick. They are failed rather
than retried because a job cut off half-way (an import) may not be safe to
run twice, and a retried periodic job would collide with the next tick's job
waiting under the same queueing lock. Failed jobs stay in
``procrastinate_jobs`` for inspection. procrastinate counts a worker as gone
when it has sent no heartbeat for 30 seconds (it sends one every 10).
"""

from procrastinate import jobs
from procrastinate.contrib.django import app

NAME = "jobs.fail_stalled"


@app.periodic(cron="* * * * *")
@app.task(name=NAME, queueing_lock=NAME, lock=NAME, pass_context=True)
async def fail_stalled_jobs(context, timestamp: int) -> str:
    manager = context.app.job_manager
    stalled = list(await manager.get_stalled_jobs())
    for job in stalled:
        await manager.finish_job(job, status=jobs.Status.FAILED, delete_job=False)
    return f"failed {len(stalled)} stalled"

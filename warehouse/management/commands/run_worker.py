import signal

from django.core.management.base import BaseCommand

from warehouse.worker import Worker, registered_jobs


class Command(BaseCommand):
    help = "Run the periodic jobs (expiry sweeps, partition upkeep, ...) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run every job once and exit")

    def handle(self, *args, once=False, **options):
        jobs = registered_jobs()
        worker = Worker(jobs)
        if once:
            ran = worker.run_due()
            self.stdout.write(f"ran {len(ran)} of {len(jobs)} jobs: {', '.join(ran) or '-'}")
            return
        signal.signal(signal.SIGTERM, worker.stop)
        signal.signal(signal.SIGINT, worker.stop)
        names = ", ".join(f"{job.name} (every {job.every_seconds:g} s)" for job in jobs)
        self.stdout.write(f"worker started: {names or 'no jobs registered'}")
        worker.run_forever()
        self.stdout.write("worker stopped")

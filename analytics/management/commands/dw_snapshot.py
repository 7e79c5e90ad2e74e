import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from analytics.dw import take_snapshot

# The ledger starts long after this; a typo such as 0202 is refused, not scanned.
EARLIEST_DAY = datetime.date(2000, 1, 1)


def snapshot_day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--day must be a date as YYYY-MM-DD, not {text[:40]!r}.") from None


class Command(BaseCommand):
    help = (
        "Write the stock snapshot of one day (default: yesterday) for every tenant "
        "into dw.stock_snapshot, replacing that day's rows (maintenance connection)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--day", type=str, help="YYYY-MM-DD, at most today")

    def handle(self, *args, day=None, **options):
        today = timezone.localdate()
        wanted = today - datetime.timedelta(days=1) if day is None else snapshot_day(day)
        if not EARLIEST_DAY <= wanted <= today:
            raise CommandError(f"--day must be between {EARLIEST_DAY} and today ({today}).")
        rows = take_snapshot(wanted)
        self.stdout.write(f"snapshot of {wanted}: {rows} rows")

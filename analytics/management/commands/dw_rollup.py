import datetime

from django.core.management.base import BaseCommand, CommandError

from analytics.dw import roll_ledger_months
from analytics.dw.rollup import is_closed

# The ledger starts long after this; a typo such as 0202 is refused, not scanned.
EARLIEST_MONTH = datetime.date(2000, 1, 1)


def rollup_month(text: str) -> datetime.date:
    try:
        month = datetime.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"--month must be a month as YYYY-MM, not {text[:40]!r}.") from None
    if month < EARLIEST_MONTH:
        raise CommandError(f"--month must be {EARLIEST_MONTH:%Y-%m} or later.")
    if not is_closed(month):
        raise CommandError(f"--month {month:%Y-%m} is not closed yet (rolled a day after it ends).")
    return month


class Command(BaseCommand):
    help = (
        "Roll the ledger into dw.ledger_month and dw.ledger_day for every tenant: every month "
        "up to a watermark an hour back (the current month too) and every month with dirty "
        "marks, or just --month (a closed month) again (maintenance connection)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", type=str, help="YYYY-MM, a closed month to roll again")

    def handle(self, *args, month=None, **options):
        wanted = None if month is None else rollup_month(month)
        summary = roll_ledger_months(month=wanted)
        self.stdout.write(
            f"rolled {summary.months} months of the ledger: {summary.rows} rows, "
            f"{summary.marks_cleared} dirty marks cleared"
            + (" (time zone changed: every month rolled again)" if summary.time_zone_reset else "")
        )

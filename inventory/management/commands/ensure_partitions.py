from django.core.management.base import BaseCommand

from inventory.ledger.partitions import MONTHS_AHEAD, MONTHS_BACK, ensure_ledger_partitions


class Command(BaseCommand):
    help = (
        "Create the ledger's monthly partitions for past and coming months (idempotent). "
        "Runs as the schema owner; also run after every migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--months-ahead", type=int, default=MONTHS_AHEAD)
        parser.add_argument("--months-back", type=int, default=MONTHS_BACK)
        parser.add_argument("--database", default="owner")

    def handle(self, *args, **options):
        upkeep = ensure_ledger_partitions(
            using=options["database"],
            months_back=options["months_back"],
            months_ahead=options["months_ahead"],
        )
        for name in upkeep.created:
            self.stdout.write(f"created {name}")
        for name in upkeep.skipped:
            self.stderr.write(f"skipped {name}: its entries already sit in the default partition")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(upkeep.created)} partitions created, {len(upkeep.existing)} already there"
            )
        )

import time

from django.core.management.base import BaseCommand, CommandError

from inventory.ledger.reconcile import balance_differences


class Command(BaseCommand):
    help = (
        "Recompute every tenant's balances from the ledger (maintenance role, all tenants), "
        "print each difference and exit non-zero when there is one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="maintenance")

    def handle(self, *args, **options):
        started = time.monotonic()
        differences, checked = balance_differences(using=options["database"])
        elapsed = time.monotonic() - started
        for difference in differences:
            self.stdout.write(str(difference))
        if differences:
            raise CommandError(
                f"{len(differences)} balances differ from the ledger "
                f"({checked} balances checked in {elapsed:.2f} s)",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"All {checked} balances equal the ledger (checked in {elapsed:.2f} s)."
            )
        )

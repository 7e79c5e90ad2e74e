from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.management.base import BaseCommand
from django.db import transaction

from inventory import demo as inventory_demo
from warehouse import demo


class Command(BaseCommand):
    help = (
        "Load the demo tenants, people, warehouses and bins, then the catalog, lots and "
        "months of stock history (idempotent)."
    )

    def handle(self, *args, **options):
        password = settings.DEMO_PASSWORD
        validate_password(password)
        # One transaction: the demo loads whole or not at all, with one commit.
        with transaction.atomic():
            sign_ins = demo.seed(password)
            entries = inventory_demo.seed()
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
        for slug, count in entries.items():
            self.stdout.write(f"  {slug}: {count} ledger entries")
        self.stdout.write(f"Demo sign-ins (password for all: {password}):")
        for sign_in in sign_ins:
            self.stdout.write(f"  {sign_in.username:<10} {sign_in.roles}")

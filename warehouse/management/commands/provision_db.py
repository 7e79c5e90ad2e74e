from django.conf import settings
from django.core.management.base import BaseCommand

from warehouse.provisioning import provision


class Command(BaseCommand):
    help = "Create the Stockyard database and its owner, app and maintenance roles (idempotent)."
    requires_system_checks = []

    def handle(self, *args, **options):
        admin = settings.ADMIN_DATABASE
        done = provision(admin, settings.DATABASES["default"]["PASSWORD"])
        for line in done:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"database {admin['NAME']} is ready"))

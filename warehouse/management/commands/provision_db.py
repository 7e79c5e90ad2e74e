from django.conf import settings
from django.core.management.base import BaseCommand

from warehouse.provisioning import provision_from_settings


class Command(BaseCommand):
    help = "Create the Stockyard database and its owner, app and maintenance roles (idempotent)."
    requires_system_checks = []

    def handle(self, *args, **options):
        for line in provision_from_settings():
            self.stdout.write(line)
        database = settings.ADMIN_DATABASE["NAME"]
        self.stdout.write(self.style.SUCCESS(f"database {database} is ready"))

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.management.base import BaseCommand

from warehouse import demo


class Command(BaseCommand):
    help = "Load the demo tenants, people, warehouses and bins (idempotent)."

    def handle(self, *args, **options):
        password = settings.DEMO_PASSWORD
        validate_password(password)
        sign_ins = demo.seed(password)
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
        self.stdout.write(f"Demo sign-ins (password for all: {password}):")
        for sign_in in sign_ins:
            self.stdout.write(f"  {sign_in.username:<10} {sign_in.roles}")

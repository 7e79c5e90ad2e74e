from django.core.management.base import BaseCommand

from inventory.reservations.expiry import expire_reservations


class Command(BaseCommand):
    help = (
        "Expire and release every open reservation past its expiry, in every tenant "
        "(one sweep, on the maintenance connection). The worker runs it every 30 seconds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="maintenance")

    def handle(self, *args, **options):
        expired = expire_reservations(using=options["database"])
        noun = "reservation" if expired == 1 else "reservations"
        self.stdout.write(self.style.SUCCESS(f"Expired {expired} {noun}."))

from django.core.management.base import BaseCommand

from analytics.dw import update_dimensions


class Command(BaseCommand):
    help = (
        "Bring the SCD2 dimensions dw.dim_product, dw.dim_warehouse and dw.dim_customer "
        "up to date for every tenant (maintenance connection)."
    )

    def handle(self, *args, **options):
        for name, changes in update_dimensions().items():
            self.stdout.write(f"{name}: closed {changes.closed}, opened {changes.opened}")

from django.core.management.base import BaseCommand

from analytics.dw import refresh_current_stock


class Command(BaseCommand):
    help = "Refresh dw.current_stock_mv for every tenant (maintenance connection)."

    def handle(self, *args, **options):
        refresh = refresh_current_stock()
        self.stdout.write(
            f"refreshed dw.current_stock_mv at {refresh.refreshed_at.isoformat()} "
            f"in {refresh.duration_ms} ms"
        )

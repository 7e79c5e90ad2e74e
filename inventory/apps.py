from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_partitions_after_migrate(sender, using, verbosity=1, **kwargs):
    """Every migrate (and test-database flush) leaves the ledger with its partitions.

    Only the schema owner may add partitions; a migrate run on another
    connection leaves them to ``manage.py ensure_partitions``.
    """
    from inventory.ledger.partitions import ensure_ledger_partitions, ledger_is_owned_by

    if not ledger_is_owned_by(using):
        return
    upkeep = ensure_ledger_partitions(using=using)
    if verbosity >= 2 and upkeep.created:
        print(f"  Created {len(upkeep.created)} ledger partitions")


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self):
        from inventory.web.tables import remember_cell_signatures

        post_migrate.connect(ensure_partitions_after_migrate, sender=self)
        remember_cell_signatures()

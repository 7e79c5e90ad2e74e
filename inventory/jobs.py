"""Periodic jobs of the inventory app (run by ``manage.py run_worker``)."""

from inventory.partitions import ensure_ledger_partitions
from inventory.reservations import expire_reservations
from warehouse.worker import periodic


@periodic("inventory.ledger_partitions", every_seconds=6 * 60 * 60)
def ledger_partitions():
    """Keep monthly ledger partitions ahead of time (schema upkeep, as the owner)."""
    result = ensure_ledger_partitions(using="owner")
    return f"created {len(result.created)}, skipped {len(result.skipped)}"


@periodic("inventory.expire_reservations", every_seconds=30)
def expire_overdue_reservations():
    """Release reservations past their expiry, every tenant (the maintenance connection)."""
    return f"expired {expire_reservations(using='maintenance')}"

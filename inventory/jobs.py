"""The bodies of the inventory app's periodic jobs (scheduled in ``inventory/tasks.py``).

Each is the explicit cross-tenant path of its area and names the connection
it runs on; each returns a one-line summary for the worker's log.
"""

from inventory.core.idempotency import release_expired_keys
from inventory.ledger.partitions import ensure_ledger_partitions
from inventory.reservations.expiry import expire_reservations


def ledger_partitions() -> str:
    """Keep monthly ledger partitions ahead of time (schema upkeep, as the owner)."""
    result = ensure_ledger_partitions(using="owner")
    return f"created {len(result.created)}, skipped {len(result.skipped)}"


def expire_overdue_reservations() -> str:
    """Release reservations past their expiry, every tenant (the maintenance connection)."""
    return f"expired {expire_reservations(using='maintenance')}"


def release_expired_idempotency_keys() -> str:
    """Clear idempotency keys past the retention, every tenant (the maintenance connection)."""
    return f"released {release_expired_keys(using='maintenance')}"

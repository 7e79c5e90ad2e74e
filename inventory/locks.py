"""Every row lock the inventory domain takes, in one place.

The rule that keeps concurrent stock operations free of deadlocks: a
transaction locks all the balance rows it will change at once, before
changing any, in one global order, ``(location_id, lot_id)``. Two operations
touching the same rows then queue behind each other instead of each holding
one row the other needs (a move A -> B against a move B -> A).

Single-row changes (an adjustment, a receipt) need no explicit lock: their
one conditional ``UPDATE`` or upsert locks the row itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import Q

from inventory.models import Balance, Lot
from warehouse.models import Location

_ENSURE_ROW = """
    INSERT INTO inventory_balance
        (tenant_id, lot_id, location_id, product_id, warehouse_id, on_hand, reserved, updated_at)
    VALUES (%s, %s, %s, %s, %s, 0, 0, now())
    ON CONFLICT (tenant_id, lot_id, location_id) DO NOTHING
"""


def lock_balances(
    pairs: Iterable[tuple[Lot, Location]],
) -> dict[tuple[int, int], Balance]:
    """Lock the balance rows of ``(lot, location)`` pairs; return them by ``(lot_id, location_id)``.

    Missing rows are created at zero first, so there is a row to lock (and a
    count or a move into an empty bin cannot race another one inserting it).
    The inserts follow the same order as the locks: a transaction waiting on
    another's uncommitted insert holds no lock yet that the other could need.
    Call inside the service's transaction.
    """
    ordered = sorted(
        {(lot.pk, location.pk): (lot, location) for lot, location in pairs}.values(),
        key=lambda pair: (pair[1].pk, pair[0].pk),
    )
    with connection.cursor() as cursor:
        for lot, location in ordered:
            cursor.execute(
                _ENSURE_ROW,
                [lot.tenant_id, lot.pk, location.pk, lot.product_id, location.warehouse_id],
            )
    wanted = Q()
    for lot, location in ordered:
        wanted |= Q(lot_id=lot.pk, location_id=location.pk)
    # The ORDER BY is what makes the lock order: rows are locked as they are read.
    rows = (
        Balance.objects.filter(wanted)
        .order_by("location_id", "lot_id")
        .select_for_update(of=("self",))
    )
    return {(row.lot_id, row.location_id): row for row in rows}

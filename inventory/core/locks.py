"""Every row lock the inventory domain takes, in one place.

The rule that keeps concurrent stock operations free of deadlocks: a
transaction locks all the balance rows it will change at once, before
changing any, in one global order, ``(product_id, location_id, lot_id)``.
Two operations touching the same rows then queue behind each other instead of
each holding one row the other needs (a move A -> B against a move B -> A).
The product leads because an allocation works through its lines product by
product: whatever it holds of one product, it waits only for rows of later
products, or (after giving its first-pass rows back) for rows of the product
in hand, in this same order.

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
        key=lambda pair: (pair[0].product_id, pair[1].pk, pair[0].pk),
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
        .order_by("product_id", "location_id", "lot_id")
        .select_for_update(of=("self",))
    )
    return {(row.lot_id, row.location_id): row for row in rows}


# -- batched balance changes (inventory.ledger.posting) ----------------------------------
#
# ``inventory_change_balances`` (migration 0017) locks the rows a batch changes
# in the global ``(product_id, location_id, lot_id)`` order before updating
# any, so two batches over overlapping rows queue instead of deadlocking. Rows
# this transaction already holds (an allocation's candidates) are re-locked at
# no cost.


# -- allocation (the PL/pgSQL function ``inventory_allocate``, migration 0017) ----------
#
# A line is allocated in up to three passes over the balance rows of approved
# lots, not expired on ``today``, holding its product in the warehouse:
#
# 1. Skip-locked: free rows in FEFO order, skipping rows another transaction
#    holds, with how much the statement's snapshot shows free in all of them
#    (``pool``). Most requests end here.
# 2. Waiting: when that is short but the snapshot shows free stock in rows it
#    could not take, another transaction holds them: every candidate row is
#    waited for with ``FOR UPDATE`` in the global order, after the rows of
#    pass 1 were given back (its subtransaction rolled back), so this wait
#    never closes a cycle.
# 3. Shared: when the snapshot shows no more free stock than the first pass
#    took (the product is sold out), only a transaction in flight on those
#    rows could still free some (a cancel, an adjustment, a reservation
#    rolling back): they are waited for with ``FOR SHARE`` and what they left
#    is read. Shared locks do not conflict with each other, so a stampede of
#    requests for a sold-out product is answered in parallel instead of in a
#    queue. Only when it finds free stock (or overdue holds to release) does
#    the allocation go on to pass 2.

# -- reservations -----------------------------------------------------------------------
#
# Ending a reservation touches two kinds of rows. Issue and cancel lock the
# reservation row first (``inventory_issue``, ``inventory_cancel``), then its balances. Expiry goes
# the other way round, balances first, because an allocation that finds a
# shortage already holds its candidate balances when it looks for overdue
# holds; it therefore never waits for a reservation row (SKIP LOCKED), and the
# sweep locks the balances of its batch before touching the reservations.

# An allocation short of stock, holding every candidate row of the product
# (pass 2), expires the open reservations past ``now`` that hold the product in
# the warehouse (``inventory_allocate``): a sweep ending one of them either
# finished before (the waiting pass waited for it) or waits behind it. A
# reservation row another transaction holds (a cancel in flight) is skipped,
# not waited for; the outer ``status = 'OPEN'`` re-check makes the transition,
# and so the release that follows it, happen once.

# The sweep's batch (``maintenance`` connection, every tenant), oldest expiry
# first. Read without a lock: the transition below decides.
DUE_RESERVATIONS = """
    SELECT id FROM inventory_reservation
     WHERE status = 'OPEN' AND expires_at IS NOT NULL AND expires_at <= %(now)s
     ORDER BY expires_at, id
     LIMIT %(limit)s
"""

# The sweep locks the balances its batch holds, in the global
# ``(product_id, location_id, lot_id)`` order, before any reservation row.
LOCK_BALANCES_OF_RESERVATIONS = """
    SELECT balance.id
      FROM inventory_balance AS balance
      JOIN inventory_allocation AS allocation
        ON allocation.tenant_id = balance.tenant_id
       AND allocation.lot_id = balance.lot_id
       AND allocation.location_id = balance.location_id
     WHERE allocation.reservation_id = ANY(%(ids)s)
     ORDER BY balance.product_id, balance.location_id, balance.lot_id
       FOR UPDATE OF balance
"""

# Then the conditional transition: waits for a reservation row another
# transaction holds and re-checks it, so a reservation an allocation (or a
# second sweep) expired meanwhile is not returned, and not released again.
EXPIRE_RESERVATIONS = """
    UPDATE inventory_reservation
       SET status = 'EXPIRED', expired_at = %(now)s
     WHERE id = ANY(%(ids)s) AND status = 'OPEN' AND expires_at <= %(now)s
    RETURNING id, tenant_id
"""


# First key of the two-key transaction advisory lock on an order's allocation.
ORDER_ALLOCATION_NAMESPACE = 0x4F52  # "OR"


def lock_order_allocation(order_id: int) -> None:
    """Serialize allocations of one order (transaction-level advisory lock).

    Taken before anything else of the allocation, so a second worker waits,
    then finds the order allocated and returns its reservation. The order id
    is folded into the lock's 32-bit second key; a collision only serializes
    two unrelated orders.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [ORDER_ALLOCATION_NAMESPACE, int(order_id) & 0x7FFFFFFF],
        )

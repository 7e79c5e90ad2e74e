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


# -- batched balance changes (inventory.ledger.posting) ---------------------------------------

# The rows a batched change touches (``changes`` is its VALUES list), locked in
# the global ``(product_id, location_id, lot_id)`` order before any is updated, so two
# batches over overlapping rows queue instead of deadlocking. Rows this
# transaction already holds (an allocation's candidates) are re-locked at no cost.
LOCK_CHANGED_BALANCES = """
    SELECT balance.id, changes.on_hand, changes.reserved
      FROM inventory_balance AS balance
      JOIN changes
        ON balance.lot_id = changes.lot_id AND balance.location_id = changes.location_id
     WHERE balance.tenant_id = %s
     ORDER BY balance.product_id, balance.location_id, balance.lot_id
       FOR UPDATE OF balance
"""


# -- allocation candidates (inventory.reservations.allocation) ----------------------------------
#
# A line is allocated in up to three passes over the balance rows of approved
# lots, not expired on ``today``, holding its product in the warehouse:
#
# 1. ``SKIP_LOCKED_CANDIDATES`` takes free rows in FEFO order, skipping rows
#    another transaction holds, and says how much the snapshot shows free in
#    all of them (``pool_free``). Most requests end here.
# 2. When that is short but the snapshot shows free stock in rows it could not
#    take, another transaction holds them: ``WAITING_CANDIDATES`` waits for
#    every candidate row with ``FOR UPDATE``.
# 3. When the snapshot shows no more free stock than the first pass took (the
#    product is sold out), only a transaction in flight on those rows could
#    still free some (a cancel, an adjustment, a reservation rolling back):
#    ``SHARED_CANDIDATES`` waits for them with ``FOR SHARE`` and reads what
#    they left. Shared locks do not conflict with each other, so a stampede of
#    requests for a sold-out product is answered in parallel instead of in a
#    queue. Only when it finds free stock (or overdue holds to release) does
#    the allocation go on to pass 2.


def _candidate_rows(*, join: str = "", extra: str = "") -> str:
    """``FROM ... WHERE`` of the candidate balance rows, with ``lot`` (and ``join``) joined."""
    return f"""
      FROM inventory_balance AS balance
      JOIN inventory_lot AS lot
        ON lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
      {join}
     WHERE balance.tenant_id = %(tenant)s
       AND balance.product_id = %(product)s
       AND balance.warehouse_id = %(warehouse)s
       AND lot.qc_status = 'APPROVED'
       AND (lot.expires_on IS NULL OR lot.expires_on >= %(today)s)
       {extra}
"""


def _candidates(extra: str) -> str:
    """Candidate rows with what allocating from them needs: lot, bin, free stock, FEFO keys."""
    return """
    SELECT balance.id AS balance_id, balance.lot_id, balance.location_id,
           balance.on_hand - balance.reserved AS free,
           lot.code AS lot_code, lot.product_id, location.code AS location_code,
           location.warehouse_id, lot.expires_on, lot.received_at
    """ + _candidate_rows(
        join="""JOIN warehouse_location AS location
        ON location.tenant_id = balance.tenant_id AND location.id = balance.location_id""",
        extra=extra,
    )


FEFO_ORDER = " ORDER BY lot.expires_on NULLS LAST, lot.received_at, balance.id"
GLOBAL_ORDER = " ORDER BY balance.product_id, balance.location_id, balance.lot_id"

# The free stock of every candidate in the statement's snapshot (one row).
_POOL = "SELECT coalesce(sum(balance.on_hand - balance.reserved), 0) AS free" + _candidate_rows(
    extra="AND balance.on_hand > balance.reserved"
)

# Whether an open reservation past its expiry holds the product in the
# warehouse: stock pass 2 would release (one row).
_OVERDUE = """
    SELECT EXISTS (
        SELECT 1
          FROM inventory_reservation AS reservation
          JOIN inventory_reservationline AS line
            ON line.tenant_id = reservation.tenant_id
           AND line.reservation_id = reservation.id
         WHERE reservation.tenant_id = %(tenant)s
           AND reservation.warehouse_id = %(warehouse)s
           AND reservation.status = 'OPEN'
           AND reservation.expires_at <= %(now)s
           AND line.product_id = %(product)s
           AND line.allocated > 0
    ) AS due
"""

# Pass 3's rows: the candidates of pass 2 with shared locks, in the same
# global order. ``FOR SHARE`` waits for every transaction holding one of them
# for a change, then reads the row as that transaction left it.
_SHARED = (
    "SELECT balance.on_hand - balance.reserved AS free, overdue.due"
    + _candidate_rows(join="CROSS JOIN overdue", extra="AND balance.on_hand > 0")
    + GLOBAL_ORDER
    + " FOR SHARE OF balance"
)

# Pass 1: only rows with free stock, skipping rows another transaction holds
# (another allocation of the same product takes the next lot instead of
# queueing). ``LIMIT`` bounds how many rows one reservation holds; the caller
# asks again past ``taken`` while it still needs stock.
#
# The statement answers rows of two kinds (first column). ``picked``: the
# rows taken, each with ``pool.free``; with none taken there is still one,
# of NULLs but for ``pool.free``. When the snapshot shows nothing free at all,
# nothing was taken either (rows this transaction took in an earlier batch
# still show free to it), so the same statement goes on with pass 3 at no
# risk of a cycle: ``shared`` rows, one per candidate (the one-time filter on
# ``pool`` keeps that scan from running otherwise).
SKIP_LOCKED_CANDIDATES = (
    "WITH pool AS MATERIALIZED ("
    + _POOL
    + "), picked AS ("
    + _candidates("AND balance.on_hand > balance.reserved AND balance.id <> ALL(%(taken)s)")
    + FEFO_ORDER
    + " LIMIT %(limit)s FOR UPDATE OF balance SKIP LOCKED), overdue AS ("
    + _OVERDUE
    + "), shared AS ("
    + _SHARED
    + """)
    SELECT 'picked', picked.balance_id, picked.lot_id, picked.location_id, picked.free,
           picked.lot_code, picked.product_id, picked.location_code,
           picked.warehouse_id, picked.expires_on, picked.received_at, pool.free, NULL
      FROM pool LEFT JOIN picked ON true
     UNION ALL
    SELECT 'shared', NULL, NULL, NULL, shared.free, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, shared.due
      FROM shared
     WHERE (SELECT pool.free FROM pool) = 0
    """
)

# Pass 2: every candidate row, free or not, waiting (up to ``lock_timeout``)
# for the rows other transactions hold. Rows whose stock is held at read time
# are waited for too, because their holder may be about to release them. The
# rows are locked in the global order, not FEFO (the caller sorts them for
# taking), and only after the first pass's rows of this product were given
# back (a savepoint), so this wait never closes a cycle with another
# transaction.
WAITING_CANDIDATES = (
    _candidates("AND balance.on_hand > 0") + GLOBAL_ORDER + " FOR UPDATE OF balance"
)

# Pass 3 on its own, after the savepoint gave pass 1's rows back: when pass 1
# took some stock, short of the request, and the snapshot shows no more.
SHARED_CANDIDATES = "WITH overdue AS (" + _OVERDUE + ") " + _SHARED

# -- reservations -----------------------------------------------------------------------
#
# Ending a reservation touches two kinds of rows. Issue and cancel lock the
# reservation row first (``lock_reservation``), then its balances. Expiry goes
# the other way round, balances first, because an allocation that finds a
# shortage already holds its candidate balances when it looks for overdue
# holds; it therefore never waits for a reservation row (SKIP LOCKED), and the
# sweep locks the balances of its batch before touching the reservations.

# Expire open reservations past ``now`` that hold ``product`` in ``warehouse``.
# Called by an allocation that holds every candidate balance row of the product
# (the waiting pass): a sweep ending one of these reservations either finished
# before (the waiting pass waited for it) or waits behind us. A reservation row
# another transaction holds (a cancel in flight) is skipped, not waited for.
# The outer ``status = 'OPEN'`` re-check makes the transition, and so the
# release that follows it, happen once: only returned ids may be released.
# The locked candidates are a MATERIALIZED CTE so they are found once, whatever
# the planner estimates (as a subquery under stale statistics it was re-run per
# open reservation: 20 s over 3,000 of them).
EXPIRE_HOLDS_OF_PRODUCT = """
    WITH due AS MATERIALIZED (
        SELECT candidate.id
          FROM inventory_reservation AS candidate
         WHERE candidate.tenant_id = %(tenant)s
           AND candidate.warehouse_id = %(warehouse)s
           AND candidate.status = 'OPEN'
           AND candidate.expires_at IS NOT NULL
           AND candidate.expires_at <= %(now)s
           AND EXISTS (
                 SELECT 1 FROM inventory_reservationline AS line
                  WHERE line.tenant_id = candidate.tenant_id
                    AND line.reservation_id = candidate.id
                    AND line.product_id = %(product)s
                    AND line.allocated > 0)
         ORDER BY candidate.id
           FOR UPDATE SKIP LOCKED
    )
    UPDATE inventory_reservation AS reservation
       SET status = 'EXPIRED', expired_at = %(now)s
      FROM due
     WHERE reservation.id = due.id
       AND reservation.status = 'OPEN'
    RETURNING reservation.id
"""

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


def lock_reservation(reservation_id: int):
    """Lock one reservation row for a status change (issue, cancel); None when missing.

    Taken before any balance row, the order every reservation transition
    follows: two issues (or an issue and a cancel) of one reservation queue
    here, and the second sees the first's outcome.
    """
    from inventory.models import Reservation

    return (
        Reservation.objects.select_for_update(of=("self",))
        .select_related("warehouse")
        .filter(pk=reservation_id)
        .first()
    )


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

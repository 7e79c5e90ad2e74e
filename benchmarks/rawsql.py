"""The yardstick: a minimal raw-SQL reservation client (psycopg, no Django).

It does what a reservation must do and nothing else, in as few round trips
as the guarantees allow, as the app role under row-level security:

1. ``set_config`` of the tenant (transaction-local, as ``tenant_context``
   does) and of ``lock_timeout`` / ``statement_timeout``: one statement;
2. the candidate balance rows of the product in the warehouse, approved and
   unexpired lots only, in FEFO order (expiry, receipt time, lot id, bin),
   locked with ``FOR UPDATE SKIP LOCKED``; when they fall short, the same
   query without ``SKIP LOCKED`` (it waits for the rows others hold);
3. one statement (data-modifying CTEs) that inserts the operation, raises
   ``reserved`` on the chosen rows with a conditional ``UPDATE``, writes the
   reservation, its line and its allocations, and appends the ``RESERVE``
   ledger entries;
4. ``COMMIT``.

That is 3 statements plus BEGIN and COMMIT on the happy path. Deadlocks,
serialization failures and lock timeouts are retried around the whole
transaction like ``inventory.core.transactions.run_in_transaction`` does.
"""

from __future__ import annotations

import random
import time
import uuid
from decimal import Decimal

import psycopg

SETUP = (
    "SELECT set_config('app.tenant_id', %s, true), set_config('lock_timeout', '2s', true), "
    "set_config('statement_timeout', '15s', true)"
)

_CANDIDATES = """
SELECT b.id, b.on_hand - b.reserved
  FROM inventory_balance b
  JOIN inventory_lot l ON l.tenant_id = b.tenant_id AND l.id = b.lot_id
 WHERE b.tenant_id = %(tenant)s AND b.product_id = %(product)s AND b.warehouse_id = %(warehouse)s
   AND b.on_hand > b.reserved
   AND l.qc_status = 'APPROVED' AND (l.expires_on IS NULL OR l.expires_on >= current_date)
 ORDER BY l.expires_on NULLS LAST, l.received_at, l.id, b.location_id
 LIMIT %(limit)s
   FOR UPDATE OF b {mode}
"""
CANDIDATES_SKIP = _CANDIDATES.format(mode="SKIP LOCKED")
CANDIDATES_WAIT = _CANDIDATES.format(mode="")

RESERVE = """
WITH operation AS (
    INSERT INTO inventory_operation (tenant_id, key, kind, fingerprint, created_at)
    VALUES (%(tenant)s, %(key)s, 'raw.reservation', '', now())
    RETURNING id
), held AS (
    UPDATE inventory_balance b
       SET reserved = b.reserved + wanted.quantity, updated_at = now()
      FROM unnest(%(ids)s::bigint[], %(quantities)s::numeric[]) AS wanted(id, quantity)
     WHERE b.id = wanted.id AND b.on_hand >= b.reserved + wanted.quantity
    RETURNING b.tenant_id, b.product_id, b.warehouse_id, b.location_id, b.lot_id, wanted.quantity
), reservation AS (
    INSERT INTO inventory_reservation (tenant_id, warehouse_id, reference, status, allow_partial,
                                       expires_at, created_at, operation_id)
    SELECT %(tenant)s, %(warehouse)s, '', 'OPEN', false, NULL, now(), operation.id FROM operation
    RETURNING id
), line AS (
    INSERT INTO inventory_reservationline (tenant_id, reservation_id, product_id, quantity,
                                           allocated)
    SELECT %(tenant)s, reservation.id, %(product)s, %(quantity)s, %(quantity)s FROM reservation
    RETURNING id, reservation_id
), allocation AS (
    INSERT INTO inventory_allocation (tenant_id, reservation_id, line_id, lot_id, location_id,
                                      quantity)
    SELECT %(tenant)s, line.reservation_id, line.id, held.lot_id, held.location_id, held.quantity
      FROM line, held
)
INSERT INTO inventory_ledgerentry (tenant_id, occurred_at, kind, product_id, warehouse_id,
                                   location_id, lot_id, quantity, reason, operation_id)
SELECT held.tenant_id, now(), 'RESERVE', held.product_id, held.warehouse_id, held.location_id,
       held.lot_id, held.quantity, '', operation.id
  FROM held, operation
"""

RETRYABLE = {"40P01", "40001", "55P03"}
# As many rows as the service locks per batch (inventory.reservations.allocation.CANDIDATE_BATCH).
LOCK_BATCH = 8


class Shortage(Exception):
    code = "INSUFFICIENT_STOCK"


class Contention(Exception):
    code = "CONTENTION"


def _allocate(rows: list[tuple[int, Decimal]], quantity: Decimal) -> list[tuple[int, Decimal]]:
    taken, remaining = [], quantity
    for balance_id, available in rows:
        if remaining <= 0:
            break
        take = min(available, remaining)
        taken.append((balance_id, take))
        remaining -= take
    return taken if remaining <= 0 else []


class RawReservations:
    """One connection (the app role) reserving stock with hand-written SQL."""

    def __init__(self, conninfo: dict, *, tenant_id: int, warehouse_id: int, attempts: int = 3):
        self.connection = psycopg.connect(**conninfo, autocommit=False)
        self.tenant_id = tenant_id
        self.warehouse_id = warehouse_id
        self.attempts = attempts

    def close(self) -> None:
        self.connection.close()

    def reserve(self, product_id: int, quantity: Decimal = Decimal(1)) -> None:
        """Hold ``quantity`` of ``product_id``; raise ``Shortage`` or ``Contention``."""
        for attempt in range(1, self.attempts + 1):
            try:
                with self.connection.transaction():
                    self._reserve(product_id, quantity)
                return
            except psycopg.errors.OperationalError as error:
                if error.sqlstate not in RETRYABLE:
                    raise
                if attempt == self.attempts:
                    raise Contention() from error
                time.sleep(random.uniform(0.01, 0.05) * 2**attempt)

    def _reserve(self, product_id: int, quantity: Decimal) -> None:
        cursor = self.connection.cursor()
        cursor.execute(SETUP, [str(self.tenant_id)])
        params = {
            "tenant": self.tenant_id,
            "product": product_id,
            "warehouse": self.warehouse_id,
            "limit": LOCK_BATCH,
        }
        taken = _allocate(cursor.execute(CANDIDATES_SKIP, params).fetchall(), quantity)
        if not taken:
            # Skipping may have hidden rows that would do: wait for them, same order.
            params["limit"] = None
            taken = _allocate(cursor.execute(CANDIDATES_WAIT, params).fetchall(), quantity)
        if not taken:
            raise Shortage()
        cursor.execute(
            RESERVE,
            {
                "tenant": self.tenant_id,
                "key": f"raw:{uuid.uuid4()}",
                "warehouse": self.warehouse_id,
                "product": product_id,
                "quantity": quantity,
                "ids": [balance_id for balance_id, _ in taken],
                "quantities": [amount for _, amount in taken],
            },
        )
        if cursor.rowcount != len(taken):
            raise AssertionError("a locked balance refused its conditional update")

"""Monthly partitions of the ledger: the one upkeep job that changes the schema.

Runs as the ``owner`` connection (only a table's owner may add partitions to
it; no tenant rows are read or written, so row-level security is not
involved). ``manage.py ensure_partitions`` calls it, and so does every
``migrate`` (``inventory.apps``). Idempotent: a partition that exists is left
alone.

Partitions are bounded by calendar months in UTC. New partitions are closed
to the app and maintenance roles: rows are read and written through the parent
table, where the tenant policy applies.

A month whose entries already sit in the ``DEFAULT`` partition (an entry
dated beyond the partitions that existed when it was written) cannot get its
own partition without moving those rows, which the ledger's append-only
trigger forbids; such months are reported and skipped, and their entries stay
correct and visible in the default partition.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from config.database import ROLE_NAMES

PARENT = "inventory_ledgerentry"
DEFAULT_PARTITION = f"{PARENT}_default"
MONTHS_BACK = 12
MONTHS_AHEAD = 3

_EXISTING = """
    SELECT child.relname
      FROM pg_inherits
      JOIN pg_class child ON child.oid = pg_inherits.inhrelid
     WHERE pg_inherits.inhparent = %s::regclass
"""


@dataclass
class PartitionUpkeep:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def add_months(month: datetime.date, count: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def partition_name(month: datetime.date) -> str:
    return f"{PARENT}_y{month.year:04d}m{month.month:02d}"


def months_around(today: datetime.date, months_back: int, months_ahead: int) -> list[datetime.date]:
    first = today.replace(day=1)
    return [add_months(first, offset) for offset in range(-months_back, months_ahead + 1)]


def ensure_ledger_partitions(
    *,
    using: str = "owner",
    months_back: int = MONTHS_BACK,
    months_ahead: int = MONTHS_AHEAD,
    today: datetime.date | None = None,
) -> PartitionUpkeep:
    """Create the monthly partitions from ``months_back`` before to ``months_ahead`` after."""
    today = today or timezone.now().astimezone(datetime.UTC).date()
    result = PartitionUpkeep()
    users = f"{ROLE_NAMES['app']}, {ROLE_NAMES['maintenance']}"
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        # Two upkeep runs at once (two deploys migrating) would race to create
        # the same partition; the second waits here and then finds it.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [PARENT])
        cursor.execute(_EXISTING, [PARENT])
        existing = {row[0] for row in cursor.fetchall()}
        for month in months_around(today, months_back, months_ahead):
            name = partition_name(month)
            if name in existing:
                result.existing.append(name)
                continue
            start, end = month, add_months(month, 1)
            try:
                with transaction.atomic(using=using):
                    cursor.execute(
                        f'CREATE TABLE "{name}" PARTITION OF "{PARENT}" '
                        f"FOR VALUES FROM ('{start.isoformat()} 00:00:00+00') "
                        f"TO ('{end.isoformat()} 00:00:00+00')"
                    )
                    cursor.execute(f'REVOKE ALL ON "{name}" FROM {users}')
            except IntegrityError:
                # The default partition holds entries of this month (see above).
                result.skipped.append(name)
            else:
                result.created.append(name)
    return result


def ledger_is_owned_by(using: str) -> bool:
    """Whether the ledger exists and this connection's role may add partitions to it."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_userbyid(relowner) = current_user FROM pg_class "
            "WHERE oid = to_regclass(%s)",
            [PARENT],
        )
        row = cursor.fetchone()
    return bool(row and row[0])

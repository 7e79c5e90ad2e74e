"""Generate a large tenant for analytics work and measurement.

``manage.py generate_analytics_tenant --slug bench --products 10000 --lots 50000
--entries 2000000 --months 24 [--seed N] [--replace]`` builds a tenant with two
warehouses and their bins, a catalog, lots received over the last ``--months``
months and exactly ``--entries`` ledger entries, with shipped orders and the
balances the ledger adds up to. The same flags and seed give the same data
(times are relative to the moment of the run).

Everything is written by a few set-based statements in one transaction on the
``owner`` connection, acting for the new tenant (the tables force row-level
security on their owner too), so a failed run leaves nothing behind. The
shape of the data:

* every lot has one ``RECEIPT`` into a receiving bin and a put-away
  (``MOVE_OUT``/``MOVE_IN``) to its home bin: a storage or pick bin, or the
  quarantine bin for a lot in ``QUARANTINE`` or ``REJECTED``;
* the other entries (``SHIP`` of shipped orders, ``ADJUST`` write-offs,
  ``COUNT`` differences) belong to approved lots, at the home bin, after the
  put-away and before the lot expires. A lot's receipt is the sum of its
  removals plus what is left, so no balance is ever negative at any moment;
* demand follows a Zipf curve over the products (in an order unrelated to the
  SKUs), so an ABC analysis finds a few products carrying most of the value;
  popular products also have more lots, and the best sellers have reorder
  rules in the warehouses they ship from;
* consecutive shipments of a warehouse form its orders (four lines each),
  each order with a customer (a skewed choice among a few hundred) and the
  operation its ``SHIP`` entries carry, as the order screens write them.

``--replace`` deletes a tenant this command made before (and only such a
tenant) with every row it owns, ledger included, and builds it again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug
from django.db import DatabaseError, connections, transaction

from inventory.ledger.partitions import ensure_ledger_partitions
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context

USING = "owner"
# The operation every generated entry but the shipments carries; --replace
# looks for it to know that a tenant is one this command made.
MARKER_KIND = "analytics.generate"
LINES_PER_ORDER = 4
LIMITS = {
    "products": (1, 1_000_000),
    "lots": (1, 5_000_000),
    "entries": (3, 50_000_000),
    "months": (1, 120),
    "seed": (0, 2**31 - 1),
}
# Bins per warehouse: receiving, quarantine, storage, pick, shipping.
LAYOUT = {
    "DC1": ("Main DC", "Europe/Berlin", (2, 2, 240, 60, 1)),
    "DC2": ("Second DC", "Europe/Warsaw", (2, 2, 120, 30, 1)),
}
TOUCHED_TABLES = (
    "warehouse_warehouse",
    "warehouse_location",
    "inventory_product",
    "inventory_lot",
    "inventory_operation",
    "inventory_order",
    "inventory_orderline",
    "inventory_ledgerentry",
    "inventory_balance",
    "analytics_reorderrule",
)


def uniform(key: str, salt: int) -> str:
    """SQL for a number in [0, 1) fixed by ``key``, the seed and ``salt`` (no random())."""
    return (
        f"((hashint8extended(({key})::bigint, %(seed)s::bigint * 64 + {salt}) & 2147483647)"
        "::float8 / 2147483648.0)"
    )


_WAREHOUSE = """
INSERT INTO warehouse_warehouse (tenant_id, code, name, time_zone, is_active)
VALUES (%(tenant)s, %(code)s, %(name)s, %(time_zone)s, true) RETURNING id
"""

_LOCATIONS = """
INSERT INTO warehouse_location (tenant_id, warehouse_id, code, kind, pick_sequence, is_active)
SELECT %(tenant)s, %(warehouse)s, layout.prefix || lpad(n::text, 3, '0'), layout.kind,
       layout.first + n, true
  FROM (VALUES ('RCV-', 'receiving', %(receiving)s, 9000),
               ('QC-', 'quarantine', %(quarantine)s, 8000),
               ('S-', 'storage', %(storage)s, 1000), ('P-', 'pick', %(pick)s, 0),
               ('SHIP-', 'shipping', %(shipping)s, 9500)) AS layout (prefix, kind, count, first)
 CROSS JOIN LATERAL generate_series(1, layout.count) AS n
"""

_PRODUCTS = f"""
INSERT INTO inventory_product (tenant_id, sku, name, uom, qc_required, shelf_life_days,
                               unit_cost, attributes, gtin, is_active, created_at)
SELECT %(tenant)s, 'AN-' || lpad(n::text, 6, '0'),
       (ARRAY['Flour', 'Rice', 'Olive oil', 'Tomatoes', 'Coffee', 'Sugar', 'Salt', 'Pasta',
              'Vaccine', 'Gloves', 'Detergent', 'Cable'])[1 + n %% 12]
           || ' ' || (ARRAY['fine', 'organic', 'bulk', 'premium', 'catering', 'retail', 'export'])
           [1 + (n / 12) %% 7] || ' ' || n,
       (ARRAY['ea', 'ea', 'ea', 'ea', 'box', 'box', 'kg', 'kg', 'l', 'm'])
           [1 + floor({uniform("n", 1)} * 10)::int],
       {uniform("n", 2)} < 0.2,
       CASE WHEN {uniform("n", 3)} < 0.3 THEN NULL
            ELSE (ARRAY[30, 60, 90, 180, 365, 540, 730])[1 + floor({uniform("n", 4)} * 7)::int]
       END,
       round((0.25 + 250 * power({uniform("n", 5)}, 3))::numeric, 2),
       jsonb_build_object('origin', (ARRAY['IT', 'ES', 'DE', 'PL', 'NL'])[1 + n %% 5]),
       '', true, now() - make_interval(months => %(months)s, days => 1)
  FROM generate_series(1, %(products)s) AS n
"""

# Zipf demand over the products in a seeded order; lots spread by the same
# weights (one each first when there are enough). Telescoping floors of the
# running share add up to exactly the number asked for.
_PRODUCT_PLAN = """
CREATE TEMPORARY TABLE generated_product ON COMMIT DROP AS
WITH ranked AS (
    SELECT id, uom, qc_required, shelf_life_days, unit_cost,
           1.0::float8 / row_number() OVER (ORDER BY hashint8extended(id, %(seed)s), id) AS weight,
           row_number() OVER (ORDER BY hashint8extended(id, %(seed)s), id) AS popularity
      FROM inventory_product WHERE tenant_id = %(tenant)s
), running AS (
    SELECT *, sum(weight) OVER (ORDER BY popularity) AS upto FROM ranked
), shares AS (
    SELECT *, coalesce(lag(upto) OVER (ORDER BY popularity), 0) / max(upto) OVER () AS before,
           upto / max(upto) OVER () AS through
      FROM running
)
SELECT id, uom, qc_required, shelf_life_days, unit_cost, weight, popularity,
       %(base_lots)s + (floor(%(extra_lots)s * through)
                        - floor(%(extra_lots)s * before))::int AS lots,
       CASE WHEN uom IN ('kg', 'l', 'm') THEN 2.5 ELSE 1 END AS unit_step
  FROM shares
"""

_BINS = """
CREATE TEMPORARY TABLE generated_bins ON COMMIT DROP AS
SELECT warehouse_id,
       array_agg(id ORDER BY id) FILTER (WHERE kind = 'receiving') AS receiving,
       array_agg(id ORDER BY id) FILTER (WHERE kind = 'quarantine') AS quarantine,
       array_agg(id ORDER BY id) FILTER (WHERE kind IN ('storage', 'pick')) AS home,
       row_number() OVER (ORDER BY warehouse_id) AS number
  FROM warehouse_location WHERE tenant_id = %(tenant)s
 GROUP BY warehouse_id
"""

# One row per lot with its id taken from the lot sequence, so entries can name it.
_LOT_PLAN = f"""
CREATE TEMPORARY TABLE generated_lot ON COMMIT DROP AS
WITH lot AS (
    SELECT nextval(pg_get_serial_sequence('inventory_lot', 'id')) AS id, p.id AS product_id,
           p.qc_required, p.shelf_life_days, p.unit_cost AS product_cost, p.unit_step,
           p.weight / p.lots AS weight
      FROM generated_product p CROSS JOIN LATERAL generate_series(1, p.lots) AS k
), received AS (
    SELECT lot.*, now() - make_interval(months => %(months)s)
               + {uniform("lot.id", 11)} * (make_interval(months => %(months)s) - interval '1 day')
               AS received_at,
           CASE WHEN {uniform("lot.id", 12)} < 0.7 THEN 1 ELSE 2 END AS site
      FROM lot
), decided AS (
    SELECT received.*,
           CASE WHEN NOT qc_required THEN 'APPROVED'
                WHEN received_at > now() - interval '10 days' THEN 'QUARANTINE'
                WHEN {uniform("id", 13)} < 0.06 THEN 'REJECTED' ELSE 'APPROVED' END AS qc_status,
           (received_at + make_interval(days => shelf_life_days))::date AS expires_on
      FROM received
), placed AS (
    SELECT decided.*, bins.warehouse_id,
           bins.receiving[1 + id %% cardinality(bins.receiving)] AS receiving_bin,
           CASE WHEN qc_status = 'APPROVED'
                THEN bins.home[1 + floor({uniform("id", 14)} * cardinality(bins.home))::int]
                ELSE bins.quarantine[1 + id %% cardinality(bins.quarantine)] END AS home_bin,
           CASE WHEN qc_status = 'QUARANTINE' THEN NULL
                WHEN NOT qc_required THEN received_at
                ELSE least(now(), received_at + (1 + 2 * {uniform("id", 15)}) * interval '1 day')
           END AS qc_at,
           round(product_cost * (0.85 + 0.3 * {uniform("id", 16)})::numeric, 4) AS unit_cost
      FROM decided JOIN generated_bins bins ON bins.number = decided.site
)
SELECT placed.*,
       least(now(), coalesce(qc_at, received_at) + (20 + 100 * {uniform("id", 17)})
                    * interval '1 minute') AS put_away_at,
       least(now(), received_at + interval '240 days',
             coalesce(expires_on::timestamptz, 'infinity')) AS horizon,
       0 AS events
  FROM placed
"""

_LOTS = """
INSERT INTO inventory_lot (id, tenant_id, product_id, code, expires_on, received_at, unit_cost,
                           qc_status, qc_at, qc_note)
SELECT id, %(tenant)s, product_id, 'LOT-' || lpad(id::text, 9, '0'), expires_on, received_at,
       unit_cost, qc_status, qc_at,
       CASE qc_status WHEN 'REJECTED' THEN 'Certificate missing'
                      WHEN 'APPROVED' THEN
                          CASE WHEN qc_required THEN 'Certificate checked' ELSE '' END
                      ELSE '' END
  FROM generated_lot
"""

# The movements beyond receipts and put-aways, spread over approved lots by weight.
_EVENT_SHARES = """
WITH running AS (
    SELECT id, sum(weight) OVER (ORDER BY id) AS upto
      FROM generated_lot WHERE qc_status = 'APPROVED'
), shares AS (
    SELECT id, coalesce(lag(upto) OVER (ORDER BY id), 0) / max(upto) OVER () AS before,
           upto / max(upto) OVER () AS through
      FROM running
)
UPDATE generated_lot lot
   SET events = (floor(%(events)s * shares.through) - floor(%(events)s * shares.before))::int
  FROM shares WHERE shares.id = lot.id
"""

_EVENTS = f"""
CREATE TEMPORARY TABLE generated_event ON COMMIT DROP AS
WITH event AS (
    SELECT lot.id AS lot_id, lot.product_id, lot.warehouse_id, lot.home_bin, lot.unit_step,
           lot.put_away_at + {uniform("lot.id * 1000003 + n", 21)} * (lot.horizon - lot.put_away_at)
               AS occurred_at,
           {uniform("lot.id * 1000003 + n", 22)} AS pick,
           {uniform("lot.id * 1000003 + n", 23)} AS size
      FROM generated_lot lot CROSS JOIN LATERAL generate_series(1, lot.events) AS n
)
SELECT row_number() OVER () AS id, lot_id, product_id, warehouse_id, home_bin, occurred_at,
       CASE WHEN pick < 0.88 THEN 'SHIP' WHEN pick < 0.94 THEN 'ADJUST' ELSE 'COUNT' END AS kind,
       unit_step * CASE WHEN pick < 0.88 THEN -(1 + floor(power(size, 2) * 12))
                        WHEN pick < 0.94 THEN -(1 + floor(size * 3))
                        WHEN size < 0.6 THEN -1 ELSE 1 END AS quantity,
       CASE WHEN pick < 0.88 THEN ''
            WHEN pick < 0.94 THEN (ARRAY['Damaged: crushed in handling', 'Expired',
                                         'Theft', 'Damaged: water'])[1 + floor(size * 4)::int]
            ELSE 'Cycle count' END AS reason
  FROM event
"""

# Consecutive shipments of a warehouse make an order.
_SHIPMENT_GROUPS = f"""
CREATE TEMPORARY TABLE generated_shipment ON COMMIT DROP AS
SELECT id AS event_id, warehouse_id,
       (row_number() OVER (PARTITION BY warehouse_id ORDER BY occurred_at, lot_id) - 1)
           / {LINES_PER_ORDER} AS number
  FROM generated_event WHERE kind = 'SHIP'
"""

_ORDER_PLAN = """
CREATE TEMPORARY TABLE generated_order ON COMMIT DROP AS
SELECT nextval(pg_get_serial_sequence('inventory_order', 'id')) AS id,
       nextval(pg_get_serial_sequence('inventory_operation', 'id')) AS operation_id,
       grouped.*
  FROM (SELECT s.warehouse_id, s.number, max(e.occurred_at) AS shipped_at,
               min(e.occurred_at) AS first_pick
          FROM generated_shipment s JOIN generated_event e ON e.id = s.event_id
         GROUP BY s.warehouse_id, s.number) AS grouped
"""

_ORDERS = f"""
WITH operation AS (
    INSERT INTO inventory_operation (id, tenant_id, key, kind, fingerprint, created_at)
    SELECT operation_id, %(tenant)s, NULL, 'order.ship', '', shipped_at FROM generated_order
)
INSERT INTO inventory_order (id, tenant_id, reference, customer, warehouse_id, status, created_at,
                             allocated_at, shipped_at, shipment_operation_id)
SELECT id, %(tenant)s, 'SO-' || lpad(id::text, 9, '0'),
       'Customer ' || lpad(floor(%(customers)s * power({uniform("id", 31)}, 2))::int::text, 4, '0'),
       warehouse_id, 'SHIPPED',
       first_pick - (2 + 46 * {uniform("id", 32)}) * interval '1 hour', first_pick, shipped_at,
       operation_id
  FROM generated_order
"""

_ORDER_LINES = """
INSERT INTO inventory_orderline (tenant_id, order_id, product_id, quantity)
SELECT %(tenant)s, o.id, e.product_id, -sum(e.quantity)
  FROM generated_shipment s
  JOIN generated_event e ON e.id = s.event_id
  JOIN generated_order o ON o.warehouse_id = s.warehouse_id AND o.number = s.number
 GROUP BY o.id, e.product_id
"""

# A lot's receipt covers all its removals and what is left of it: old and
# expired lots are mostly used up, recent ones mostly still in stock.
_RECEIPTS_AND_PUT_AWAYS = f"""
WITH removed AS (
    SELECT lot_id, -sum(quantity) FILTER (WHERE quantity < 0) AS quantity
      FROM generated_event GROUP BY lot_id
), received AS (
    SELECT lot.*, coalesce(removed.quantity, 0) + lot.unit_step * CASE
               WHEN {uniform("lot.id", 41)} < CASE WHEN lot.horizon < now() THEN 0.85 ELSE 0.1 END
               THEN 0 ELSE 5 + floor({uniform("lot.id", 42)} * 200) END AS quantity
      FROM generated_lot lot LEFT JOIN removed ON removed.lot_id = lot.id
), placed AS (
    SELECT received.*, greatest(quantity, unit_step) AS receipt FROM received
)
INSERT INTO inventory_ledgerentry (tenant_id, occurred_at, kind, product_id, warehouse_id,
                                   location_id, lot_id, quantity, reason, operation_id)
SELECT %(tenant)s, step.occurred_at, step.kind, product_id, warehouse_id, step.location_id, id,
       step.quantity, '', %(operation)s
  FROM placed CROSS JOIN LATERAL (VALUES
       (received_at, 'RECEIPT', receiving_bin, receipt),
       (put_away_at, 'MOVE_OUT', receiving_bin, -receipt),
       (put_away_at, 'MOVE_IN', home_bin, receipt)
       ) AS step (occurred_at, kind, location_id, quantity)
"""

_MOVEMENTS = """
INSERT INTO inventory_ledgerentry (tenant_id, occurred_at, kind, product_id, warehouse_id,
                                   location_id, lot_id, quantity, reason, operation_id)
SELECT %(tenant)s, coalesce(o.shipped_at, e.occurred_at), e.kind, e.product_id, e.warehouse_id,
       e.home_bin, e.lot_id, e.quantity, e.reason, coalesce(o.operation_id, %(operation)s)
  FROM generated_event e
  LEFT JOIN generated_shipment s ON s.event_id = e.id
  LEFT JOIN generated_order o ON o.warehouse_id = s.warehouse_id AND o.number = s.number
"""

_BALANCES = """
INSERT INTO inventory_balance (tenant_id, lot_id, location_id, product_id, warehouse_id,
                               on_hand, reserved, updated_at)
SELECT tenant_id, lot_id, location_id, product_id, warehouse_id,
       coalesce(sum(quantity) FILTER (WHERE kind NOT IN ('RESERVE', 'RELEASE')), 0),
       coalesce(sum(quantity) FILTER (WHERE kind IN ('RESERVE', 'RELEASE')), 0), now()
  FROM inventory_ledgerentry WHERE tenant_id = %(tenant)s
 GROUP BY tenant_id, lot_id, location_id, product_id, warehouse_id
"""

# Rules for the best sellers (a third of the catalog) where they move: about
# two weeks of their recent demand as the point, a month's as the quantity.
_REORDER_RULES = """
INSERT INTO analytics_reorderrule (tenant_id, product_id, warehouse_id, reorder_point,
                                   reorder_quantity, enabled, updated_at)
SELECT %(tenant)s, e.product_id, e.warehouse_id,
       greatest(p.unit_step, round(coalesce(-sum(e.quantity) FILTER (
           WHERE e.kind = 'SHIP' AND e.occurred_at > now() - interval '90 days'), 0) / 90 * 14)),
       greatest(p.unit_step, round(coalesce(-sum(e.quantity) FILTER (
           WHERE e.kind = 'SHIP' AND e.occurred_at > now() - interval '90 days'), 0) / 90 * 30)),
       p.popularity %% 20 <> 7, now()
  FROM generated_event e JOIN generated_product p ON p.id = e.product_id
 WHERE p.popularity <= greatest(1, %(products)s / 3)
 GROUP BY e.product_id, e.warehouse_id, p.unit_step, p.popularity
"""

_COUNTS = """
SELECT (SELECT count(*) FROM inventory_order), (SELECT count(*) FROM inventory_orderline),
       (SELECT count(*) FROM inventory_balance), (SELECT count(*) FROM analytics_reorderrule)
"""

_TENANT_TABLES = """
SELECT format('%%I.%%I', n.nspname, c.relname)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_temp%%'
 ORDER BY 1
"""


class Command(BaseCommand):
    help = (
        "Build a large generated tenant (two warehouses, products, lots, ledger entries over "
        "the last months, shipped orders, balances) for analytics work and benchmarks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--products", type=int, default=10_000)
        parser.add_argument("--lots", type=int, default=50_000)
        parser.add_argument("--entries", type=int, default=2_000_000)
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete a tenant of this slug made by this command before, and build it again.",
        )

    def handle(self, *args, **options):
        plan = validated(options)
        started = time.monotonic()
        with self.step("ledger partitions"):
            ensure_ledger_partitions(using=USING, months_back=plan["months"] + 1)
        try:
            with transaction.atomic(using=USING):
                tenant = self.make_tenant(plan["slug"], replace=options["replace"])
                with tenant_context(tenant.id, using=USING), connections[USING].cursor() as cursor:
                    self.fill(cursor, {**plan, "tenant": tenant.id})
        except DatabaseError as error:
            raise CommandError(f"Nothing was written: {error}") from error
        with self.step("ANALYZE"), connections[USING].cursor() as cursor:
            for table in TOUCHED_TABLES:
                cursor.execute(f'ANALYZE "{table}"')
        with tenant_context(tenant.id, using=USING), connections[USING].cursor() as cursor:
            cursor.execute(_COUNTS)
            counts = dict(zip(("orders", "order lines", "balances", "reorder rules"),
                              cursor.fetchone(), strict=True))  # fmt: skip
        self.stdout.write(", ".join(f"{count:,} {name}" for name, count in counts.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Tenant {plan['slug']!r} (id {tenant.id}) generated in "
                f"{time.monotonic() - started:.1f} s."
            )
        )

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        started = time.monotonic()
        yield
        self.stdout.write(f"  {label:<34} {time.monotonic() - started:7.1f} s")
        self.stdout.flush()

    def make_tenant(self, slug: str, *, replace: bool) -> Tenant:
        existing = Tenant.objects.using(USING).filter(slug=slug).first()
        if existing is not None:
            if not replace:
                raise CommandError(
                    f"Tenant {slug!r} already exists; nothing was changed. "
                    "Pass --replace to delete it and generate it again."
                )
            with self.step(f"delete tenant {slug!r}"):
                delete_generated_tenant(existing)
        return Tenant.objects.using(USING).create(slug=slug, name=f"Generated {slug}")

    def fill(self, cursor, plan: dict) -> None:
        # The bulk statements outlast any statement timeout, and sort millions of rows.
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            "INSERT INTO inventory_operation (tenant_id, key, kind, fingerprint, created_at) "
            "VALUES (%(tenant)s, NULL, %(kind)s, %(fingerprint)s, now()) RETURNING id",
            {**plan, "kind": MARKER_KIND, "fingerprint": fingerprint(plan)},
        )
        plan["operation"] = cursor.fetchone()[0]
        with self.step("warehouses and bins"):
            for code, (name, time_zone, counts) in LAYOUT.items():
                cursor.execute(_WAREHOUSE, {**plan, "code": code, "name": name,
                                            "time_zone": time_zone})  # fmt: skip
                warehouse = cursor.fetchone()[0]
                kinds = dict(zip(("receiving", "quarantine", "storage", "pick", "shipping"),
                                 counts, strict=True))  # fmt: skip
                cursor.execute(_LOCATIONS, {**plan, **kinds, "warehouse": warehouse})
            cursor.execute(_BINS, plan)
            analyze(cursor, "generated_bins", "warehouse_warehouse", "warehouse_location")
        with self.step(f"{plan['products']:,} products"):
            cursor.execute(_PRODUCTS, plan)
            analyze(cursor, "inventory_product")
            cursor.execute(_PRODUCT_PLAN, plan)
            analyze(cursor, "generated_product")
        with self.step(f"{plan['lots']:,} lots"):
            cursor.execute(_LOT_PLAN, plan)
            analyze(cursor, "generated_lot")
            cursor.execute(_LOTS, plan)
            analyze(cursor, "inventory_lot")
        with self.step("movements planned"):
            cursor.execute(_EVENT_SHARES, plan)
            cursor.execute("SELECT coalesce(sum(events), 0) FROM generated_lot")
            if cursor.fetchone()[0] != plan["events"]:
                raise CommandError(
                    "No lot came out approved to carry the shipments, adjustments and counts; "
                    "nothing was written. Ask for more lots or another --seed."
                )
            cursor.execute(_EVENTS, plan)
            analyze(cursor, "generated_lot", "generated_event")
            cursor.execute(_SHIPMENT_GROUPS, plan)
            analyze(cursor, "generated_shipment")
        with self.step("orders and customers"):
            cursor.execute(_ORDER_PLAN, plan)
            analyze(cursor, "generated_order")
            cursor.execute(_ORDERS, plan)
            analyze(cursor, "inventory_order", "inventory_operation")
            cursor.execute(_ORDER_LINES, plan)
        with self.step(f"{plan['entries']:,} ledger entries"):
            cursor.execute(_RECEIPTS_AND_PUT_AWAYS, plan)
            cursor.execute(_MOVEMENTS, plan)
        with self.step("balances"):
            cursor.execute(_BALANCES, plan)
        with self.step("reorder rules"):
            cursor.execute(_REORDER_RULES, plan)


def analyze(cursor, *tables: str) -> None:
    # Tables filled in this transaction have no statistics yet: the planner
    # would guess nested loops over millions of rows, and the foreign key
    # checks of the next insert would scan the referenced table once per row.
    for table in tables:
        cursor.execute(f"ANALYZE {table}")


def validated(options: dict) -> dict:
    """The sizes and slug, each within its bounds; ``CommandError`` names the first that is not."""
    slug = options["slug"]
    try:
        validate_slug(slug)
    except ValidationError:
        raise CommandError(f"--slug {slug!r}: letters, digits, '-' and '_' only.") from None
    if len(slug) > 63:
        raise CommandError("--slug: at most 63 characters.")
    plan = {"slug": slug}
    for name, (low, high) in LIMITS.items():
        value = options[name]
        if not low <= value <= high:
            raise CommandError(f"--{name} must be between {low:,} and {high:,} (got {value:,}).")
        plan[name] = value
    if plan["entries"] < 3 * plan["lots"]:
        raise CommandError(
            "--entries must be at least three per lot (a receipt and a put-away move each): "
            f"{3 * plan['lots']:,} for {plan['lots']:,} lots."
        )
    enough = plan["lots"] >= plan["products"]
    plan["base_lots"] = 1 if enough else 0
    plan["extra_lots"] = plan["lots"] - plan["products"] if enough else plan["lots"]
    plan["events"] = plan["entries"] - 3 * plan["lots"]
    plan["customers"] = max(10, min(2_000, plan["products"] // 20))
    return plan


def fingerprint(plan: dict) -> str:
    """What the generated data was made from, kept on the marker operation (64 characters)."""
    text = "p{products} l{lots} e{entries} m{months} s{seed}".format(**plan)
    return text[:64]


def delete_generated_tenant(tenant: Tenant) -> None:
    """Delete every row of ``tenant`` (ledger included) and the tenant; only a generated one.

    Runs inside the caller's transaction on the owner connection. The ledger
    refuses deletes by a trigger for every role; the owner switches it off for
    this transaction only (``ALTER TABLE`` is transactional), which also keeps
    other writers of the ledger waiting until the transaction ends.
    """
    with tenant_context(tenant.id, using=USING), connections[USING].cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM inventory_operation WHERE tenant_id = %s AND kind = %s",
            [tenant.id, MARKER_KIND],
        )
        if cursor.fetchone() is None:
            raise CommandError(
                f"Tenant {tenant.slug!r} was not made by this command; it is left alone."
            )
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(_TENANT_TABLES, [])
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute("ALTER TABLE inventory_ledgerentry DISABLE TRIGGER ledger_append_only")
        pending = tables
        # A foreign key that cannot wait for the commit needs its referencing
        # rows gone first: retry such tables after the others.
        while pending:
            refused = []
            for table in pending:
                try:
                    with transaction.atomic(using=USING):
                        cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.id])
                except DatabaseError:
                    refused.append(table)
            if len(refused) == len(pending):
                raise CommandError(f"Could not delete the rows of {', '.join(refused)}.")
            pending = refused
        cursor.execute("ALTER TABLE inventory_ledgerentry ENABLE TRIGGER ledger_append_only")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("DELETE FROM warehouse_tenant WHERE id = %s", [tenant.id])

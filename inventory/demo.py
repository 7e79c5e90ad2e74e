"""Demo stock: a catalog, lots in every QC state, and months of ledger history.

Builds on ``warehouse.demo`` (tenants, people, warehouses, bins). Every stock
change goes through the services inside ``run_idempotent`` with a fixed
``demo:`` key, so loading the demo twice replays instead of adding anything;
the random choices come from a seeded generator, so each run plans the same
steps. History is backdated over the last five months (``occurred_at``),
with receipts, QC decisions, put-away moves, shipments, damage adjustments
and cycle counts; the newest lots of QC products are still in quarantine,
some lots are rejected, and some perishables are close to expiry.
"""

from __future__ import annotations

import contextlib
import datetime
import random
import zlib
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from inventory.catalog.selectors import get_location_by_code, get_warehouse_by_code
from inventory.catalog.services import create_product
from inventory.core.errors import InsufficientStock, LotNotApproved, LotNotInQuarantine
from inventory.core.idempotency import run_idempotent
from inventory.ledger.posting import Actor
from inventory.lots.selectors import get_lot
from inventory.lots.services import approve_lot, reject_lot
from inventory.models import LedgerEntry, Product
from inventory.stock.counts import CountLine, post_count
from inventory.stock.movements import adjust_stock, move_stock, ship_stock
from inventory.stock.receipts import receive_stock
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context

HISTORY_DAYS = 150

# sku, name, uom, qc_required, shelf life (days), unit cost, attributes
CATALOG = {
    "northwind": [
        (
            "FLR-WHT-25",
            "Wheat flour, 25 kg sack",
            "kg",
            False,
            270,
            "0.62",
            {"brand": "Mills & Co", "allergens": "gluten"},
        ),
        ("SUG-CST-10", "Caster sugar, 10 kg bag", "kg", False, 720, "0.95", {"brand": "Sweetline"}),
        ("OIL-SUN-5L", "Sunflower oil, 5 l can", "l", False, 365, "1.80", {"origin": "Ukraine"}),
        ("RCE-BAS-5", "Basmati rice, 5 kg bag", "kg", False, None, "1.40", {"origin": "India"}),
        (
            "MLK-UHT-1L",
            "UHT whole milk, 1 l carton",
            "ea",
            True,
            90,
            "0.79",
            {"storage": "ambient", "allergens": "milk"},
        ),
        (
            "YGT-NAT-500",
            "Natural yoghurt, 500 g pot",
            "ea",
            True,
            21,
            "0.65",
            {"storage": "chilled", "allergens": "milk"},
        ),
        (
            "EGG-FRR-30",
            "Free-range eggs, tray of 30",
            "ea",
            True,
            28,
            "4.20",
            {"storage": "chilled", "grade": "A"},
        ),
        (
            "CHS-CHD-2",
            "Mature cheddar, 2 kg block",
            "kg",
            True,
            120,
            "8.90",
            {"storage": "chilled", "allergens": "milk"},
        ),
        (
            "BOX-CRT-M",
            "Shipping carton, medium",
            "ea",
            False,
            None,
            "0.35",
            {"dimensions": "40 x 30 x 30 cm"},
        ),
    ],
    "harbor": [
        ("ROPE-NYL-12", "Nylon mooring rope, 12 mm", "m", False, None, "1.15", {"colour": "blue"}),
        (
            "PNT-MAR-5L",
            "Marine antifouling paint, 5 l",
            "l",
            True,
            730,
            "54.00",
            {"hazard": "flammable"},
        ),
        (
            "BLT-SS-M8",
            "Stainless steel bolt M8 x 40",
            "ea",
            False,
            None,
            "0.22",
            {"material": "A4 stainless"},
        ),
        ("FLR-RED-HH", "Red hand flare", "ea", True, 1095, "18.50", {"hazard": "explosive"}),
    ],
}

# tenant -> [(warehouse code, skus stocked there, storage bins, receiving bin, QC bin)]
STOCKING = {
    "northwind": [
        ("MAIN", None, ["A-01-01", "A-01-02", "A-01-03", "B-01-01", "B-01-02"], "RCV-01", "QC-01"),
        ("EAST", ["FLR-WHT-25", "RCE-BAS-5", "MLK-UHT-1L"], ["C-01-01", "C-01-02"], "RCV-01", None),
    ],
    "harbor": [
        ("PORT", None, ["H-01-01", "H-01-02", "H-01-03"], "RCV-01", None),
    ],
}

PEOPLE = {
    "northwind": {"operator": "operator", "inspector": "inspector", "manager": "manager"},
    "harbor": {"operator": "harbor", "inspector": "harbor", "manager": "harbor"},
}


class _Tenant:
    """Runs one tenant's demo steps, each under its own idempotency key."""

    def __init__(self, tenant: Tenant, now: datetime.datetime):
        self.tenant = tenant
        self.now = now
        users = get_user_model().objects.in_bulk(
            set(PEOPLE[tenant.slug].values()), field_name="username"
        )
        self.actors = {
            role: Actor.user(users[username]) for role, username in PEOPLE[tenant.slug].items()
        }

    def step(self, key: str, kind: str, perform) -> dict | None:
        """One idempotent step; a refused step (not enough stock left) is skipped."""
        try:
            return run_idempotent(
                tenant=self.tenant,
                key=f"demo:{key}",
                kind=kind,
                payload={"demo": key},
                perform=perform,
            ).body
        except (InsufficientStock, LotNotApproved):
            return None

    def product(self, sku, name, uom, qc_required, shelf_life_days, unit_cost, attributes):
        with tenant_context(self.tenant.pk):
            existing = Product.objects.filter(sku=sku).first()
        if existing:
            return existing
        return create_product(
            tenant=self.tenant,
            sku=sku,
            name=name,
            uom=uom,
            qc_required=qc_required,
            shelf_life_days=shelf_life_days,
            unit_cost=Decimal(unit_cost),
            attributes=attributes,
        )

    def at(self, days_ago: float) -> datetime.datetime:
        return self.now - datetime.timedelta(days=days_ago)

    def stock_lot(self, *, product, warehouse, bins, receiving, qc_bin, number, days_ago):
        tenant = self.tenant
        code = f"{product.sku[:3]}-{warehouse.code}-{number:03d}"
        key = f"{warehouse.code}:{code}"
        # Every draw is made whether or not a step runs or replays, so a second
        # load plans exactly the steps (and keys) of the first.
        rand = random.Random(f"stockyard-demo-{self.tenant.slug}-{key}")
        whole = product.quantity_places == 0
        quantity = Decimal(rand.randrange(40, 400)) if whole else Decimal(rand.randrange(200, 2000))
        if not whole:
            quantity += Decimal(rand.randrange(0, 1000)) / 1000
        unit_cost = product.unit_cost * Decimal(rand.choice(["0.95", "1", "1.05"]))
        expires_on = None
        if product.shelf_life_days and number % 5 == 4:
            # A perishable lot close to its date, for the expiry screens.
            expires_on = (self.now + datetime.timedelta(days=rand.randrange(2, 9))).date()

        def receive(operation):
            receipt = receive_stock(
                tenant=tenant,
                product=product,
                warehouse=warehouse,
                location=receiving,
                lot_code=code,
                quantity=quantity,
                expires_on=expires_on,
                unit_cost=unit_cost,
                actor=self.actors["operator"],
                occurred_at=self.at(days_ago),
                operation=operation,
            )
            return 201, {"lot_id": receipt.lot.pk}

        body = self.step(f"{key}:receipt", "receipt", receive)
        with tenant_context(tenant.pk):
            lot = get_lot(body["lot_id"])
        location = receiving

        if product.qc_required:
            if qc_bin is not None:
                self.move(key + ":to-qc", lot, receiving, qc_bin, quantity, days_ago - 0.05)
                location = qc_bin
            if days_ago < 4:
                return  # still waiting for QC
            reject = number % 7 == 3
            decide = reject_lot if reject else approve_lot
            note = "Seal broken on several units" if reject else "Certificate and samples OK"
            with contextlib.suppress(LotNotInQuarantine):  # decided by an earlier load
                decide(
                    tenant=tenant,
                    lot=lot,
                    actor=self.actors["inspector"],
                    note=note,
                    at=self.at(days_ago - 1),
                )
            if reject:
                return

        target = bins[number % len(bins)]
        self.move(key + ":put-away", lot, location, target, quantity, days_ago - 1.2)
        # Shipments, damage and a cycle count, spread between put-away and today.
        shipments = rand.randrange(2, 7)
        moments = sorted(
            (rand.uniform(0.2, days_ago - 1.3) for _ in range(shipments)), reverse=True
        )
        for index, moment in enumerate(moments):
            share = Decimal(rand.randrange(5, 20)) / 100
            amount = (quantity * share).quantize(Decimal(1) if whole else Decimal("0.001"))
            self.ship(f"{key}:ship-{index}", lot, target, amount, moment)
        damaged_at = rand.uniform(0.2, days_ago - 1.3)
        counted_at = rand.uniform(0.1, days_ago - 1.3)
        if number % 4 == 1:
            self.adjust(key + ":damage", lot, target, -1 if whole else Decimal("-2.5"), damaged_at)
        if number % 6 == 2:
            self.count(key + ":count", warehouse, lot, target, counted_at)

    def move(self, key, lot, source, target, quantity, days_ago):
        def perform(operation):
            move_stock(
                tenant=self.tenant,
                lot=lot,
                from_location=source,
                to_location=target,
                quantity=quantity,
                actor=self.actors["operator"],
                occurred_at=self.at(days_ago),
                operation=operation,
            )
            return 201, {}

        self.step(key, "move", perform)

    def ship(self, key, lot, location, quantity, days_ago):
        def perform(operation):
            ship_stock(
                tenant=self.tenant,
                lot=lot,
                location=location,
                quantity=quantity,
                reference=f"SO-{zlib.crc32(key.encode()) % 100000:05d}",
                actor=self.actors["operator"],
                occurred_at=self.at(days_ago),
                operation=operation,
            )
            return 201, {}

        self.step(key, "shipment", perform)

    def adjust(self, key, lot, location, delta, days_ago):
        def perform(operation):
            adjust_stock(
                tenant=self.tenant,
                lot=lot,
                location=location,
                quantity_delta=delta,
                reason="Damaged in handling",
                actor=self.actors["manager"],
                occurred_at=self.at(days_ago),
                operation=operation,
            )
            return 201, {}

        self.step(key, "adjustment", perform)

    def count(self, key, warehouse, lot, location, days_ago):
        def perform(operation):
            with tenant_context(self.tenant.pk):
                from inventory.models import Balance

                balance = Balance.objects.get(lot=lot, location=location)
            # The count finds one unit (or 1.5 kg) fewer than the books say.
            found = max(
                balance.on_hand - (1 if lot.product.quantity_places == 0 else Decimal("1.5")), 0
            )
            post_count(
                tenant=self.tenant,
                warehouse=warehouse,
                lines=[CountLine(lot, location, found)],
                actor=self.actors["operator"],
                reason="Cycle count",
                occurred_at=self.at(days_ago),
                operation=operation,
            )
            return 201, {}

        self.step(key, "count", perform)

    def load(self):
        products = [self.product(*row) for row in CATALOG[self.tenant.slug]]
        by_sku = {product.sku: product for product in products}
        for code, skus, bin_codes, receiving_code, qc_code in STOCKING[self.tenant.slug]:
            with tenant_context(self.tenant.pk):
                warehouse = get_warehouse_by_code(code)
                bins = [get_location_by_code(warehouse, bin_code) for bin_code in bin_codes]
                receiving = get_location_by_code(warehouse, receiving_code)
                qc_bin = get_location_by_code(warehouse, qc_code) if qc_code else None
            for sku in skus or by_sku:
                product = by_sku[sku]
                lots = 6 if skus is None else 3
                for number in range(lots):
                    # Oldest first, the newest one to three days old.
                    days_ago = HISTORY_DAYS - number * (HISTORY_DAYS - 3) / max(lots - 1, 1)
                    self.stock_lot(
                        product=product,
                        warehouse=warehouse,
                        bins=bins,
                        receiving=receiving,
                        qc_bin=qc_bin,
                        number=number,
                        days_ago=days_ago,
                    )


def seed(now: datetime.datetime | None = None) -> dict[str, int]:
    """Load the demo stock of every demo tenant; return ledger entries per tenant."""
    now = now or timezone.now()
    entries = {}
    for slug in CATALOG:
        tenant = Tenant.objects.get(slug=slug)
        _Tenant(tenant, now).load()
        with tenant_context(tenant.pk):
            entries[slug] = LedgerEntry.objects.count()
    return entries

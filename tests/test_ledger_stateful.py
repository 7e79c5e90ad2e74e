"""A stateful property test: random sequences of stock operations against a plain model.

Hypothesis drives the services (receive, approve, reject, adjust, move,
count, and replays of idempotency keys, some with a changed body) and after
every step compares the database with a dictionary-based model: balances
equal the model and the sum of the ledger, nothing is negative, quarantined
and rejected stock is never available, and a replay answers exactly as the
first call did. Each example works in a fresh tenant, so examples cannot see
each other's rows (row-level security) even inside one test transaction.
"""

import datetime
import itertools
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from inventory.catalog.selectors import get_location_by_code
from inventory.catalog.services import create_location, create_product, create_warehouse
from inventory.core import errors
from inventory.core.idempotency import run_idempotent
from inventory.lots.services import approve_lot, reject_lot
from inventory.models import Balance, LedgerEntry, QcStatus
from inventory.stock.counts import CountLine, post_count
from inventory.stock.movements import adjust_stock, move_stock
from inventory.stock.receipts import receive_stock
from inventory.stock.selectors import stock_summary
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context

ZERO = Decimal("0")
EXPIRED_ON = datetime.date(2020, 1, 1)
tenant_numbers = itertools.count()

quantities = st.builds(
    lambda whole, thousandths: Decimal(whole) + Decimal(thousandths) / 1000,
    st.integers(0, 40),
    st.integers(0, 999),
).filter(lambda quantity: quantity > 0)
indexes = st.integers(0, 1000)
use_keys = st.booleans()


class StockMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        number = next(tenant_numbers)
        self.tenant = Tenant.objects.create(slug=f"prop-{number}", name=f"Property {number}")
        self.warehouse = create_warehouse(tenant=self.tenant, code="DC", name="DC")
        for code in ("A-01", "B-01"):
            create_location(tenant=self.tenant, warehouse=self.warehouse, code=code)
        with tenant_context(self.tenant.id):
            self.locations = [
                get_location_by_code(self.warehouse, code) for code in ("RECEIVING", "A-01", "B-01")
            ]
        self.products = [
            create_product(tenant=self.tenant, sku="BULK", name="Bulk", uom="kg"),
            create_product(
                tenant=self.tenant, sku="PIECE", name="Piece", uom="ea", qc_required=True
            ),
        ]
        self.lots = []
        self.status = {}
        self.expired = set()
        self.stock = defaultdict(Decimal)  # (lot id, location id) -> on hand
        self.calls = []  # (key, kind, payload, first result)
        self.keys = itertools.count()

    # -- helpers ------------------------------------------------------------

    def call(self, use_key, kind, payload, perform):
        """Run ``perform`` as an idempotent operation; remember keyed calls for replays."""
        key = f"{kind}-{next(self.keys)}" if use_key else None
        result = run_idempotent(
            tenant=self.tenant, key=key, kind=kind, payload=payload, perform=perform
        )
        assert not result.replayed
        if key is not None:
            self.calls.append((key, kind, payload, result))
        return result

    def pick(self, sequence, index):
        return sequence[index % len(sequence)]

    def quantity_for(self, lot, quantity):
        # Pieces are whole: round up to at least one.
        if self.products[1].pk == lot.product_id:
            return max(Decimal(1), quantity.to_integral_value())
        return quantity

    # -- rules ------------------------------------------------------------

    @rule(
        product_index=st.integers(0, 1),
        location_index=indexes,
        quantity=quantities,
        expired=st.booleans(),
        use_key=use_keys,
    )
    def receive(self, product_index, location_index, quantity, expired, use_key):
        product = self.products[product_index]
        location = self.pick(self.locations, location_index)
        if product.uom == "ea":
            quantity = max(Decimal(1), quantity.to_integral_value())
        lot_code = f"LOT-{len(self.lots)}"

        def perform(operation):
            receipt = receive_stock(
                tenant=self.tenant,
                product=product,
                warehouse=self.warehouse,
                lot_code=lot_code,
                quantity=quantity,
                location=location,
                expires_on=EXPIRED_ON if expired else None,
                operation=operation,
            )
            return 201, {"lot_id": receipt.lot.pk, "qc_status": receipt.lot.qc_status}

        payload = {"sku": product.sku, "lot_code": lot_code, "quantity": quantity}
        result = self.call(use_key, "receipt", payload, perform)
        with tenant_context(self.tenant.id):
            lot = product.lots.get(pk=result.body["lot_id"])
        self.lots.append(lot)
        self.status[lot.pk] = QcStatus.QUARANTINE if product.qc_required else QcStatus.APPROVED
        assert lot.qc_status == self.status[lot.pk]
        if expired:
            self.expired.add(lot.pk)
        self.stock[(lot.pk, location.pk)] += quantity

    @precondition(lambda self: self.lots)
    @rule(lot_index=indexes, approve=st.booleans())
    def decide(self, lot_index, approve):
        lot = self.pick(self.lots, lot_index)
        decide = approve_lot if approve else reject_lot
        if self.status[lot.pk] != QcStatus.QUARANTINE:
            with pytest.raises(errors.LotNotInQuarantine):
                decide(tenant=self.tenant, lot=lot, note="again")
            return
        decided = decide(tenant=self.tenant, lot=lot, note="inspected")
        self.status[lot.pk] = QcStatus.APPROVED if approve else QcStatus.REJECTED
        assert decided.qc_status == self.status[lot.pk]

    @precondition(lambda self: self.lots)
    @rule(
        lot_index=indexes,
        location_index=indexes,
        quantity=quantities,
        remove=st.booleans(),
        use_key=use_keys,
    )
    def adjust(self, lot_index, location_index, quantity, remove, use_key):
        lot = self.pick(self.lots, lot_index)
        location = self.pick(self.locations, location_index)
        delta = self.quantity_for(lot, quantity) * (-1 if remove else 1)

        def perform(operation):
            entry = adjust_stock(
                tenant=self.tenant,
                lot=lot,
                location=location,
                quantity_delta=delta,
                reason="property test",
                operation=operation,
            )
            return 201, {"entry_id": entry.pk, "quantity": entry.quantity}

        payload = {"lot": lot.pk, "location": location.pk, "delta": delta}
        if self.stock[(lot.pk, location.pk)] + delta < 0:
            with pytest.raises(errors.InsufficientStock):
                self.call(use_key, "adjustment", payload, perform)
            return
        self.call(use_key, "adjustment", payload, perform)
        self.stock[(lot.pk, location.pk)] += delta

    @precondition(lambda self: self.lots)
    @rule(
        lot_index=indexes,
        from_index=indexes,
        step=st.integers(1, 2),
        quantity=quantities,
        use_key=use_keys,
    )
    def move(self, lot_index, from_index, step, quantity, use_key):
        lot = self.pick(self.lots, lot_index)
        source = self.pick(self.locations, from_index)
        target = self.pick(self.locations, from_index + step)
        quantity = self.quantity_for(lot, quantity)

        def perform(operation):
            move = move_stock(
                tenant=self.tenant,
                lot=lot,
                from_location=source,
                to_location=target,
                quantity=quantity,
                operation=operation,
            )
            return 201, {"out": move.out_entry.pk, "in": move.in_entry.pk}

        payload = {"lot": lot.pk, "from": source.pk, "to": target.pk, "quantity": quantity}
        if self.stock[(lot.pk, source.pk)] < quantity:
            with pytest.raises(errors.InsufficientStock):
                self.call(use_key, "move", payload, perform)
            return
        self.call(use_key, "move", payload, perform)
        self.stock[(lot.pk, source.pk)] -= quantity
        self.stock[(lot.pk, target.pk)] += quantity

    @precondition(lambda self: self.lots)
    @rule(lot_index=indexes, location_index=indexes, counted=quantities, keep=st.booleans())
    def count(self, lot_index, location_index, counted, keep):
        lot = self.pick(self.lots, lot_index)
        location = self.pick(self.locations, location_index)
        before = self.stock[(lot.pk, location.pk)]
        # Half the time the count agrees with the books.
        counted = before if keep else self.quantity_for(lot, counted)
        entries_before = self.ledger_size()
        (difference,) = post_count(
            tenant=self.tenant,
            warehouse=self.warehouse,
            lines=[CountLine(lot, location, counted)],
        )
        assert difference.previous_quantity == before
        assert (difference.entry is None) == (counted == before)
        assert self.ledger_size() == entries_before + (counted != before)
        self.stock[(lot.pk, location.pk)] = counted

    @precondition(lambda self: self.calls)
    @rule(call_index=indexes)
    def replay(self, call_index):
        key, kind, payload, first = self.pick(self.calls, call_index)
        entries_before = self.ledger_size()

        def perform(operation):
            raise AssertionError("a replay must not perform the operation again")

        again = run_idempotent(
            tenant=self.tenant, key=key, kind=kind, payload=payload, perform=perform
        )
        assert again.replayed
        assert (again.status, again.body, again.operation_id) == (
            first.status,
            first.body,
            first.operation_id,
        )
        assert self.ledger_size() == entries_before

    @precondition(lambda self: self.calls)
    @rule(call_index=indexes)
    def reuse_key_for_another_body(self, call_index):
        key, kind, payload, _ = self.pick(self.calls, call_index)
        with pytest.raises(errors.IdempotencyKeyReused):
            run_idempotent(
                tenant=self.tenant,
                key=key,
                kind=kind,
                payload={**payload, "changed": True},
                perform=lambda operation: (201, {}),
            )

    # -- invariants ------------------------------------------------------------

    def ledger_size(self):
        with tenant_context(self.tenant.id):
            return LedgerEntry.objects.count()

    @invariant()
    def balances_equal_the_model_and_the_ledger(self):
        with tenant_context(self.tenant.id):
            balances = {(row.lot_id, row.location_id): row for row in Balance.objects.all()}
            ledger = {
                (row["lot_id"], row["location_id"]): row["total"]
                for row in LedgerEntry.objects.values("lot_id", "location_id").annotate(
                    total=Sum("quantity")
                )
            }
        on_hand = {key: row.on_hand for key, row in balances.items() if row.on_hand}
        assert on_hand == {key: value for key, value in self.stock.items() if value}
        assert {key: value for key, value in ledger.items() if value} == on_hand
        assert all(row.on_hand >= 0 and row.reserved == 0 for row in balances.values())

    @invariant()
    def only_approved_unexpired_stock_is_available(self):
        today = datetime.date.today()
        for product in self.products:
            by_status = defaultdict(Decimal)
            available = ZERO
            for (lot_id, _), quantity in self.stock.items():
                lot = next(lot for lot in self.lots if lot.pk == lot_id)
                if lot.product_id != product.pk:
                    continue
                by_status[self.status[lot_id]] += quantity
                if self.status[lot_id] == QcStatus.APPROVED and lot_id not in self.expired:
                    available += quantity
            with tenant_context(self.tenant.id):
                summary = stock_summary(product=product, today=today)
            assert summary.on_hand == sum(by_status.values(), ZERO)
            assert summary.available == available
            assert summary.quarantined == by_status[QcStatus.QUARANTINE]
            assert summary.rejected == by_status[QcStatus.REJECTED]
            assert summary.available <= summary.on_hand - summary.quarantined - summary.rejected


@pytest.mark.django_db
def test_stock_operations_keep_balances_ledger_and_model_in_step():
    run_state_machine_as_test(
        StockMachine,
        settings=settings(
            max_examples=15,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )

"""Reservations under concurrency: real threads, each with its own connection.

Every test ends by checking the invariants on the whole database (the
maintenance connection sees every tenant): no negative stock, never more
reserved than on hand, every balance equal to the sum of its ledger.
The scale runs (64 workers x 10,000, 32 x 2,000) live in the stress command;
these are their small variants.
"""

from __future__ import annotations

import datetime
import random
import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from inventory.catalog.services import create_product
from inventory.core import errors
from inventory.core.transactions import run_in_transaction
from inventory.ledger.posting import Actor
from inventory.ledger.reconcile import balance_differences
from inventory.lots.services import reverse_qc_decision
from inventory.models import LedgerEntry, Reservation, ReservationStatus
from inventory.orders.services import allocate_order, create_order
from inventory.reservations.allocation import reserve_stock
from inventory.reservations.expiry import expire_reservations
from inventory.reservations.lifecycle import cancel_reservation, issue_reservation
from inventory.reservations.requests import LineRequest
from inventory.stock.movements import adjust_stock
from inventory.stock.receipts import receive_stock
from inventory.stock.selectors import stock_summary
from tests.api.conftest import new_client
from tests.conftest import bin_of
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "maintenance"])


# -- helpers ----------------------------------------------------------------------------


def run_threads(count: int, target) -> list:
    """Run ``target(index)`` in ``count`` threads released together; their results in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index):
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as error:  # the test inspects what each thread met
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def in_thread(target):
    """Start ``target()`` in a thread with its own connection; return (thread, result box)."""
    box: dict = {}

    def run():
        try:
            box["result"] = target()
        except Exception as error:
            box["result"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def wait_until_blocked(waiters: int = 1, timeout: float = 5.0) -> None:
    """Return once ``waiters`` sessions wait for a lock (pg_locks: not granted)."""
    deadline = time.monotonic() + timeout
    with connections["maintenance"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0] >= waiters:
                return
            time.sleep(0.01)
    raise AssertionError("no session started waiting for a lock")


def assert_invariants() -> None:
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM inventory_balance WHERE on_hand < 0 OR reserved < 0 "
            "OR reserved > on_hand"
        )
        assert cursor.fetchone()[0] == 0
    differences, _ = balance_differences()
    assert differences == []


def entries(tenant, kind) -> int:
    with tenant_context(tenant.id):
        return LedgerEntry.objects.filter(kind=kind).count()


def reserve(tenant, warehouse, product, quantity, **options):
    """One reservation as the API makes it: its own retried transaction."""
    return run_in_transaction(
        lambda: reserve_stock(
            tenant=tenant,
            warehouse=warehouse,
            lines=[LineRequest(product=product, quantity=quantity)],
            **options,
        )
    )


def available(tenant, product, warehouse) -> Decimal:
    return stock_summary(tenant=tenant, product=product, warehouse=warehouse).available


@pytest.fixture
def soap(tenant):
    return create_product(tenant=tenant, sku="SOAP", name="Soap")


def receive(tenant, site, product, code, quantity, **extra):
    return receive_stock(
        tenant=tenant, product=product, warehouse=site, lot_code=code, quantity=quantity, **extra
    )


# -- many clients at once ---------------------------------------------------------------


def test_flash_sale_sells_exactly_the_stock(tenant):
    """5 units, 20 buyers of one each through the API: 5 reservations, 15 shortages."""
    api = new_client(tenant)
    assert api.post("/warehouses", {"code": "DC1", "name": "Main"}).status_code == 201
    assert api.post("/products", {"sku": "PHONE", "name": "Phone"}).status_code == 201
    receipt = {"sku": "PHONE", "warehouse": "DC1", "lot_code": "L1", "quantity": 5}
    assert api.post("/receipts", receipt).status_code == 201
    body = {"warehouse": "DC1", "lines": [{"sku": "PHONE", "quantity": 1}]}
    clients = [new_client(tenant) for _ in range(20)]

    answers = run_threads(20, lambda index: clients[index].post("/reservations", body))

    outcomes = Counter(
        (response.status_code, response.json().get("error", {}).get("code")) for response in answers
    )
    assert outcomes == {(201, None): 5, (409, "INSUFFICIENT_STOCK"): 15}
    stock = api.get("/stock", {"sku": "PHONE", "warehouse": "DC1"}).json()
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == ("5.000", "5.000", "0.000")
    assert entries(tenant, "RESERVE") == 5
    assert_invariants()


def test_hot_sku_reserves_exactly_what_is_there(tenant, site, soap):
    """8 workers x 25 one-unit reservations against 100 units in two lots: exactly 100."""
    receive(tenant, site, soap, "A", 60)
    receive(tenant, site, soap, "B", 40)

    def worker(index):
        outcome = Counter()
        for _ in range(25):
            try:
                reserve(tenant, site, soap, 1)
                outcome["reserved"] += 1
            except errors.DomainError as error:
                outcome[error.code] += 1
        return outcome

    results = run_threads(8, worker)
    assert not [result for result in results if isinstance(result, Exception)]
    total = sum(results, Counter())
    assert total == {"reserved": 100, "INSUFFICIENT_STOCK": 100}
    assert available(tenant, soap, site) == 0
    assert entries(tenant, "RESERVE") >= 100  # a reservation spanning both lots posts two
    with tenant_context(tenant.id):
        assert Reservation.objects.count() == 100
    assert_invariants()


def test_mixed_orders_never_deadlock_a_client(tenant, site):
    """6 workers x 20 orders of 1-5 lines over 10 SKUs in random line order, allocated,
    then issued or cancelled: only shortages reach the clients, and the books balance."""
    products = [
        create_product(tenant=tenant, sku=f"SKU-{number:02}", name=f"Item {number}")
        for number in range(10)
    ]
    shelf = bin_of(tenant, site, "A-01")
    for product in products:
        receive(tenant, site, product, "FIRST", 12)
        receive(tenant, site, product, "SECOND", 12, location=shelf)

    def worker(index):
        rng = random.Random(index)
        outcome = Counter()
        for number in range(20):
            chosen = rng.sample(products, rng.randint(1, 5))  # random line order
            order = create_order(
                tenant=tenant,
                warehouse=site,
                reference=f"SO-{index}-{number}",
                customer=f"Customer {index}",
                lines=[LineRequest(product=p, quantity=rng.randint(1, 3)) for p in chosen],
            )
            try:
                result = run_in_transaction(
                    lambda order=order: allocate_order(tenant=tenant, order_id=order.pk)
                )
            except errors.InsufficientStock:
                outcome["short"] += 1
                continue
            outcome["allocated"] += 1
            finish = rng.choice([issue_reservation, cancel_reservation, None])
            if finish is not None:
                run_in_transaction(
                    lambda finish=finish, result=result: finish(
                        tenant=tenant, reservation_id=result.reservation.pk
                    )
                )
                outcome[finish.__name__] += 1
        return outcome

    results = run_threads(6, worker)
    failures = [result for result in results if isinstance(result, Exception)]
    assert failures == []  # no deadlock, lock timeout or CONTENTION reached a worker
    total = sum(results, Counter())
    assert total["allocated"] + total["short"] == 120
    assert total["allocated"] > 0
    with tenant_context(tenant.id):
        assert Reservation.objects.count() == total["allocated"]
        assert (
            Reservation.objects.filter(status=ReservationStatus.ISSUED).count()
            == total["issue_reservation"]
        )
    assert entries(tenant, "SHIP") >= total["issue_reservation"]
    assert_invariants()


def test_idempotency_storm_has_one_effect_per_key(tenant):
    """10 keys, each sent 3 times at once: 10 reservations, every replay identical."""
    api = new_client(tenant)
    assert api.post("/warehouses", {"code": "DC1", "name": "Main"}).status_code == 201
    assert api.post("/products", {"sku": "CUP", "name": "Cup"}).status_code == 201
    receipt = {"sku": "CUP", "warehouse": "DC1", "lot_code": "L1", "quantity": 100}
    assert api.post("/receipts", receipt).status_code == 201
    body = {"warehouse": "DC1", "lines": [{"sku": "CUP", "quantity": 2}]}
    clients = [new_client(tenant) for _ in range(30)]

    answers = run_threads(
        30, lambda index: clients[index].post("/reservations", body, key=f"cart-{index % 10}")
    )

    by_key: dict[str, list] = {}
    for index, response in enumerate(answers):
        assert response.status_code == 201, response.content
        by_key.setdefault(f"cart-{index % 10}", []).append(response.json())
    assert all(bodies[1:] == bodies[:-1] for bodies in by_key.values())
    assert len({bodies[0]["id"] for bodies in by_key.values()}) == 10
    assert entries(tenant, "RESERVE") == 10
    stock = api.get("/stock", {"sku": "CUP", "warehouse": "DC1"}).json()
    assert stock["reserved"] == "20.000"
    assert_invariants()


# -- SKIP LOCKED and waiting ------------------------------------------------------------


def hold_rows(
    sql: str,
    params: list,
    holding: threading.Event,
    release: threading.Event,
    *,
    linger: float = 0.0,
):
    """A transaction on the maintenance connection that locks rows with ``sql``, and
    commits ``linger`` seconds after ``release`` is set."""

    def run():
        with connections["maintenance"].cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(sql, params)
            holding.set()
            release.wait(10)
            time.sleep(linger)
            cursor.execute("COMMIT")

    return in_thread(run)


def test_skip_locked_never_causes_a_false_shortage(tenant, site, soap):
    """The first lot's row is held by a slow transaction: a reservation the second lot
    covers goes through at once; one that needs the held row waits for it, then succeeds."""
    today = timezone.localdate()
    first = receive(tenant, site, soap, "FIRST", 5, expires_on=today + datetime.timedelta(days=5))
    receive(tenant, site, soap, "SECOND", 5, expires_on=today + datetime.timedelta(days=50))
    holding, release = threading.Event(), threading.Event()
    holder, _ = hold_rows(
        "SELECT 1 FROM inventory_balance WHERE lot_id = %s FOR UPDATE",
        [first.lot.pk],
        holding,
        release,
        linger=0.3,
    )
    assert holding.wait(5)

    # With one attempt and a short lock timeout, waiting for the held row
    # would end in CONTENTION: succeeding shows the reservation went around it.
    around = run_in_transaction(
        lambda: reserve_stock(
            tenant=tenant, warehouse=site, lines=[LineRequest(product=soap, quantity=5)]
        ),
        attempts=1,
        lock_timeout="200ms",
    )
    assert [(a.lot.code, a.quantity) for a in around.allocations] == [("SECOND", Decimal(5))]

    waiting, box = in_thread(lambda: reserve(tenant, site, soap, 3))
    wait_until_blocked()
    release.set()
    waiting.join(10)
    holder.join(10)
    result = box["result"]
    assert not isinstance(result, Exception), result
    assert [(a.lot.code, a.quantity) for a in result.allocations] == [("FIRST", Decimal(3))]
    assert available(tenant, soap, site) == 2
    assert_invariants()


# -- expiry ---------------------------------------------------------------------------------


def test_expired_reservation_stops_counting_and_is_released_once(tenant, site, soap):
    """A 1 s TTL: once past, the hold is available again; the sweep and an allocation
    racing for it release it exactly once (five rounds of the race)."""
    receive(tenant, site, soap, "L1", 5)
    held = reserve(tenant, site, soap, 5, ttl_seconds=1).reservation
    assert available(tenant, soap, site) == 0
    time.sleep(1.1)
    assert available(tenant, soap, site) == 5  # expired, though not yet swept

    for round_number in range(5):
        outcomes = run_threads(
            2,
            lambda index: (
                expire_reservations()
                if index == 0
                else reserve(tenant, site, soap, 5, ttl_seconds=60)
            ),
        )
        sweep, allocation = outcomes
        assert not isinstance(sweep, Exception), sweep
        assert not isinstance(allocation, Exception), allocation
        with tenant_context(tenant.id):
            assert Reservation.objects.get(pk=held.pk).status == ReservationStatus.EXPIRED
            releases = LedgerEntry.objects.filter(kind="RELEASE").count()
        assert releases == round_number + 1  # each expired hold released once
        assert_invariants()
        # Let the new hold lapse too, for the next round.
        held = allocation.reservation
        with tenant_context(tenant.id):
            Reservation.objects.filter(pk=held.pk).update(
                expires_at=timezone.now() - datetime.timedelta(seconds=1)
            )
    assert expire_reservations() == 1
    assert expire_reservations() == 0
    assert entries(tenant, "RELEASE") == 6
    assert available(tenant, soap, site) == 5
    assert_invariants()


def test_two_sweeps_release_each_reservation_once(tenant, site, soap):
    receive(tenant, site, soap, "L1", 50)
    for _ in range(20):
        reserve(tenant, site, soap, 1, ttl_seconds=60)
    with tenant_context(tenant.id):
        Reservation.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    counts = run_threads(3, lambda index: expire_reservations(batch=5))

    assert sum(counts) == 20
    assert entries(tenant, "RELEASE") == 20
    assert available(tenant, soap, site) == 50
    assert_invariants()


# -- two sessions, explicit step order ---------------------------------------------------


def paused(work, done: threading.Event, proceed: threading.Event):
    """``work()`` in a transaction that stays open until ``proceed`` is set."""

    def transaction_body():
        result = work()
        done.set()
        assert proceed.wait(10)
        return result

    return lambda: run_in_transaction(transaction_body)


def interleave(first, second) -> tuple:
    """Two sessions in explicit step order; the result (or exception) of each.

    1. ``first()`` runs in a transaction that stays open;
    2. ``second()`` starts (in its own transaction) and waits for a lock;
    3. the first session commits, then both finish.
    """
    done, proceed = threading.Event(), threading.Event()
    session_a, a_box = in_thread(paused(first, done, proceed))
    assert done.wait(5)
    session_b, b_box = in_thread(second)
    wait_until_blocked()
    proceed.set()
    session_a.join(10)
    session_b.join(10)
    return a_box["result"], b_box["result"]


def test_reserve_reserve_second_waits_and_does_not_oversell(tenant, site, soap):
    receive(tenant, site, soap, "L1", 5)
    # 1. A reserves everything and keeps its transaction open.
    # 2. B asks for one: skips the held row, then waits for it.
    # 3. A commits; B sees nothing free and is refused.
    a_result, b_result = interleave(
        lambda: reserve_inner(tenant, site, soap, 5), lambda: reserve(tenant, site, soap, 1)
    )
    assert not isinstance(a_result, Exception)
    assert isinstance(b_result, errors.InsufficientStock)
    assert entries(tenant, "RESERVE") == 1
    assert_invariants()


def reserve_inner(tenant, warehouse, product, quantity, **options):
    """A reservation inside the caller's transaction."""
    return reserve_stock(
        tenant=tenant,
        warehouse=warehouse,
        lines=[LineRequest(product=product, quantity=quantity)],
        **options,
    )


def test_reserve_then_adjust_cannot_take_reserved_stock(tenant, site, soap):
    lot = receive(tenant, site, soap, "L1", 5)
    # 1. A reserves 4 and keeps its transaction open.
    # 2. B removes 3 by adjustment: its conditional update waits for A's row.
    # 3. A commits; B re-checks against 4 reserved and is refused.
    a_result, b_result = interleave(
        lambda: reserve_inner(tenant, site, soap, 4),
        lambda: run_in_transaction(
            lambda: adjust_stock(
                tenant=tenant,
                lot=lot.lot,
                location=lot.location,
                quantity_delta=-3,
                reason="Damaged",
            )
        ),
    )
    assert not isinstance(a_result, Exception)
    assert isinstance(b_result, errors.InsufficientStock)
    assert available(tenant, soap, site) == 1
    assert_invariants()


def test_adjust_then_reserve_sees_the_adjusted_stock(tenant, site, soap):
    lot = receive(tenant, site, soap, "L1", 5)
    # 1. A removes 3 and keeps its transaction open.
    # 2. B wants 4: the row is held, so it waits for it.
    # 3. A commits; 2 are left and B is refused.
    a_result, b_result = interleave(
        lambda: adjust_stock(
            tenant=tenant, lot=lot.lot, location=lot.location, quantity_delta=-3, reason="Damaged"
        ),
        lambda: reserve(tenant, site, soap, 4),
    )
    assert not isinstance(a_result, Exception)
    assert isinstance(b_result, errors.InsufficientStock)
    assert available(tenant, soap, site) == 2
    assert_invariants()


def test_cancel_then_reserve_gets_the_released_stock(tenant, site, soap):
    receive(tenant, site, soap, "L1", 5)
    held = reserve(tenant, site, soap, 5).reservation
    # 1. A cancels the reservation and keeps its transaction open.
    # 2. B wants all 5: nothing is free yet, so it waits for the row A holds.
    # 3. A commits the release; B takes the stock.
    a_result, result = interleave(
        lambda: cancel_reservation(tenant=tenant, reservation_id=held.pk),
        lambda: reserve(tenant, site, soap, 5),
    )
    assert not isinstance(a_result, Exception)
    assert not isinstance(result, Exception), result
    assert [line.allocated for line in result.lines] == [Decimal(5)]
    assert entries(tenant, "RELEASE") == 1
    assert_invariants()


def test_issue_issue_ships_once(tenant, site, soap):
    receive(tenant, site, soap, "L1", 5)
    held = reserve(tenant, site, soap, 3).reservation
    issue = lambda: issue_reservation(tenant=tenant, reservation_id=held.pk)  # noqa: E731
    # 1. A issues and keeps its transaction open.
    # 2. B issues the same reservation: waits on the reservation row.
    # 3. A commits; B finds it issued.
    a_result, b_result = interleave(issue, lambda: run_in_transaction(issue))
    assert not isinstance(a_result, Exception)
    assert isinstance(b_result, errors.ReservationAlreadyIssued)
    assert entries(tenant, "SHIP") == 1
    with tenant_context(tenant.id):
        assert stock_summary(tenant=tenant, product=soap).on_hand == 2
    assert_invariants()


def test_two_workers_allocate_one_order_once(tenant, site, soap):
    receive(tenant, site, soap, "L1", 10)
    order = create_order(
        tenant=tenant,
        warehouse=site,
        reference="SO-1",
        customer="Bob",
        lines=[LineRequest(product=soap, quantity=4)],
    )
    results = run_threads(
        4,
        lambda index: run_in_transaction(lambda: allocate_order(tenant=tenant, order_id=order.pk)),
    )
    assert not [result for result in results if isinstance(result, Exception)]
    assert len({result.reservation.pk for result in results}) == 1
    assert sorted(result.created for result in results) == [False, False, False, True]
    assert entries(tenant, "RESERVE") == 1
    assert available(tenant, soap, site) == 6
    assert_invariants()


# -- sold out ---------------------------------------------------------------------------------


def test_sold_out_requests_do_not_queue_behind_each_other(tenant, site, soap):
    """Every unit is held. Another request for the sold-out product still holds its
    shared lock on the row: a new request is answered INSUFFICIENT_STOCK at once
    instead of waiting its turn (with one attempt and a 200 ms lock timeout, a wait
    would end in CONTENTION)."""
    lot = receive(tenant, site, soap, "L1", 5)
    reserve(tenant, site, soap, 5)
    holding, release = threading.Event(), threading.Event()
    holder, _ = hold_rows(
        "SELECT 1 FROM inventory_balance WHERE lot_id = %s FOR SHARE",
        [lot.lot.pk],
        holding,
        release,
    )
    assert holding.wait(5)
    try:
        with pytest.raises(errors.InsufficientStock):
            run_in_transaction(
                lambda: reserve_inner(tenant, site, soap, 1), attempts=1, lock_timeout="200ms"
            )
    finally:
        release.set()
        holder.join(10)
    assert entries(tenant, "RESERVE") == 1
    assert_invariants()


def test_sold_out_request_waits_for_a_writer_and_takes_what_it_frees(tenant, site, soap):
    """Sold out, and an adjustment adding 2 units is in flight: a request for 2 waits for
    it (the snapshot shows nothing free) and takes the new stock once it commits."""
    lot = receive(tenant, site, soap, "L1", 5)
    reserve(tenant, site, soap, 5)
    a_result, result = interleave(
        lambda: adjust_stock(
            tenant=tenant,
            lot=lot.lot,
            location=lot.location,
            quantity_delta=2,
            reason="Found in aisle 3",
        ),
        lambda: reserve(tenant, site, soap, 2),
    )
    assert not isinstance(a_result, Exception), a_result
    assert not isinstance(result, Exception), result
    assert [line.allocated for line in result.lines] == [Decimal(2)]
    assert available(tenant, soap, site) == 0
    assert_invariants()


def test_partial_reservation_skips_a_sold_out_line_and_lets_go_of_it(tenant, site, soap):
    """allow_partial with one sold-out line: the other line is held, the sold-out one
    holds nothing, and its row is not left locked: a cancel of the reservation holding
    it goes through while the partial reservation's transaction is still open."""
    flour = create_product(tenant=tenant, sku="FLOUR", name="Flour", uom="kg")
    receive(tenant, site, soap, "S1", 5)
    receive(tenant, site, flour, "F1", 10)
    held = reserve(tenant, site, soap, 5).reservation
    a_done, a_commit = threading.Event(), threading.Event()
    session_a, a_box = in_thread(
        paused(
            lambda: reserve_stock(
                tenant=tenant,
                warehouse=site,
                lines=[
                    LineRequest(product=soap, quantity=2),
                    LineRequest(product=flour, quantity=3),
                ],
                allow_partial=True,
            ),
            a_done,
            a_commit,
        )
    )
    assert a_done.wait(5)
    try:
        run_in_transaction(
            lambda: cancel_reservation(tenant=tenant, reservation_id=held.pk),
            attempts=1,
            lock_timeout="200ms",
        )
    finally:
        a_commit.set()
        session_a.join(10)
    result = a_box["result"]
    assert not isinstance(result, Exception), result
    by_sku = {line.product.sku: line.allocated for line in result.lines}
    assert by_sku == {"SOAP": Decimal(0), "FLOUR": Decimal(3)}
    assert available(tenant, soap, site) == 5
    assert_invariants()


def test_reservation_waiting_behind_a_qc_reversal_never_holds_the_reversed_lot(tenant, site, soap):
    today = timezone.localdate()
    first = receive(tenant, site, soap, "L1", 5, expires_on=today + datetime.timedelta(days=10))
    receive(tenant, site, soap, "L2", 5, expires_on=today + datetime.timedelta(days=20))
    # 1. A manager takes L1's approval back (its balance row locked, the lot
    #    quarantined) and keeps the transaction open.
    # 2. B asks for 8: the first pass takes L2 and skips L1's held row, then
    #    waits for it, having read L1 as approved before A committed.
    # 3. A commits; B must not hold stock of the now-quarantined L1: it tries
    #    again, finds only L2 approved, and is refused.
    a_result, b_result = interleave(
        lambda: reverse_qc_decision(
            tenant=tenant,
            lot=first.lot,
            actor=Actor(),
            reason="Seal found broken",
            status="QUARANTINE",
        ),
        lambda: reserve(tenant, site, soap, 8),
    )
    assert not isinstance(a_result, Exception), a_result
    assert isinstance(b_result, errors.InsufficientStock), b_result
    with connections["maintenance"].cursor() as cursor:
        cursor.execute(
            "SELECT lot.code, lot.qc_status, balance.reserved FROM inventory_balance balance "
            "JOIN inventory_lot lot ON lot.id = balance.lot_id ORDER BY lot.code"
        )
        assert cursor.fetchall() == [("L1", "QUARANTINE", 0), ("L2", "APPROVED", 0)]
    assert entries(tenant, "RESERVE") == 0
    assert_invariants()

"""The inventory services against the real database, as the runtime role."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from inventory.catalog.selectors import (
    default_receiving_location,
    get_product_by_sku,
    search_products,
)
from inventory.catalog.services import create_location, create_product, create_warehouse
from inventory.core import errors
from inventory.core.idempotency import run_idempotent
from inventory.core.tokens import find_api_token, issue_api_token
from inventory.ledger.posting import Actor
from inventory.lots.selectors import get_lot
from inventory.lots.services import approve_lot, reject_lot
from inventory.models import Balance, LedgerEntry, LedgerKind, Lot, Operation, QcStatus
from inventory.stock.counts import CountLine, post_count
from inventory.stock.movements import adjust_stock, move_stock, ship_stock
from inventory.stock.receipts import receive_stock
from inventory.stock.selectors import stock_summary
from tests.conftest import bin_of
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def ledger_count(tenant):
    with tenant_context(tenant.id):
        return LedgerEntry.objects.count()


def on_hand(tenant, lot, location):
    with tenant_context(tenant.id):
        balance = Balance.objects.filter(lot=lot, location=location).first()
        return balance.on_hand if balance else Decimal("0")


def summary(tenant, product, warehouse=None):
    return stock_summary(tenant=tenant, product=product, warehouse=warehouse)


def test_receipt_of_a_product_without_qc_is_approved_and_available(tenant, site, flour, operator):
    receipt = receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        lot_code="F-001",
        quantity="12.5",
        actor=Actor.user(operator),
    )
    assert receipt.location.code == "RECEIVING"
    assert receipt.lot.qc_status == QcStatus.APPROVED
    assert receipt.lot.expires_on == receipt.lot.received_at.date() + datetime.timedelta(180)
    assert receipt.entry.kind == LedgerKind.RECEIPT
    assert receipt.entry.actor_user_id == operator.id
    totals = summary(tenant, flour, site)
    assert (totals.on_hand, totals.available, totals.quarantined) == (
        Decimal("12.5"),
        Decimal("12.5"),
        0,
    )


def test_receipt_of_a_qc_product_is_quarantined_on_hand_but_not_available(tenant, site, vaccine):
    receipt = receive_stock(
        tenant=tenant, product=vaccine, warehouse=site, lot_code="V-1", quantity=40
    )
    assert receipt.lot.qc_status == QcStatus.QUARANTINE
    assert receipt.lot.expires_on is None
    totals = summary(tenant, vaccine)
    assert (totals.on_hand, totals.available, totals.quarantined) == (40, 0, 40)


def test_approval_records_who_when_and_note_and_makes_stock_available(
    tenant, site, vaccine, inspector
):
    lot = receive_stock(
        tenant=tenant, product=vaccine, warehouse=site, lot_code="V-1", quantity=40
    ).lot
    approved = approve_lot(
        tenant=tenant, lot=lot, actor=Actor.user(inspector), note="Certificate checked"
    )
    assert approved.qc_status == QcStatus.APPROVED
    assert approved.qc_by_id == inspector.id
    assert approved.qc_at is not None
    assert approved.qc_note == "Certificate checked"
    assert summary(tenant, vaccine).available == 40
    with pytest.raises(errors.LotNotInQuarantine):
        reject_lot(tenant=tenant, lot=lot, note="changed my mind")


def test_rejected_stock_stays_on_hand_and_is_never_available(tenant, site, vaccine, inspector):
    lot = receive_stock(
        tenant=tenant, product=vaccine, warehouse=site, lot_code="V-2", quantity=5
    ).lot
    reject_lot(tenant=tenant, lot=lot, actor=Actor.user(inspector), note="Broken seal")
    totals = summary(tenant, vaccine, site)
    assert (totals.on_hand, totals.available, totals.rejected) == (5, 0, 5)


def test_expired_approved_stock_is_not_available(tenant, site, flour):
    receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        lot_code="OLD",
        quantity=3,
        expires_on=datetime.date(2020, 1, 1),
    )
    totals = summary(tenant, flour)
    assert (totals.on_hand, totals.available, totals.expired) == (3, 0, 3)


def test_a_lot_received_already_expired_says_so_and_is_never_available(tenant, site, flour):
    receipt = receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        lot_code="OLD",
        quantity=3,
        expires_on=datetime.date(2020, 1, 1),
    )
    fresh = receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="NEW", quantity=3)
    assert (receipt.is_expired, receipt.is_available) == (True, False)
    assert (fresh.is_expired, fresh.is_available) == (False, True)
    with tenant_context(tenant.id):
        answers = receipt.as_dict(), fresh.as_dict()
    assert [(a["is_expired"], a["is_available"]) for a in answers] == [(True, False), (False, True)]


def test_a_tenant_may_refuse_expired_receipts(tenant, site, flour):
    tenant.refuse_expired_receipts = True
    tenant.save(update_fields=["refuse_expired_receipts"])
    with pytest.raises(errors.LotExpiredOnReceipt, match="Lot OLD expired on 01 Jan 2020"):
        receive_stock(
            tenant=tenant,
            product=flour,
            warehouse=site,
            lot_code="OLD",
            quantity=3,
            expires_on=datetime.date(2020, 1, 1),
        )
    assert ledger_count(tenant) == 0
    with tenant_context(tenant.id):
        assert not Lot.objects.exists()
    # Expiring today is not expired yet.
    today = receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        lot_code="TODAY",
        quantity=3,
        expires_on=timezone.localdate(),
    )
    assert today.is_available


@pytest.mark.parametrize("kind", ["pick", "shipping", "quarantine"])
def test_receipts_go_only_into_receiving_or_storage_bins(tenant, site, flour, kind):
    location = create_location(tenant=tenant, warehouse=site, code="X-1", kind=kind)
    with pytest.raises(errors.LocationNotReceivable) as refused:
        receive_stock(
            tenant=tenant,
            product=flour,
            warehouse=site,
            lot_code="F-9",
            quantity=1,
            location=location,
        )
    assert refused.value.code == "LOCATION_NOT_RECEIVABLE"
    assert "Bin X-1 is a" in refused.value.message
    assert ledger_count(tenant) == 0


def test_products_that_need_qc_may_be_received_into_a_quarantine_bin(tenant, site, vaccine):
    location = create_location(tenant=tenant, warehouse=site, code="QC-1", kind="quarantine")
    receipt = receive_stock(
        tenant=tenant,
        product=vaccine,
        warehouse=site,
        lot_code="V-9",
        quantity=2,
        location=location,
    )
    assert receipt.location == location
    storage = bin_of(tenant, site, "A-01")
    receipt = receive_stock(
        tenant=tenant,
        product=vaccine,
        warehouse=site,
        lot_code="V-10",
        quantity=2,
        location=storage,
    )
    assert receipt.location == storage


def test_explicit_location_and_cost_are_used(tenant, site, flour):
    a01 = bin_of(tenant, site, "A-01")
    receipt = receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        lot_code="F-2",
        quantity=1,
        location=a01,
        unit_cost="2.75",
    )
    assert receipt.location == a01
    assert receipt.lot.unit_cost == Decimal("2.75")


def test_sku_is_unique_per_tenant_ignoring_case(tenant, other_tenant, flour):
    with pytest.raises(errors.DuplicateSku) as caught:
        create_product(tenant=tenant, sku="flour-25", name="Again")
    assert caught.value.status == 409
    assert caught.value.as_body()["error"]["code"] == "DUPLICATE_SKU"
    # Another tenant may use the same SKU.
    create_product(tenant=other_tenant, sku="FLOUR-25", name="Theirs")


def test_lot_code_is_unique_per_product(tenant, site, flour, vaccine):
    receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="L1", quantity=1)
    before = ledger_count(tenant)
    with pytest.raises(errors.DuplicateLotCode):
        receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="l1", quantity=1)
    assert ledger_count(tenant) == before
    receive_stock(tenant=tenant, product=vaccine, warehouse=site, lot_code="L1", quantity=1)


def test_warehouse_without_receiving_bin_refuses_a_receipt_without_location(tenant, flour):
    bare = create_warehouse(
        tenant=tenant, code="BARE", name="No bins", receiving_location_code=None
    )
    with pytest.raises(errors.LocationNotFound):
        receive_stock(tenant=tenant, product=flour, warehouse=bare, lot_code="X", quantity=1)
    with tenant_context(tenant.id), pytest.raises(errors.LocationNotFound):
        default_receiving_location(bare)


def test_duplicate_warehouse_and_location_codes_are_refused(tenant, site):
    with pytest.raises(errors.DuplicateWarehouseCode):
        create_warehouse(tenant=tenant, code="dc1", name="Again")
    with pytest.raises(errors.DuplicateLocationCode):
        create_location(tenant=tenant, warehouse=site, code="a-01")


@pytest.mark.parametrize(
    "quantity",
    [
        0,
        "0",
        -1,
        "-0.5",
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        float("nan"),
        "abc",
        "",
        None,
        True,
        "1e12",
        10**10,
        "1.0001",
        "1_000",
        "1" * 70,
        float("inf"),
        [],
        {},
    ],
)
def test_bad_receipt_quantities_are_refused_and_write_nothing(tenant, site, flour, quantity):
    with pytest.raises(errors.InvalidQuantity) as caught:
        receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="Q", quantity=quantity)
    assert caught.value.status == 422
    assert ledger_count(tenant) == 0


def test_a_unit_counted_in_pieces_refuses_fractions(tenant, site, vaccine):
    with pytest.raises(errors.InvalidQuantity, match="whole number"):
        receive_stock(tenant=tenant, product=vaccine, warehouse=site, lot_code="V", quantity="1.5")


def test_adjustment_needs_a_reason_and_never_goes_below_zero(tenant, site, flour):
    receipt = receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="F", quantity=10)
    with pytest.raises(errors.ValidationFailed):
        adjust_stock(
            tenant=tenant,
            lot=receipt.lot,
            location=receipt.location,
            quantity_delta=-1,
            reason="  ",
        )
    with pytest.raises(errors.InsufficientStock) as caught:
        adjust_stock(
            tenant=tenant,
            lot=receipt.lot,
            location=receipt.location,
            quantity_delta="-10.001",
            reason="Spilled",
        )
    assert caught.value.status == 409
    assert ledger_count(tenant) == 1
    entry = adjust_stock(
        tenant=tenant,
        lot=receipt.lot,
        location=receipt.location,
        quantity_delta="-10",
        reason="Spilled",
    )
    assert (entry.kind, entry.quantity, entry.reason) == (LedgerKind.ADJUST, -10, "Spilled")
    assert on_hand(tenant, receipt.lot, receipt.location) == 0


def test_adjustment_cannot_take_stock_from_a_bin_that_never_held_it(tenant, site, flour):
    receipt = receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="F", quantity=10)
    with pytest.raises(errors.InsufficientStock):
        adjust_stock(
            tenant=tenant,
            lot=receipt.lot,
            location=bin_of(tenant, site, "A-02"),
            quantity_delta=-1,
            reason="Found missing",
        )


def test_move_writes_out_and_in_entries_of_one_operation(tenant, site, flour):
    receipt = receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="F", quantity=10)
    a01 = bin_of(tenant, site, "A-01")
    move = move_stock(
        tenant=tenant, lot=receipt.lot, from_location=receipt.location, to_location=a01, quantity=4
    )
    assert (move.out_entry.kind, move.out_entry.quantity) == (LedgerKind.MOVE_OUT, -4)
    assert (move.in_entry.kind, move.in_entry.quantity) == (LedgerKind.MOVE_IN, 4)
    assert move.out_entry.operation_id == move.in_entry.operation_id
    assert on_hand(tenant, receipt.lot, receipt.location) == 6
    assert on_hand(tenant, receipt.lot, a01) == 4
    with pytest.raises(errors.InsufficientStock):
        move_stock(
            tenant=tenant,
            lot=receipt.lot,
            from_location=a01,
            to_location=receipt.location,
            quantity=5,
        )
    with pytest.raises(errors.ValidationFailed):
        move_stock(tenant=tenant, lot=receipt.lot, from_location=a01, to_location=a01, quantity=1)
    assert summary(tenant, flour).on_hand == 10


def test_count_makes_the_counted_quantity_the_truth(tenant, site, flour):
    receipt = receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="F", quantity=10)
    a01 = bin_of(tenant, site, "A-01")
    results = post_count(
        tenant=tenant,
        warehouse=site,
        lines=[
            CountLine(receipt.lot, receipt.location, "7.25"),
            CountLine(receipt.lot, a01, 2),
        ],
    )
    assert [(r.previous_quantity, r.counted_quantity, r.difference) for r in results] == [
        (10, Decimal("7.25"), Decimal("-2.75")),
        (0, 2, 2),
    ]
    assert [r.entry.kind for r in results] == [LedgerKind.COUNT, LedgerKind.COUNT]
    assert on_hand(tenant, receipt.lot, receipt.location) == Decimal("7.25")
    assert on_hand(tenant, receipt.lot, a01) == 2
    before = ledger_count(tenant)
    (same,) = post_count(
        tenant=tenant, warehouse=site, lines=[CountLine(receipt.lot, a01, "2.000")]
    )
    assert same.entry is None
    assert ledger_count(tenant) == before


def test_count_refuses_negative_quantities_and_bins_of_other_warehouses(tenant, site, flour):
    receipt = receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="F", quantity=1)
    with pytest.raises(errors.InvalidQuantity):
        post_count(
            tenant=tenant,
            warehouse=site,
            lines=[CountLine(receipt.lot, receipt.location, -1)],
        )
    other = create_warehouse(tenant=tenant, code="DC2", name="Second")
    with pytest.raises(errors.LocationNotFound):
        post_count(
            tenant=tenant,
            warehouse=other,
            lines=[CountLine(receipt.lot, receipt.location, 1)],
        )


def test_another_tenants_rows_answer_like_missing_ones(
    tenant, other_tenant, site, flour, globex_site
):
    receipt = receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="F", quantity=1)
    with pytest.raises(errors.ProductNotFound):
        receive_stock(
            tenant=other_tenant, product=flour, warehouse=globex_site, lot_code="X", quantity=1
        )
    with pytest.raises(errors.LotNotFound):
        approve_lot(tenant=other_tenant, lot=receipt.lot)
    with tenant_context(other_tenant.id):
        with pytest.raises(errors.LotNotFound):
            get_lot(receipt.lot.id)
        with pytest.raises(errors.ProductNotFound):
            get_product_by_sku("FLOUR-25")
    with tenant_context(tenant.id):
        assert get_lot(receipt.lot.id) == receipt.lot
        assert get_product_by_sku("flour-25") == flour
        with pytest.raises(errors.LotNotFound):
            get_lot("not-a-number")


def test_product_search_ranks_the_best_match_first(tenant, flour):
    create_product(
        tenant=tenant,
        sku="RYE-1",
        name="Rye bread",
        attributes={"notes": "contains wheat flour traces"},
    )
    create_product(tenant=tenant, sku="OAT-1", name="Oat milk")
    with tenant_context(tenant.id):
        assert [p.sku for p in search_products("flour")] == ["FLOUR-25", "RYE-1"]
        assert [p.sku for p in search_products("rye-1")] == ["RYE-1"]
        assert list(search_products("nothing-like-this")) == []
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM inventory_product WHERE search_vector IS NULL")
            assert cursor.fetchone()[0] == 0


def test_every_error_carries_a_code_a_status_and_a_message():
    expected = {
        "PRODUCT_NOT_FOUND": 404,
        "WAREHOUSE_NOT_FOUND": 404,
        "LOCATION_NOT_FOUND": 404,
        "LOT_NOT_FOUND": 404,
        "DUPLICATE_SKU": 409,
        "DUPLICATE_LOT_CODE": 409,
        "INVALID_QUANTITY": 422,
        "INSUFFICIENT_STOCK": 409,
        "LOT_NOT_APPROVED": 409,
        "IDEMPOTENCY_KEY_REUSED": 422,
        "VALIDATION_ERROR": 422,
    }
    classes = {
        cls.code: cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.DomainError)
    }
    for code, status in expected.items():
        error = classes[code]()
        assert error.status == status
        assert error.as_body() == {"error": {"code": code, "message": error.message}}
        assert error.message


def test_api_tokens_are_stored_hashed_and_resolved_without_a_tenant(tenant, other_tenant):
    token, secret = issue_api_token(tenant=tenant, name="POS", scopes=["stock:write"])
    issue_api_token(tenant=other_tenant, name="ERP")
    assert secret not in token.secret_hash
    found = find_api_token(secret)
    assert (found.pk, found.tenant_id, found.scopes) == (token.pk, tenant.id, ["stock:write"])
    assert find_api_token(secret + "x") is None
    assert find_api_token("garbage") is None
    # Without the hash setting the lookup policy shows nothing.
    from inventory.models import ApiToken

    with tenant_context(None):
        assert ApiToken.objects.count() == 0
    with tenant_context(tenant.id):
        assert ApiToken.objects.get().last_used_at is not None
        ApiToken.objects.update(revoked_at=token.created_at)
    assert find_api_token(secret) is None


def test_token_use_is_recorded_at_most_once_a_minute(tenant):
    import datetime

    from inventory.models import ApiToken

    _, secret = issue_api_token(tenant=tenant, name="POS")
    first = find_api_token(secret).last_used_at
    assert first is not None
    assert find_api_token(secret).last_used_at == first
    with tenant_context(tenant.id):
        assert ApiToken.objects.get().last_used_at == first
        earlier = first - datetime.timedelta(minutes=2)
        ApiToken.objects.update(last_used_at=earlier)
    assert find_api_token(secret).last_used_at > first
    with tenant_context(tenant.id):
        assert ApiToken.objects.get().last_used_at > first


def test_token_actor_is_recorded_on_entries_and_qc_decisions(tenant, site, vaccine):
    token, _ = issue_api_token(tenant=tenant, name="ERP")
    receipt = receive_stock(
        tenant=tenant,
        product=vaccine,
        warehouse=site,
        lot_code="V",
        quantity=1,
        actor=Actor.token(token),
    )
    assert (receipt.entry.api_token_id, receipt.entry.actor_user_id) == (token.pk, None)
    lot = approve_lot(tenant=tenant, lot=receipt.lot, actor=Actor.token(token))
    assert (lot.qc_by_token_id, lot.qc_by_id) == (token.pk, None)


def test_service_inside_an_idempotent_operation_writes_its_entries_to_it(tenant, site, flour):
    result = run_idempotent(
        tenant=tenant,
        key="receipt-1",
        kind="receipt",
        payload={"lot": "F"},
        perform=lambda operation: (
            201,
            {
                "lot_id": receive_stock(
                    tenant=tenant,
                    product=flour,
                    warehouse=site,
                    lot_code="F",
                    quantity=1,
                    operation=operation,
                ).lot.pk
            },
        ),
    )
    with tenant_context(tenant.id):
        entry = LedgerEntry.objects.get()
        assert entry.operation_id == result.operation_id
        assert Operation.objects.get(pk=result.operation_id).key == "receipt-1"
        assert Lot.objects.get().pk == result.body["lot_id"]


def test_only_approved_unexpired_lots_can_be_shipped(tenant, site, flour, vaccine):
    good = receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="GOOD", quantity=10)
    entry = ship_stock(
        tenant=tenant, lot=good.lot, location=good.location, quantity=4, reference="SO-1"
    )
    assert (entry.kind, entry.quantity, entry.reason) == (LedgerKind.SHIP, -4, "SO-1")
    with pytest.raises(errors.InsufficientStock):
        ship_stock(tenant=tenant, lot=good.lot, location=good.location, quantity=7)
    quarantined = receive_stock(
        tenant=tenant, product=vaccine, warehouse=site, lot_code="Q", quantity=10
    )
    expired = receive_stock(
        tenant=tenant,
        product=flour,
        warehouse=site,
        lot_code="OLD",
        quantity=10,
        expires_on=datetime.date(2020, 1, 1),
    )
    for receipt in (quarantined, expired):
        with pytest.raises(errors.LotNotApproved) as caught:
            ship_stock(tenant=tenant, lot=receipt.lot, location=receipt.location, quantity=1)
        assert caught.value.status == 409
    assert ledger_count(tenant) == 4


def test_stock_summary_sums_every_warehouse_unless_one_is_named(tenant, other_tenant, site, flour):
    second = create_warehouse(tenant=tenant, code="DC2", name="Second")
    receive_stock(tenant=tenant, product=flour, warehouse=site, lot_code="A", quantity=2)
    receive_stock(tenant=tenant, product=flour, warehouse=second, lot_code="B", quantity=3)
    assert summary(tenant, flour).on_hand == 5
    assert summary(tenant, flour, second).on_hand == 3
    with pytest.raises(errors.ProductNotFound):
        stock_summary(tenant=other_tenant, product=flour)

"""The home page: what needs doing now, as cards for each role."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.counts.services import start_count
from inventory.models import CountSession, CountStatus, Lot, Order, OrderStatus, QcStatus
from inventory.orders.services import create_order
from inventory.reservations.allocation import reserve_stock
from inventory.reservations.requests import LineRequest
from inventory.stock.receipts import receive_stock
from tests.clients import signed_in
from tests.conftest import bin_of, make_member
from warehouse.models import Role
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db

CARD_KEYS = {"quarantine", "allocate", "pick", "expiring", "reservations", "counts"}


def cards_on(page: str) -> set[str]:
    return set(re.findall(r'data-testid="card-([a-z]+)"', page))


def count_on(page: str, key: str) -> int:
    return int(re.search(rf'data-testid="card-{key}-count">([\d,]+)<', page)[1].replace(",", ""))


def card_html(page: str, key: str) -> str:
    start = page.index(f'data-testid="card-{key}"')
    return page[start : page.index("</section>", start)]


def test_an_inspector_sees_the_qc_card_and_no_order_cards(tenant, inspector):
    assert cards_on(signed_in("inspector").get("/").content.decode()) == {"quarantine", "expiring"}


def test_an_operator_sees_orders_expiry_and_reservations_but_not_qc(tenant, operator):
    page = signed_in("operator").get("/").content.decode()
    assert cards_on(page) == {"allocate", "pick", "expiring", "reservations", "counts"}
    assert "Waiting for QC" not in page


def test_managers_and_admins_see_every_card(tenant, manager):
    make_member(tenant, "ada", Role.ADMIN)
    assert cards_on(signed_in("manager").get("/").content.decode()) == CARD_KEYS
    assert cards_on(signed_in("ada").get("/").content.decode()) == CARD_KEYS


def test_empty_cards_say_nothing_is_waiting_and_what_comes_next(tenant, manager):
    page = signed_in("manager").get("/").content.decode()
    for key in CARD_KEYS:
        assert count_on(page, key) == 0
        assert f'data-testid="card-{key}-empty"' in page
    assert "Lots that need QC appear here as they are received." in page


def received(tenant, product, site, code, quantity="5", **extra):
    return receive_stock(
        tenant=tenant, product=product, warehouse=site, lot_code=code, quantity=quantity, **extra
    ).lot


def test_quarantined_lots_are_counted_oldest_first_with_their_age(tenant, manager, site, vaccine):
    newer = received(tenant, vaccine, site, "VAX-NEW")
    older = received(tenant, vaccine, site, "VAX-OLD")
    with tenant_context(tenant.id):
        Lot.objects.filter(pk=older.pk).update(
            received_at=timezone.now() - datetime.timedelta(days=3, hours=2)
        )
    card = card_html(signed_in("manager").get("/").content.decode(), "quarantine")
    assert 'data-testid="card-quarantine-count">2<' in card
    assert card.index("VAX-OLD") < card.index("VAX-NEW")
    assert "waiting 3\xa0days" in card
    # Each lot links to its row in the QC queue, the card to the queue.
    assert f'href="/qc/#lot-{older.pk}"' in card and f'href="/qc/#lot-{newer.pk}"' in card
    assert 'href="/qc/" data-testid="card-quarantine-link"' in card


def test_only_lots_with_stock_expiring_within_30_days_are_listed(
    tenant, operator, site, flour, vaccine
):
    today = timezone.localdate()
    received(tenant, flour, site, "SOON", "1250.5", expires_on=today + datetime.timedelta(days=10))
    received(tenant, flour, site, "LATER", expires_on=today + datetime.timedelta(days=40))
    bad = received(tenant, vaccine, site, "BAD", expires_on=today + datetime.timedelta(days=5))
    with tenant_context(tenant.id):
        Lot.objects.filter(pk=bad.pk).update(
            qc_status=QcStatus.REJECTED, qc_at=timezone.now(), qc_note="Mould"
        )
        # A lot with nothing on hand (never received into a bin) is not work.
        Lot.objects.create(
            tenant=tenant,
            product=flour,
            code="EMPTY",
            received_at=timezone.now(),
            expires_on=today + datetime.timedelta(days=3),
            qc_status=QcStatus.APPROVED,
            qc_at=timezone.now(),
        )
    card = card_html(signed_in("operator").get("/").content.decode(), "expiring")
    assert 'data-testid="card-expiring-count">1<' in card
    assert "SOON" in card and "LATER" not in card and "BAD" not in card and "EMPTY" not in card
    assert "1,250.500 kg on hand" in card


def test_orders_to_allocate_and_to_pick_are_counted_by_status(tenant, operator, site, flour):
    for reference in ("SO-1", "SO-2", "SO-3"):
        create_order(
            tenant=tenant,
            warehouse=site,
            reference=reference,
            customer="Bakery Brown",
            lines=[LineRequest(flour, "2")],
        )
    with tenant_context(tenant.id):
        Order.objects.filter(reference="SO-3").update(
            status=OrderStatus.ALLOCATED, allocated_at=timezone.now()
        )
    page = signed_in("operator").get("/").content.decode()
    assert count_on(page, "allocate") == 2 and count_on(page, "pick") == 1
    assert "SO-1" in card_html(page, "allocate") and "SO-3" not in card_html(page, "allocate")
    assert "SO-3" in card_html(page, "pick")


def test_reservations_lapsing_within_the_hour_are_listed(tenant, operator, site, flour):
    received(tenant, flour, site, "F-1", "100")
    for reference, ttl in (("CART-SOON", 600), ("CART-LATER", 7200), ("CART-OPEN-ENDED", None)):
        reserve_stock(
            tenant=tenant,
            warehouse=site,
            lines=[LineRequest(flour, "1")],
            ttl_seconds=ttl,
            reference=reference,
        )
    card = card_html(signed_in("operator").get("/").content.decode(), "reservations")
    assert 'data-testid="card-reservations-count">1<' in card
    assert "CART-SOON" in card and "FLOUR-25" in card
    assert "CART-LATER" not in card and "CART-OPEN-ENDED" not in card


def test_another_tenant_sees_none_of_the_work(
    tenant, other_tenant, other_tenant_user, site, vaccine, flour
):
    received(tenant, vaccine, site, "VAX-1")
    create_order(
        tenant=tenant, warehouse=site, reference="SO-1", customer="C", lines=[LineRequest(flour, 1)]
    )
    page = signed_in("other").get("/").content.decode()
    assert cards_on(page) == CARD_KEYS
    assert all(count_on(page, key) == 0 for key in CARD_KEYS)
    assert "VAX-1" not in page and "SO-1" not in page


def test_counts_in_progress_link_to_the_sheet_or_the_review(tenant, operator, manager, site, flour):
    received(tenant, flour, site, "FL-1", location=bin_of(tenant, site, "A-01"))
    received(tenant, flour, site, "FL-2", location=bin_of(tenant, site, "A-02"))
    counting = start_count(
        tenant=tenant, warehouse=site, user=manager, locations=[bin_of(tenant, site, "A-01")]
    )
    in_review = start_count(
        tenant=tenant, warehouse=site, user=manager, locations=[bin_of(tenant, site, "A-02")]
    )
    with tenant_context(tenant.id):
        CountSession.objects.filter(pk=in_review.pk).update(
            status=CountStatus.SUBMITTED, submitted_at=timezone.now()
        )
    card = card_html(signed_in("operator").get("/").content.decode(), "counts")
    assert 'data-testid="card-counts-count">2<' in card
    assert f'href="/counts/{counting.pk}/"' in card
    assert f'href="/counts/{in_review.pk}/review/"' in card
    assert 'href="/counts/" data-testid="card-counts-link"' in card


def test_expiring_lots_link_to_the_lot_for_tracers_and_the_product_for_others(
    tenant, operator, manager, site, flour
):
    soon = timezone.localdate() + datetime.timedelta(days=5)
    lot = received(tenant, flour, site, "SOON", expires_on=soon)
    operator_card = card_html(signed_in("operator").get("/").content.decode(), "expiring")
    assert f'href="/products/{flour.pk}/"' in operator_card
    assert f'href="/lots/{lot.pk}/"' not in operator_card
    manager_card = card_html(signed_in("manager").get("/").content.decode(), "expiring")
    assert f'href="/lots/{lot.pk}/"' in manager_card


# -- the home costs the same few queries however much is waiting ----------------------------


def waiting_work(tenant, site, product, count, start):
    """``count`` quarantined lots, expiring lots with stock and open orders, in bulk."""
    from inventory.models import Balance

    now = timezone.now()
    soon = timezone.localdate() + datetime.timedelta(days=7)
    with tenant_context(tenant.id):
        bin_ = site.locations.get(code="A-01")
        lots = Lot.objects.bulk_create(
            Lot(
                tenant=tenant,
                product=product,
                code=f"BULK-{start + n}",
                received_at=now,
                expires_on=soon,
            )
            for n in range(count)
        )
        Balance.objects.bulk_create(
            Balance(
                tenant=tenant, lot=lot, location=bin_, product=product, warehouse=site, on_hand=3
            )
            for lot in lots
        )
        Order.objects.bulk_create(
            Order(tenant=tenant, warehouse=site, reference=f"SO-{start + n}", customer="C")
            for n in range(count)
        )


def test_the_home_costs_the_same_queries_with_10_or_1000_things_waiting(
    tenant, manager, site, vaccine
):
    client = signed_in("manager")
    waiting_work(tenant, site, vaccine, 10, 0)
    client.get("/")  # the session and the membership are cached from here on
    with CaptureQueriesContext(connection) as few:
        page = client.get("/").content.decode()
    assert count_on(page, "quarantine") == 10
    waiting_work(tenant, site, vaccine, 990, 10)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/").content.decode()
    assert count_on(page, "quarantine") == count_on(page, "expiring") == 1000
    assert count_on(page, "allocate") == 1000
    assert 'data-testid="card-allocate-count">1,000<' in page
    assert len(many) == len(few)
    # One query per card; the rest is the session, the membership and the tenant context.
    card_queries = [query for query in few.captured_queries if "inventory_" in query["sql"]]
    assert len(card_queries) == len(CARD_KEYS)
    queries = "\n".join(query["sql"] for query in few.captured_queries)
    assert len(few) <= 11 + len(CARD_KEYS), queries

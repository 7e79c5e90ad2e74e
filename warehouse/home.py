"""The home page: what needs doing now, per role.

Each card is one kind of work (lots waiting for QC, orders to allocate or to
pick, lots expiring soon, reservations about to lapse, counts in progress)
with how many there are and the five most urgent, each linking to where the
work is done. A card costs one query: the five rows with the total as a
window count beside them (``count(*) OVER ()``), so the home is a fixed,
small number of queries however much is waiting. Read inside the tenant
context (row-level security scopes every query).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince

from inventory.models import (
    Balance,
    CountSession,
    CountStatus,
    Lot,
    Order,
    OrderStatus,
    QcStatus,
    Reservation,
    ReservationLine,
    ReservationStatus,
)
from inventory.templatetags.stock import day, moment, quantity_in
from inventory.web.access import can_trace
from warehouse.models import Role

SHOWN = 5
EXPIRY_HORIZON = datetime.timedelta(days=30)
RESERVATION_HORIZON = datetime.timedelta(hours=1)


def screen_url(name: str, *, query: dict | None = None, **kwargs) -> str:
    """The URL of the screen ``name``, with ``query`` as its query string."""
    url = reverse(name, kwargs=kwargs or None)
    return f"{url}?{urlencode(query)}" if query else url


@dataclass(frozen=True)
class Item:
    """One row of a card: a code, what it is, why it is urgent, where to act on it."""

    code: str
    label: str
    note: str
    url: str | None = None


@dataclass(frozen=True)
class Card:
    key: str
    title: str
    icon: str
    count: int
    items: list[Item]
    url: str | None
    link_text: str
    empty_text: str


def _total(rows: list) -> int:
    """The window count the rows carry: the number of rows before the limit."""
    return rows[0].total if rows else 0


def _first(queryset: QuerySet) -> list:
    return list(queryset.annotate(total=Window(Count("pk")))[:SHOWN])


def quarantine_card(now: datetime.datetime, membership) -> Card:
    lots = _first(
        Lot.objects.filter(qc_status=QcStatus.QUARANTINE)
        .select_related("product")
        .order_by("received_at", "id")
    )
    return Card(
        key="quarantine",
        title="Waiting for QC",
        icon="clipboard-check",
        count=_total(lots),
        items=[
            Item(
                code=lot.code,
                label=f"{lot.product.sku} · {lot.product.name}",
                note=f"waiting {timesince(lot.received_at, now, depth=1)}",
                url=_anchored(screen_url("inventory:qc-queue"), f"lot-{lot.pk}"),
            )
            for lot in lots
        ],
        url=screen_url("inventory:qc-queue"),
        link_text="Open the QC queue",
        empty_text="Nothing waiting. Lots that need QC appear here as they are received.",
    )


def _anchored(url: str | None, anchor: str) -> str | None:
    return f"{url}#{anchor}" if url else None


def _orders_card(key, title, icon, statuses, link_status, empty_text) -> Card:
    orders = _first(
        Order.objects.filter(status__in=statuses)
        .select_related("warehouse")
        .order_by("created_at", "id")
    )
    return Card(
        key=key,
        title=title,
        icon=icon,
        count=_total(orders),
        items=[
            Item(
                code=order.reference,
                label=f"{order.customer} · {order.warehouse.code}",
                note=f"{order.get_status_display()} since {day(order.created_at)}",
                url=screen_url("inventory:order", order_id=order.pk),
            )
            for order in orders
        ],
        url=screen_url("inventory:orders", query={"status": link_status}),
        link_text="See these orders",
        empty_text=empty_text,
    )


def orders_to_allocate_card(now: datetime.datetime, membership) -> Card:
    return _orders_card(
        "allocate",
        "Orders to allocate",
        "inbox",
        (OrderStatus.OPEN,),
        OrderStatus.OPEN,
        "Nothing waiting. New orders appear here until stock is allocated to them.",
    )


def orders_to_pick_card(now: datetime.datetime, membership) -> Card:
    return _orders_card(
        "pick",
        "Orders to pick",
        "cart-check",
        (OrderStatus.ALLOCATED, OrderStatus.PICKING),
        OrderStatus.ALLOCATED,
        "Nothing waiting. Allocated orders appear here until they are shipped.",
    )


def expiring_lots_card(now: datetime.datetime, membership) -> Card:
    today = timezone.localdate(now)
    on_hand = (
        Balance.objects.filter(lot_id=OuterRef("pk"))
        .values("lot_id")
        .annotate(total=Sum("on_hand"))
        .values("total")
    )
    lots = _first(
        Lot.objects.filter(expires_on__gte=today, expires_on__lte=today + EXPIRY_HORIZON)
        .exclude(qc_status=QcStatus.REJECTED)
        .annotate(on_hand=Subquery(on_hand))
        .filter(on_hand__gt=0)
        .select_related("product")
        .order_by("expires_on", "id")
    )
    return Card(
        key="expiring",
        title="Expiring within 30 days",
        icon="hourglass-split",
        count=_total(lots),
        items=[
            Item(
                code=lot.code,
                label=(
                    f"{lot.product.sku} · {quantity_in(lot.on_hand, lot.product.uom)} "
                    f"{lot.product.uom} on hand"
                ),
                note=f"expires {day(lot.expires_on)}",
                # The lot page is for those who trace lots; others get the product.
                url=(
                    screen_url("inventory:lot", lot_id=lot.pk)
                    if can_trace(membership)
                    else screen_url("inventory:product", product_id=lot.product_id)
                ),
            )
            for lot in lots
        ],
        url=None,
        link_text="",
        empty_text="Nothing expiring. Lots with stock appear here 30 days before their expiry.",
    )


def expiring_reservations_card(now: datetime.datetime, membership) -> Card:
    first_product = ReservationLine.objects.filter(reservation_id=OuterRef("pk")).order_by(
        "product_id"
    )
    reservations = _first(
        Reservation.objects.filter(
            status=ReservationStatus.OPEN,
            expires_at__gt=now,
            expires_at__lte=now + RESERVATION_HORIZON,
        )
        .select_related("warehouse")
        .annotate(
            order_id=Subquery(Order.objects.filter(reservation_id=OuterRef("pk")).values("pk")[:1]),
            product_id=Subquery(first_product.values("product_id")[:1]),
            sku=Subquery(first_product.values("product__sku")[:1]),
        )
        .order_by("expires_at", "id")
    )
    return Card(
        key="reservations",
        title="Reservations about to lapse",
        icon="clock-history",
        count=_total(reservations),
        items=[
            Item(
                code=reservation.reference or f"#{reservation.pk}",
                label=f"{reservation.sku or 'no product'} · {reservation.warehouse.code}",
                note=f"lapses {moment(reservation.expires_at)}",
                url=_reservation_url(reservation),
            )
            for reservation in reservations
        ],
        url=None,
        link_text="",
        empty_text="Nothing about to lapse. Open reservations appear here an hour before expiry.",
    )


def _reservation_url(reservation) -> str | None:
    """The order a reservation holds stock for, else its (first) product."""
    if reservation.order_id:
        return screen_url("inventory:order", order_id=reservation.order_id)
    if reservation.product_id:
        return screen_url("inventory:product", product_id=reservation.product_id)
    return None


def counts_in_progress_card(now: datetime.datetime, membership) -> Card:
    sessions = _first(
        CountSession.objects.filter(status__in=(CountStatus.OPEN, CountStatus.SUBMITTED))
        .select_related("warehouse", "product")
        .order_by("created_at", "id")
    )
    return Card(
        key="counts",
        title="Counts in progress",
        icon="list-check",
        count=_total(sessions),
        items=[
            Item(
                code=f"#{session.pk}",
                label=(
                    f"{session.product.sku if session.product_id else 'Bins'} · "
                    f"{session.warehouse.code}"
                ),
                note=f"{session.get_status_display()} since {day(session.created_at)}",
                url=screen_url(
                    "inventory:count-review"
                    if session.status == CountStatus.SUBMITTED
                    else "inventory:count",
                    session_id=session.pk,
                ),
            )
            for session in sessions
        ],
        url=screen_url("inventory:counts"),
        link_text="See the counts",
        empty_text="Nothing in progress. Start a count from the Counts screen.",
    )


# Which cards each role sees, in the order they are shown (admins see every card).
CARDS: list[tuple[Callable[..., Card], tuple[str, ...]]] = [
    (quarantine_card, (Role.QC, Role.MANAGER)),
    (orders_to_allocate_card, (Role.OPERATOR, Role.MANAGER)),
    (orders_to_pick_card, (Role.OPERATOR, Role.MANAGER)),
    (expiring_lots_card, (Role.OPERATOR, Role.QC, Role.MANAGER)),
    (expiring_reservations_card, (Role.OPERATOR, Role.MANAGER)),
    (counts_in_progress_card, (Role.OPERATOR, Role.MANAGER)),
]


def cards_for(membership, *, now: datetime.datetime | None = None) -> list[Card]:
    """The cards of the home page for ``membership``'s role, each read in one query."""
    now = now or timezone.now()
    cards = []
    for read, roles in CARDS:
        if membership.has_role(*roles):
            cards.append(read(now, membership))
    return cards

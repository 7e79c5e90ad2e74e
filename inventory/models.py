"""Catalog, lots and QC, API tokens, operations, the stock ledger and balances.

Every model here is tenant-owned (see ``warehouse.models.TenantOwned``): row-level
security limits each query to the tenant of the current transaction, and
references between these tables are composite ``(tenant_id, x_id)`` foreign
keys added in the migrations (the Django foreign keys are declared with
``db_constraint=False``).

Stock is never stored anywhere but in the ledger and in the balance
projection built from it. ``inventory.ledger.posting`` is the only code that writes
either; the services of every area call it.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex, GinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Now
from django.utils import timezone

from warehouse.models import Location, TenantOwned, Warehouse, lowered_key
from warehouse.validators import CodeValidator, GtinValidator, TextValidator

QUANTITY_DIGITS = 18
QUANTITY_PLACES = 3
COST_DIGITS = 14
COST_PLACES = 4
# A product's limits, held by the services, the API schemas and the admin alike:
# expiry dates are computed from the shelf life (a huge one overflows the date),
# and attributes are stored as jsonb.
MAX_SHELF_LIFE_DAYS = 36500
MAX_ATTRIBUTES_SIZE = 10_000


def QuantityField(**kwargs) -> models.DecimalField:
    """A stock quantity: a decimal with three places, never a float."""
    return models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES, **kwargs)


class UnitOfMeasure(models.TextChoices):
    EACH = "ea", "Each"
    BOX = "box", "Box"
    PALLET = "pallet", "Pallet"
    KILOGRAM = "kg", "Kilogram"
    LITRE = "l", "Litre"
    METRE = "m", "Metre"

    @property
    def decimal_places(self) -> int:
        """How many decimals a quantity in this unit may have."""
        return UOM_DECIMAL_PLACES[self.value]


UOM_DECIMAL_PLACES = {"ea": 0, "box": 0, "pallet": 0, "kg": 3, "l": 3, "m": 3}


def _reference(to, **kwargs) -> models.ForeignKey:
    """A reference to another tenant table; the database key is composite."""
    return models.ForeignKey(
        to, on_delete=models.PROTECT, db_constraint=False, db_index=False, **kwargs
    )


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Product(TenantOwned):
    """An article kept in stock.

    The table also has a generated ``search_vector`` column (SKU, name and the
    string values of ``attributes``) added by migration ``0002``; Django does not
    map it, ``inventory.catalog.selectors.search_products`` queries it.
    """

    sku = models.CharField(max_length=64, validators=[CodeValidator("SKU")])
    name = models.CharField(max_length=200, validators=[TextValidator("name")])
    uom = models.CharField(
        "unit of measure", max_length=8, choices=UnitOfMeasure.choices, default="ea"
    )
    qc_required = models.BooleanField(default=False)
    shelf_life_days = models.PositiveIntegerField(null=True, blank=True)
    unit_cost = models.DecimalField(
        max_digits=COST_DIGITS, decimal_places=COST_PLACES, default=Decimal("0")
    )
    attributes = models.JSONField(default=dict, blank=True)
    # The GS1 trade item number a barcode carries (14 digits, GTIN-8/12/13
    # padded with leading zeros); "" when the product has none.
    gtin = models.CharField(
        "GTIN",
        max_length=14,
        blank=True,
        default="",
        db_default="",
        validators=[GtinValidator()],
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # What SKU lookups compare with ``=`` (see ``warehouse.models.lowered_key``).
    sku_key = lowered_key("sku", 64, "SKU")

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint("tenant", Lower("sku"), name="product_tenant_sku_key"),
            models.UniqueConstraint(fields=["tenant", "id"], name="product_tenant_id_key"),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0), name="product_unit_cost_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(uom__in=UnitOfMeasure.values), name="product_uom_valid"
            ),
            models.UniqueConstraint(
                fields=["tenant", "gtin"], condition=~Q(gtin=""), name="product_tenant_gtin_key"
            ),
            models.CheckConstraint(
                condition=Q(gtin="") | Q(gtin__regex=r"^[0-9]{14}$"), name="product_gtin_digits"
            ),
        ]
        indexes = [
            GinIndex(fields=["attributes"], name="product_attributes_gin"),
            models.Index(fields=["tenant", "sku_key"], name="product_sku_key_idx"),
            models.Index(
                fields=["tenant", "name"], condition=Q(is_active=True), name="product_active_idx"
            ),
        ]

    def __str__(self):
        return f"{self.sku} · {self.name}"

    @property
    def quantity_places(self) -> int:
        return UOM_DECIMAL_PLACES.get(self.uom, QUANTITY_PLACES)

    def expiry_for(self, received_on: datetime.date) -> datetime.date | None:
        if self.shelf_life_days is None:
            return None
        return received_on + datetime.timedelta(days=self.shelf_life_days)


class QcStatus(models.TextChoices):
    QUARANTINE = "QUARANTINE", "Quarantine"
    APPROVED = "APPROVED", "Approved"
    REJECTED = "REJECTED", "Rejected"


class ApiToken(TenantOwned):
    """A bearer token for other services, bound to one tenant.

    Only the SHA-256 of the secret is stored; the secret itself is shown once
    at creation (``inventory.core.tokens.issue_api_token``). A second, read-only
    policy lets the one row whose hash matches ``app.api_token_hash`` be read
    before any tenant is known, which is how a request's token is resolved.
    """

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="Start of the secret, to recognise it.")
    secret_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API token"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="apitoken_tenant_id_key"),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class LotAvailable(models.Func):
    """Is the lot's stock promisable on ``day``? The SQL function ``inventory_lot_available``.

    The one definition of an available lot (approved, not expired on the
    day), migration ``0017``: the allocation and the stock numbers use it in
    SQL, the ORM through this expression. ``prefix`` is the path to the lot
    (``"lot__"`` from a balance, ``""`` on lots).
    """

    function = "inventory_lot_available"
    output_field = models.BooleanField()

    def __init__(self, day: datetime.date, *, prefix: str = ""):
        super().__init__(
            models.F(f"{prefix}qc_status"),
            models.F(f"{prefix}expires_on"),
            models.Value(day, output_field=models.DateField()),
        )


class LotQuerySet(models.QuerySet):
    def available_on(self, day: datetime.date):
        """Lots whose stock may be promised on ``day``: approved and not expired."""
        return self.filter(LotAvailable(day))


class Lot(TenantOwned):
    """One receipt's worth of a product, with its own expiry, cost and QC status."""

    product = _reference(Product, related_name="lots")
    code = models.CharField(max_length=64, validators=[CodeValidator("lot code")])
    expires_on = models.DateField(null=True, blank=True)
    received_at = models.DateTimeField()
    unit_cost = models.DecimalField(
        max_digits=COST_DIGITS, decimal_places=COST_PLACES, default=Decimal("0")
    )
    qc_status = models.CharField(
        max_length=16, choices=QcStatus.choices, default=QcStatus.QUARANTINE
    )
    qc_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    qc_by_token = _reference(ApiToken, null=True, blank=True, related_name="+")
    qc_at = models.DateTimeField(null=True, blank=True)
    qc_note = models.TextField(blank=True, default="")
    code_key = lowered_key("code", 64, "lot code")

    objects = LotQuerySet.as_manager()

    class Meta:
        ordering = ["expires_on", "received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                "tenant", "product", Lower("code"), name="lot_tenant_product_code_key"
            ),
            models.UniqueConstraint(fields=["tenant", "id"], name="lot_tenant_id_key"),
            models.CheckConstraint(
                condition=Q(qc_status__in=QcStatus.values), name="lot_qc_status_valid"
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="lot_unit_cost_nonnegative"),
            # A decided lot records when it was decided.
            models.CheckConstraint(
                condition=Q(qc_status=QcStatus.QUARANTINE) | Q(qc_at__isnull=False),
                name="lot_qc_decision_dated",
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "product", "expires_on", "received_at"], name="lot_fefo_idx"
            ),
            models.Index(fields=["tenant", "product", "code_key"], name="lot_code_key_idx"),
            models.Index(
                fields=["tenant", "received_at"],
                condition=Q(qc_status="QUARANTINE"),
                name="lot_quarantine_queue_idx",
            ),
            # A recall: a lot code across every product (lot trace).
            models.Index(fields=["tenant", "code_key"], name="lot_trace_code_idx"),
        ]

    def __str__(self):
        return self.code

    def is_available_on(self, day: datetime.date) -> bool:
        """``LotAvailable`` for a lot in hand (a test holds the two to one answer)."""
        return self.qc_status == QcStatus.APPROVED and (
            self.expires_on is None or self.expires_on >= day
        )


class QcDecisionKind(models.TextChoices):
    DECISION = "DECISION", "Decision"
    REVERSAL = "REVERSAL", "Reversal"


class QcDecision(TenantOwned):
    """One change of a lot's QC status, append-only: who, when, from what, to what, why.

    ``DECISION`` rows are an inspector's approval or rejection of a quarantined
    lot; ``REVERSAL`` rows a manager's correction of a decision, with the
    reason as the note. The database refuses updates and deletes (migration
    ``0012``); the lot row carries only the current state.
    """

    lot = _reference(Lot, related_name="qc_decisions")
    kind = models.CharField(max_length=16, choices=QcDecisionKind.choices)
    previous_status = models.CharField(max_length=16, choices=QcStatus.choices)
    status = models.CharField(max_length=16, choices=QcStatus.choices)
    note = models.TextField(blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    decided_by_token = _reference(ApiToken, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = "QC decision"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="qcdecision_tenant_id_key"),
            models.CheckConstraint(
                condition=Q(kind__in=QcDecisionKind.values), name="qcdecision_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=QcStatus.values, previous_status__in=QcStatus.values)
                & ~Q(status=models.F("previous_status")),
                name="qcdecision_changes_status",
            ),
            # A reversal always says why.
            models.CheckConstraint(
                condition=~Q(kind="REVERSAL") | ~Q(note=""), name="qcdecision_reversal_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | Q(decided_by_token__isnull=True),
                name="qcdecision_one_actor",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "decided_at"], name="qcdecision_recent_idx"),
            models.Index(fields=["tenant", "lot"], name="qcdecision_lot_idx"),
        ]

    def __str__(self):
        return f"{self.previous_status} -> {self.status} of lot {self.lot_id}"


class Operation(TenantOwned):
    """One state-changing request: the idempotency record and the ledger's grouping.

    Every ledger entry belongs to an operation. A request with an
    ``Idempotency-Key`` stores the key, the SHA-256 fingerprint of its canonical
    body and the response it got, so a replay answers the same without changing
    anything (``inventory.core.idempotency``). Requests without a key get a
    generated one. The ledger is partitioned, so a unique key there could not
    span partitions; this table's ``(tenant_id, key)`` does.

    Keys are kept for ``IDEMPOTENCY_KEY_RETENTION_HOURS``; after that the key
    and the stored response are cleared (``key`` NULL: NULLs never collide in
    the unique constraint) while the row stays, because ledger entries refer
    to it.
    """

    # NULL, not "", once released: only NULLs may repeat under the unique constraint.
    key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    kind = models.CharField(max_length=32)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="operation_tenant_key_key"),
            models.UniqueConstraint(fields=["tenant", "id"], name="operation_tenant_id_key"),
        ]
        indexes = [
            # The key cleanup's scan: only rows that still hold a key, oldest first.
            models.Index(
                fields=["created_at"],
                condition=models.Q(key__isnull=False),
                name="operation_held_key_created",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.key}"


class LedgerKind(models.TextChoices):
    RECEIPT = "RECEIPT", "Receipt"
    SHIP = "SHIP", "Shipment"
    ADJUST = "ADJUST", "Adjustment"
    COUNT = "COUNT", "Count difference"
    MOVE_OUT = "MOVE_OUT", "Move out"
    MOVE_IN = "MOVE_IN", "Move in"
    RESERVE = "RESERVE", "Reservation"
    RELEASE = "RELEASE", "Release"
    RETURN = "RETURN", "Return"


# RESERVE and RELEASE change what is reserved, every other kind what is on hand:
# balance.on_hand = sum of the other kinds, balance.reserved = sum of these two.
RESERVATION_KINDS = (LedgerKind.RESERVE, LedgerKind.RELEASE)
# The sign every entry of a kind must have (ADJUST and COUNT go either way).
POSITIVE_KINDS = (
    LedgerKind.RECEIPT,
    LedgerKind.MOVE_IN,
    LedgerKind.RESERVE,
    LedgerKind.RETURN,
)
NEGATIVE_KINDS = (LedgerKind.SHIP, LedgerKind.MOVE_OUT, LedgerKind.RELEASE)


class LedgerEntry(TenantOwned):
    """An immutable stock event. The source of truth for every quantity.

    The table is range-partitioned by month on ``occurred_at`` (migration
    ``0006``); its real primary key is ``(tenant_id, occurred_at, id)``, which
    Django does not need to know: entries are only ever inserted and read.
    The database refuses ``UPDATE`` and ``DELETE`` (migration ``0007``).
    """

    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(db_default=Now())
    kind = models.CharField(max_length=16, choices=LedgerKind.choices)
    product = _reference(Product, related_name="+")
    warehouse = _reference(Warehouse, related_name="+")
    location = _reference(Location, related_name="+")
    lot = _reference(Lot, related_name="ledger_entries")
    quantity = QuantityField()
    reason = models.TextField(blank=True, default="")
    operation = _reference(Operation, related_name="entries")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    api_token = _reference(ApiToken, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=LedgerKind.values), name="ledger_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(quantity=0), name="ledger_quantity_nonzero"),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=POSITIVE_KINDS, quantity__gt=0)
                    | Q(kind__in=NEGATIVE_KINDS, quantity__lt=0)
                    | Q(kind__in=[LedgerKind.ADJUST, LedgerKind.COUNT])
                ),
                name="ledger_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=~Q(kind=LedgerKind.ADJUST) | ~Q(reason=""),
                name="ledger_adjustment_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(actor_user__isnull=True) | Q(api_token__isnull=True),
                name="ledger_one_actor",
            ),
        ]
        indexes = [
            BrinIndex(fields=["occurred_at"], name="ledger_occurred_brin"),
            models.Index(
                fields=["tenant", "lot", "location", "occurred_at"], name="ledger_lot_location_idx"
            ),
            models.Index(
                fields=["tenant", "product", "occurred_at"], name="ledger_product_occurred_idx"
            ),
            # A bin page's movements, newest first.
            models.Index(
                fields=["tenant", "location", "occurred_at"], name="ledger_location_occurred_idx"
            ),
            models.Index(fields=["tenant", "operation"], name="ledger_operation_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.quantity} of lot {self.lot_id} at {self.location_id}"

    @property
    def changes_reserved(self) -> bool:
        return self.kind in RESERVATION_KINDS


class Balance(TenantOwned):
    """The running projection of the ledger per lot and location.

    Written only by ``inventory.ledger.posting`` in the transaction that inserts the
    entries; ``manage.py reconcile`` proves it equals the sum of the ledger.
    ``product`` and ``warehouse`` are copies of the lot's product and the
    location's warehouse, so stock summaries need no joins to group.
    """

    lot = _reference(Lot, related_name="balances")
    location = _reference(Location, related_name="+")
    product = _reference(Product, related_name="+")
    warehouse = _reference(Warehouse, related_name="+")
    on_hand = QuantityField(default=Decimal("0"))
    reserved = QuantityField(default=Decimal("0"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["location_id", "lot_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "lot", "location"], name="balance_tenant_lot_location_key"
            ),
            models.UniqueConstraint(fields=["tenant", "id"], name="balance_tenant_id_key"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="balance_on_hand_nonnegative"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="balance_reserved_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(reserved__lte=models.F("on_hand")),
                name="balance_reserved_within_on_hand",
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "product", "warehouse"], name="balance_product_warehouse_idx"
            ),
            models.Index(fields=["tenant", "location"], name="balance_location_idx"),
        ]

    def __str__(self):
        return f"lot {self.lot_id} at {self.location_id}: {self.on_hand}"

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


# -- counts ------------------------------------------------------------------------


class CountStatus(models.TextChoices):
    OPEN = "OPEN", "Counting"
    SUBMITTED = "SUBMITTED", "In review"
    POSTED = "POSTED", "Posted"
    CANCELLED = "CANCELLED", "Cancelled"


class CountSession(TenantOwned):
    """A cycle count of some bins, or of one product, in one warehouse.

    ``OPEN`` (counting, lines saved one by one) -> ``SUBMITTED`` (in review)
    -> ``POSTED`` (its differences written as ``COUNT`` entries under
    ``operation``), or ``CANCELLED``. Every transition is a conditional update
    of the row in the status it leaves (``inventory.counts.services``), so it
    happens once whoever else presses the same button. The bins of a bin count
    are its ``CountLocation`` rows; a product count has ``product``.
    """

    warehouse = _reference(Warehouse, related_name="+")
    product = _reference(Product, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=CountStatus.choices, default=CountStatus.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    posted_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The operation whose COUNT entries posted this count.
    operation = _reference(Operation, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="countsession_tenant_id_key"),
            models.CheckConstraint(
                condition=Q(status__in=CountStatus.values), name="countsession_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=CountStatus.OPEN)
                | Q(status=CountStatus.CANCELLED)
                | Q(submitted_at__isnull=False),
                name="countsession_submitted_dated",
            ),
            models.CheckConstraint(
                condition=~Q(status=CountStatus.POSTED)
                | Q(posted_at__isnull=False, operation__isnull=False),
                name="countsession_posted_dated",
            ),
            models.CheckConstraint(
                condition=~Q(status=CountStatus.CANCELLED) | Q(cancelled_at__isnull=False),
                name="countsession_cancelled_dated",
            ),
        ]
        indexes = [
            # The count list filtered by status, newest first.
            models.Index(fields=["tenant", "status", "created_at"], name="countsession_status_idx"),
        ]

    def __str__(self):
        return f"count {self.pk} ({self.status})"

    @property
    def is_counting(self) -> bool:
        return self.status == CountStatus.OPEN

    @property
    def is_in_review(self) -> bool:
        return self.status == CountStatus.SUBMITTED


class CountLocation(TenantOwned):
    """A bin a count covers (a bin count): the bins stay in scope even when empty."""

    session = _reference(CountSession, related_name="locations")
    location = _reference(Location, related_name="+")

    class Meta:
        ordering = ["session_id", "location_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="countlocation_tenant_id_key"),
            models.UniqueConstraint(
                fields=["tenant", "session", "location"],
                name="countlocation_tenant_session_location_key",
            ),
        ]

    def __str__(self):
        return f"bin {self.location_id} of count {self.session_id}"


class CountLine(TenantOwned):
    """One lot at one bin to count: what the counter found there, saved as entered.

    ``counted_quantity`` is null until counted. ``expected_quantity`` and
    ``difference`` stay null until posting, which records the balance the
    count was posted against and the ``COUNT`` entry's quantity; before
    that the expected quantity lives only in the balance, so the counting
    screen cannot show it. ``is_found`` marks a lot the counter found on the
    shelf that the books did not have there when the count started.
    """

    session = _reference(CountSession, related_name="lines")
    location = _reference(Location, related_name="+")
    lot = _reference(Lot, related_name="+")
    product = _reference(Product, related_name="+")
    is_found = models.BooleanField(default=False)
    counted_quantity = QuantityField(null=True, blank=True)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    counted_at = models.DateTimeField(null=True, blank=True)
    expected_quantity = QuantityField(null=True, blank=True)
    difference = QuantityField(null=True, blank=True)

    class Meta:
        ordering = ["session_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="countline_tenant_id_key"),
            models.UniqueConstraint(
                fields=["tenant", "session", "lot", "location"],
                name="countline_tenant_session_lot_location_key",
            ),
            models.CheckConstraint(
                condition=Q(counted_quantity__isnull=True) | Q(counted_quantity__gte=0),
                name="countline_counted_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(counted_quantity__isnull=True) | Q(counted_at__isnull=False),
                name="countline_counted_dated",
            ),
            models.CheckConstraint(
                condition=Q(expected_quantity__isnull=True) | Q(expected_quantity__gte=0),
                name="countline_expected_nonnegative",
            ),
        ]

    def __str__(self):
        return f"lot {self.lot_id} at {self.location_id}: {self.counted_quantity}"


# -- reservations and orders ------------------------------------------------------


class ReservationStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    ISSUED = "ISSUED", "Issued"
    CANCELLED = "CANCELLED", "Cancelled"
    EXPIRED = "EXPIRED", "Expired"


class Reservation(TenantOwned):
    """Stock held for a demand (a checkout, an order) in one warehouse.

    ``OPEN`` holds: its allocations raised ``reserved`` on their balances by
    ``RESERVE`` entries. It ends ``ISSUED`` (shipped), ``CANCELLED`` or
    ``EXPIRED`` (released by ``RELEASE`` entries), exactly once: every
    transition is a conditional update of an ``OPEN`` row
    (``inventory.reservations.allocation``).
    """

    warehouse = _reference(Warehouse, related_name="+")
    reference = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=ReservationStatus.choices, default=ReservationStatus.OPEN
    )
    allow_partial = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    issued_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    operation = _reference(Operation, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="reservation_tenant_id_key"),
            models.CheckConstraint(
                condition=Q(status__in=ReservationStatus.values), name="reservation_status_valid"
            ),
        ]
        indexes = [
            # The expiry sweep (all tenants): open reservations past their expiry.
            models.Index(
                fields=["expires_at"],
                condition=Q(status="OPEN", expires_at__isnull=False),
                name="reservation_open_expiry_idx",
            ),
            # Allocation releasing expired holds in its own warehouse before a shortage.
            models.Index(
                fields=["tenant", "warehouse", "expires_at"],
                condition=Q(status="OPEN", expires_at__isnull=False),
                name="reservation_open_site_idx",
            ),
        ]

    def __str__(self):
        return f"reservation {self.pk} ({self.status})"

    def is_expired_at(self, moment: datetime.datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= moment


class ReservationLine(TenantOwned):
    """One product of a reservation: how much was asked for and how much is held."""

    reservation = _reference(Reservation, related_name="lines")
    product = _reference(Product, related_name="+")
    quantity = QuantityField()
    allocated = QuantityField(default=Decimal("0"))

    class Meta:
        ordering = ["product_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="reservationline_tenant_id_key"),
            models.UniqueConstraint(
                fields=["tenant", "reservation", "product"],
                name="reservationline_tenant_reservation_product_key",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="reservationline_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(allocated__gte=0, allocated__lte=models.F("quantity")),
                name="reservationline_allocated_within_quantity",
            ),
        ]

    def __str__(self):
        return f"{self.allocated} of {self.quantity} of product {self.product_id}"


class Allocation(TenantOwned):
    """The exact lot, location and quantity a reservation line holds."""

    reservation = _reference(Reservation, related_name="allocations")
    line = _reference(ReservationLine, related_name="allocations")
    lot = _reference(Lot, related_name="+")
    location = _reference(Location, related_name="+")
    quantity = QuantityField()

    class Meta:
        ordering = ["line_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="allocation_tenant_id_key"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="allocation_quantity_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "reservation"], name="allocation_reservation_idx"),
        ]

    def __str__(self):
        return f"{self.quantity} of lot {self.lot_id} at {self.location_id}"


class OrderStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    ALLOCATED = "ALLOCATED", "Allocated"
    PICKING = "PICKING", "Picking"
    SHIPPED = "SHIPPED", "Shipped"
    CANCELLED = "CANCELLED", "Cancelled"


# Where an order may go from each status (``inventory.orders`` enforces it with
# conditional updates; SHIPPED and CANCELLED are final).
ORDER_TRANSITIONS = {
    OrderStatus.OPEN: (OrderStatus.ALLOCATED, OrderStatus.CANCELLED),
    OrderStatus.ALLOCATED: (OrderStatus.PICKING, OrderStatus.SHIPPED, OrderStatus.CANCELLED),
    OrderStatus.PICKING: (OrderStatus.SHIPPED, OrderStatus.CANCELLED),
    OrderStatus.SHIPPED: (),
    OrderStatus.CANCELLED: (),
}


class Order(TenantOwned):
    """A customer's order: ``OPEN → ALLOCATED → PICKING → SHIPPED``, or ``CANCELLED``.

    Allocating it creates its reservation. Shipping writes ``SHIP`` entries
    under ``shipment_operation``, which is how a lot is traced to the orders
    and customers it went to.
    """

    reference = models.CharField(max_length=100)
    customer = models.CharField(max_length=200)
    # A recall finds a customer's orders by this key (``inventory.ledger.history``).
    customer_key = lowered_key("customer", 200, "customer")
    warehouse = _reference(Warehouse, related_name="+")
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    reservation = _reference(Reservation, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    allocated_at = models.DateTimeField(null=True, blank=True)
    picking_started_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The operation whose SHIP entries shipped this order.
    shipment_operation = _reference(Operation, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="order_tenant_id_key"),
            models.UniqueConstraint(
                fields=["tenant", "reference"], name="order_tenant_reference_key"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=OrderStatus.SHIPPED) | Q(shipped_at__isnull=False),
                name="order_shipped_dated",
            ),
            models.CheckConstraint(
                condition=~Q(status=OrderStatus.CANCELLED) | Q(cancelled_at__isnull=False),
                name="order_cancelled_dated",
            ),
        ]
        indexes = [
            # The order list filtered by status, newest first.
            models.Index(fields=["tenant", "status", "created_at"], name="order_status_idx"),
            # A lot's trace: from a SHIP entry's operation to its order.
            models.Index(
                fields=["tenant", "shipment_operation"],
                condition=Q(shipment_operation__isnull=False),
                name="order_shipment_idx",
            ),
            # A recall: a customer's shipped orders by name prefix, any letter case.
            models.Index(
                fields=["tenant", "customer_key"],
                condition=Q(shipment_operation__isnull=False),
                name="order_customer_idx",
            ),
        ]

    def __str__(self):
        return f"order {self.reference}"


class OrderLine(TenantOwned):
    order = _reference(Order, related_name="lines")
    product = _reference(Product, related_name="+")
    quantity = QuantityField()

    class Meta:
        ordering = ["product_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="orderline_tenant_id_key"),
            models.UniqueConstraint(
                fields=["tenant", "order", "product"], name="orderline_tenant_order_product_key"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} of product {self.product_id}"


class ShortReason(models.TextChoices):
    """Why a picker took less than the pick asked for (the list the pick screen offers)."""

    NOT_FOUND = "NOT_FOUND", "Not in the bin"
    DAMAGED = "DAMAGED", "Damaged"
    EXPIRED = "EXPIRED", "Expired or short-dated"
    WRONG_PRODUCT = "WRONG_PRODUCT", "Wrong product in the bin"


class Pick(TenantOwned):
    """One allocation of an order to pick: where, what, how much, and what was taken.

    Written when picking starts (one per allocation of the order's
    reservation, in the bins' pick sequence) and when a short pick is
    re-allocated (the new reservation's allocations). ``picked`` and
    ``short`` only grow, by conditional updates (``inventory.orders.picking``);
    a pick is done when they add up to ``quantity``. Shipping posts ``SHIP``
    entries for ``picked`` exactly.
    """

    order = _reference(Order, related_name="picks")
    reservation = _reference(Reservation, related_name="+")
    allocation = _reference(Allocation, related_name="+")
    product = _reference(Product, related_name="+")
    lot = _reference(Lot, related_name="+")
    location = _reference(Location, related_name="+")
    quantity = QuantityField()
    picked = QuantityField(default=Decimal("0"))
    short = QuantityField(default=Decimal("0"))
    short_reason = models.CharField(max_length=16, choices=ShortReason.choices, blank=True)
    picked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    picked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="pick_tenant_id_key"),
            models.UniqueConstraint(fields=["tenant", "allocation"], name="pick_allocation_key"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="pick_quantity_positive"),
            # The last line of defence against picking more than was held.
            models.CheckConstraint(
                condition=Q(picked__gte=0, short__gte=0)
                & Q(quantity__gte=models.F("picked") + models.F("short")),
                name="pick_within_quantity",
            ),
            models.CheckConstraint(
                condition=Q(short=0) | ~Q(short_reason=""), name="pick_short_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "order"], name="pick_order_idx")]

    def __str__(self):
        return f"{self.picked} of {self.quantity} of lot {self.lot_id} at {self.location_id}"

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.picked - self.short

    @property
    def is_done(self) -> bool:
        return self.remaining == 0

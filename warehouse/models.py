"""Tenants, memberships, warehouses and their bins.

``Tenant`` is global. Every other model here is tenant-owned: it carries
``tenant_id``, and PostgreSQL row-level security (see ``warehouse.rls``)
limits every query to the tenant of the current transaction.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from warehouse.validators import CodeValidator, TextValidator


class Tenant(models.Model):
    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    refuse_expired_receipts = models.BooleanField(
        default=False,
        help_text="Refuse receipts whose expiry date has passed (otherwise: receive with a "
        "warning; the lot is on hand but never available).",
    )
    count_approval_value = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=Decimal("100.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="A count whose differences are worth more than this in total (at lot "
        "cost, gains and losses both counted) needs a manager to approve its posting.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(count_approval_value__gte=0),
                name="tenant_count_approval_value_nonnegative",
            )
        ]

    def __str__(self):
        return self.name


def lowered_key(source: str, max_length: int, verbose_name: str) -> models.GeneratedField:
    """``lower(source)``, stored: the key that lookups by a code compare with ``=``.

    Under row-level security PostgreSQL lets only LEAKPROOF operators into an
    index scan ahead of the tenant policy. ``lower(code) = ...`` is not one,
    so it was a filter over every row of the tenant; ``code_key = ...`` uses
    ``texteq``, which is. Codes (SKUs too) are ASCII (``CodeValidator``), for
    which PostgreSQL's ``lower()`` and Python's ``str.lower()`` agree, so a
    lookup lowers the wanted code in Python. The case-insensitive unique
    constraints on ``Lower(source)`` stay the rule for duplicates (the admin
    reads them to explain a clash).
    """
    return models.GeneratedField(
        expression=Lower(source),
        output_field=models.CharField(max_length=max_length, db_collation="C"),
        db_persist=True,
        verbose_name=verbose_name,
        editable=False,
    )


class TenantOwned(models.Model):
    """Base for tenant-owned rows: ``tenant_id`` first, unique with ``id``.

    The ``(tenant_id, id)`` key is what composite foreign keys between tenant
    tables reference, so a row can never point into another tenant.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, db_index=False)

    class Meta:
        abstract = True


class Role(models.TextChoices):
    OPERATOR = "operator", "Operator"
    QC = "qc", "QC inspector"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"


class MembershipQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user, tenant__is_active=True).select_related("tenant")


class Membership(TenantOwned):
    """A user's role in one tenant. A user may belong to several tenants."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the user last switched to this tenant; a new session starts in the
    # tenant used most recently.
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["tenant__name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_tenant_user_key"),
            models.UniqueConstraint(fields=["tenant", "id"], name="membership_tenant_id_key"),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} in {self.tenant}"

    def has_role(self, *roles: str) -> bool:
        """Admins may do everything; everyone else needs one of ``roles``."""
        return self.role == Role.ADMIN or self.role in roles


class Warehouse(TenantOwned):
    code = models.CharField(max_length=32, validators=[CodeValidator("warehouse code")])
    name = models.CharField(max_length=200, validators=[TextValidator("name")])
    time_zone = models.CharField(max_length=64, default="UTC")
    is_active = models.BooleanField(default=True)
    code_key = lowered_key("code", 32, "warehouse code")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint("tenant", Lower("code"), name="warehouse_tenant_code_key"),
            models.UniqueConstraint(fields=["tenant", "id"], name="warehouse_tenant_id_key"),
        ]
        indexes = [models.Index(fields=["tenant", "code_key"], name="warehouse_code_key_idx")]

    def __str__(self):
        return f"{self.code} · {self.name}"


class LocationKind(models.TextChoices):
    RECEIVING = "receiving", "Receiving"
    STORAGE = "storage", "Storage"
    PICK = "pick", "Pick face"
    QUARANTINE = "quarantine", "Quarantine"
    SHIPPING = "shipping", "Shipping"


class Location(TenantOwned):
    """A bin in a warehouse, such as ``A-01-03``."""

    # The database constraint is the composite (tenant_id, warehouse_id) key
    # added in the migration; Django's single-column one would not stop a row
    # from pointing at another tenant's warehouse.
    warehouse = models.ForeignKey(
        Warehouse,
        on_delete=models.PROTECT,
        related_name="locations",
        db_constraint=False,
        db_index=False,
    )
    code = models.CharField(max_length=32, validators=[CodeValidator("location code")])
    kind = models.CharField(
        max_length=16, choices=LocationKind.choices, default=LocationKind.STORAGE
    )
    pick_sequence = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    code_key = lowered_key("code", 32, "location code")

    class Meta:
        ordering = ["warehouse__code", "pick_sequence", "code"]
        constraints = [
            models.UniqueConstraint(
                "tenant", "warehouse", Lower("code"), name="location_tenant_warehouse_code_key"
            ),
            models.UniqueConstraint(fields=["tenant", "id"], name="location_tenant_id_key"),
        ]
        indexes = [
            models.Index(fields=["tenant", "warehouse", "code_key"], name="location_code_key_idx")
        ]

    def __str__(self):
        return self.code

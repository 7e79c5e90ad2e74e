"""Demo data: two tenants, their people, warehouses and bins.

Idempotent: every row is looked up by its natural key first, so loading the
demo twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from warehouse.models import Location, LocationKind, Membership, Role, Tenant, Warehouse
from warehouse.tenancy import tenant_context

TENANTS = {
    "northwind": "Northwind Foods",
    "harbor": "Harbor Supply Co.",
}

# username -> (full name, {tenant slug: role}, is_staff, is_superuser)
PEOPLE = {
    "admin": ("Ada Admin", {"northwind": Role.ADMIN, "harbor": Role.ADMIN}, True, True),
    "manager": ("Maya Manager", {"northwind": Role.MANAGER, "harbor": Role.OPERATOR}, False, False),
    "operator": ("Oscar Operator", {"northwind": Role.OPERATOR}, False, False),
    "inspector": ("Quinn Inspector", {"northwind": Role.QC}, False, False),
    "harbor": ("Hana Harbor", {"harbor": Role.MANAGER}, False, False),
}

# tenant slug -> [(code, name, time zone, [(kind, aisle prefix, count)])]
SITES = {
    "northwind": [
        (
            "MAIN",
            "Main distribution centre",
            "Europe/Berlin",
            [
                (LocationKind.RECEIVING, "RCV", 2),
                (LocationKind.QUARANTINE, "QC", 2),
                (LocationKind.STORAGE, "A-01", 6),
                (LocationKind.STORAGE, "B-01", 6),
                (LocationKind.PICK, "P-01", 4),
                (LocationKind.SHIPPING, "SHP", 2),
            ],
        ),
        (
            "EAST",
            "East cross-dock",
            "Europe/Warsaw",
            [
                (LocationKind.RECEIVING, "RCV", 1),
                (LocationKind.STORAGE, "C-01", 4),
                (LocationKind.PICK, "P-01", 2),
                (LocationKind.SHIPPING, "SHP", 1),
            ],
        ),
    ],
    "harbor": [
        (
            "PORT",
            "Harbor warehouse",
            "America/New_York",
            [
                (LocationKind.RECEIVING, "RCV", 1),
                (LocationKind.STORAGE, "H-01", 4),
                (LocationKind.SHIPPING, "SHP", 1),
            ],
        ),
    ],
}


@dataclass
class DemoSignIn:
    username: str
    roles: str


def seed_people(password: str) -> list[DemoSignIn]:
    User = get_user_model()
    # One hash for every demo account: hashing is deliberately slow.
    password_hash = make_password(password)
    tenants = {
        slug: Tenant.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in TENANTS.items()
    }
    sign_ins = []
    for username, (full_name, roles, is_staff, is_superuser) in PEOPLE.items():
        first, last = full_name.split(" ", 1)
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@stockyard.example",
                "is_staff": is_staff,
                "is_superuser": is_superuser,
            },
        )
        if created:
            user.password = password_hash
            user.save(update_fields=["password"])
        for slug, role in roles.items():
            with tenant_context(tenants[slug].id):
                Membership.objects.get_or_create(
                    tenant=tenants[slug], user=user, defaults={"role": role}
                )
        sign_ins.append(
            DemoSignIn(
                username,
                ", ".join(f"{Role(role).label} in {TENANTS[slug]}" for slug, role in roles.items()),
            )
        )
    return sign_ins


def seed_sites() -> None:
    for slug, sites in SITES.items():
        tenant = Tenant.objects.get(slug=slug)
        with tenant_context(tenant.id):
            for code, name, time_zone, bins in sites:
                warehouse, _ = Warehouse.objects.get_or_create(
                    tenant=tenant, code=code, defaults={"name": name, "time_zone": time_zone}
                )
                sequence = 0
                for kind, prefix, count in bins:
                    for number in range(1, count + 1):
                        sequence += 10
                        Location.objects.get_or_create(
                            tenant=tenant,
                            warehouse=warehouse,
                            code=f"{prefix}-{number:02d}",
                            defaults={"kind": kind, "pick_sequence": sequence},
                        )


@transaction.atomic
def seed(password: str) -> list[DemoSignIn]:
    sign_ins = seed_people(password)
    seed_sites()
    return sign_ins

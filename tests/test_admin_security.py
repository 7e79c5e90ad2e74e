"""Django admin as an attacker sees it: a tenant admin's reach, and input that must not fail.

``acme_admin`` is what a tenant gets as its administrator: staff (to enter
the admin), Admin in Acme only, with the user, membership, catalog and site
permissions. ``shared`` belongs to Acme and to Globex; ``packer`` to Acme
alone; ``other_tenant_user`` to Globex alone. Every refusal is checked in the
database too: what the request tried to change is unchanged.
"""

import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connections, transaction
from django.test import Client

from inventory.models import ApiToken, Product
from tests.conftest import PASSWORD, make_member, make_site
from warehouse.models import Location, Membership, Role, Warehouse
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db

User = get_user_model()

TENANT_ADMIN_PERMISSIONS = {
    "auth": ["view_user", "add_user", "change_user", "delete_user", "change_group"],
    "warehouse": [
        f"{action}_{model}"
        for action in ("view", "add", "change", "delete")
        for model in ("membership", "warehouse", "location")
    ],
    "inventory": [
        f"{action}_{model}"
        for action in ("view", "add", "change", "delete")
        for model in ("product", "apitoken")
    ],
}


def grant_tenant_admin_permissions(user):
    for app_label, codenames in TENANT_ADMIN_PERMISSIONS.items():
        user.user_permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def acme_admin(tenant):
    user = make_member(tenant, "acme-admin", Role.ADMIN, is_staff=True)
    grant_tenant_admin_permissions(user)
    return user


@pytest.fixture
def acme_client(acme_admin):
    return signed_in(acme_admin)


@pytest.fixture
def shared(tenant, other_tenant):
    user = make_member(tenant, "shared", Role.OPERATOR)
    with tenant_context(other_tenant.id):
        Membership.objects.create(tenant=other_tenant, user=user, role=Role.MANAGER)
    return user


@pytest.fixture
def packer(tenant):
    return make_member(tenant, "packer", Role.OPERATOR)


@pytest.fixture
def superuser(tenant):
    return make_member(tenant, "root", Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def leads():
    group = Group.objects.create(name="Leads")
    group.permissions.add(Permission.objects.get(codename="view_user"))
    return group


def fresh(user):
    return User.objects.get(pk=user.pk)


def memberships_of(user, tenant):
    with tenant_context(tenant.id):
        return list(Membership.objects.filter(user=user).values_list("role", flat=True))


def change_data(user, **changes):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    data.update(changes)
    return data


def new_password_data():
    return {"password1": "A-whole-new-Secret-77", "password2": "A-whole-new-Secret-77"}


def escalation_data(user, group, **changes):
    permission = Permission.objects.get(codename="delete_tenant")
    return change_data(
        user,
        is_staff="on",
        is_superuser="on",
        user_permissions=[permission.pk],
        groups=[group.pk],
        **changes,
    )


def assert_not_escalated(user):
    user = fresh(user)
    assert not user.is_superuser
    assert not user.user_permissions.filter(codename="delete_tenant").exists()
    assert not user.groups.exists()
    return user


# -- accounts a tenant admin may not change -------------------------------------------


def test_tenant_admin_cannot_set_the_password_of_a_user_who_also_belongs_to_another_tenant(
    acme_client, shared
):
    response = acme_client.post(f"/admin/auth/user/{shared.pk}/password/", new_password_data())

    assert response.status_code == 403
    assert fresh(shared).check_password(PASSWORD)


def test_tenant_admin_cannot_change_a_user_who_also_belongs_to_another_tenant(
    acme_client, shared, other_tenant
):
    response = acme_client.post(
        f"/admin/auth/user/{shared.pk}/change/", change_data(shared, is_active="", email="x@x.x")
    )

    assert response.status_code == 403
    unchanged = fresh(shared)
    assert unchanged.is_active and unchanged.email == ""
    assert memberships_of(shared, other_tenant) == [Role.MANAGER]
    # Seeing the account is fine; its history holds changes made from other tenants.
    assert acme_client.get(f"/admin/auth/user/{shared.pk}/change/").status_code == 200
    assert acme_client.get(f"/admin/auth/user/{shared.pk}/history/").status_code == 403


def test_tenant_admin_cannot_make_themselves_superuser_or_staff_or_grant_permissions(
    acme_client, acme_admin, leads
):
    response = acme_client.post(
        f"/admin/auth/user/{acme_admin.pk}/change/", escalation_data(acme_admin, leads)
    )

    assert response.status_code == 403
    assert_not_escalated(acme_admin)
    # The change page shows none of the fields that would grant privileges.
    page = acme_client.get(f"/admin/auth/user/{acme_admin.pk}/change/").content.decode()
    for field in ("is_superuser", "is_staff", "user_permissions", "groups"):
        assert f'name="{field}"' not in page


def test_tenant_admin_cannot_change_another_staff_account(acme_client, tenant):
    colleague = make_member(tenant, "colleague", Role.ADMIN, is_staff=True)

    response = acme_client.post(f"/admin/auth/user/{colleague.pk}/password/", new_password_data())
    assert response.status_code == 403
    response = acme_client.post(
        f"/admin/auth/user/{colleague.pk}/change/", change_data(colleague, is_active="")
    )
    assert response.status_code == 403
    assert fresh(colleague).is_active and fresh(colleague).check_password(PASSWORD)


def test_privilege_fields_posted_for_a_user_of_this_tenant_only_are_ignored(
    acme_client, packer, leads
):
    response = acme_client.post(
        f"/admin/auth/user/{packer.pk}/change/",
        escalation_data(packer, leads, first_name="Pat"),
    )

    assert response.status_code == 302
    changed = assert_not_escalated(packer)
    assert not changed.is_staff
    assert changed.first_name == "Pat"


def test_tenant_admin_may_set_the_password_of_a_user_of_this_tenant_only(acme_client, packer):
    response = acme_client.post(f"/admin/auth/user/{packer.pk}/password/", new_password_data())

    assert response.status_code == 302
    assert fresh(packer).check_password("A-whole-new-Secret-77")


def test_users_of_only_another_tenant_are_out_of_reach(
    acme_client, tenant, other_tenant, other_tenant_user
):
    change = acme_client.post(
        f"/admin/auth/user/{other_tenant_user.pk}/change/",
        change_data(other_tenant_user, is_active=""),
    )
    assert change.status_code == 302 and change["Location"] == "/admin/"  # "does not exist"
    password = acme_client.post(
        f"/admin/auth/user/{other_tenant_user.pk}/password/", new_password_data()
    )
    assert password.status_code == 404
    autocomplete = acme_client.get(
        "/admin/autocomplete/",
        {"app_label": "warehouse", "model_name": "membership", "field_name": "user", "term": ""},
    )
    assert autocomplete.status_code == 200
    assert "other" not in {result["text"] for result in autocomplete.json()["results"]}
    # Nor can they be pulled into this tenant by their id.
    pulled = acme_client.post(
        "/admin/warehouse/membership/add/", {"user": other_tenant_user.pk, "role": Role.ADMIN}
    )
    assert pulled.status_code == 200
    assert "Select a valid choice" in pulled.content.decode()

    unchanged = fresh(other_tenant_user)
    assert unchanged.is_active and unchanged.check_password(PASSWORD)
    assert memberships_of(other_tenant_user, tenant) == []
    assert memberships_of(other_tenant_user, other_tenant) == [Role.MANAGER]


def test_tenant_admin_cannot_delete_user_accounts(acme_client, shared, packer, other_tenant):
    assert (
        acme_client.post(f"/admin/auth/user/{shared.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert (
        acme_client.post(f"/admin/auth/user/{packer.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    acme_client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [shared.pk, packer.pk], "post": "yes"},
    )

    assert User.objects.filter(pk__in=[shared.pk, packer.pk]).count() == 2
    assert memberships_of(shared, other_tenant) == [Role.MANAGER]


def test_tenant_admin_removes_someone_from_the_tenant_by_deleting_the_membership(
    acme_client, tenant, shared, other_tenant
):
    with tenant_context(tenant.id):
        membership = Membership.objects.get(user=shared)

    response = acme_client.post(
        f"/admin/warehouse/membership/{membership.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert memberships_of(shared, tenant) == []
    assert memberships_of(shared, other_tenant) == [Role.MANAGER]
    assert fresh(shared).is_active


def test_tenant_admin_cannot_change_or_remove_a_superusers_membership(
    acme_client, tenant, superuser
):
    with tenant_context(tenant.id):
        membership = Membership.objects.get(user=superuser)
    path = f"/admin/warehouse/membership/{membership.pk}"

    assert acme_client.post(f"{path}/change/", {"role": Role.OPERATOR}).status_code == 403
    assert acme_client.post(f"{path}/delete/", {"post": "yes"}).status_code == 403
    assert memberships_of(superuser, tenant) == [Role.ADMIN]


def test_adding_a_user_cannot_make_a_superuser_and_files_the_user_under_the_tenant(
    acme_client, tenant, leads
):
    response = acme_client.post(
        "/admin/auth/user/add/",
        {
            "username": "newhire",
            "usable_password": "true",
            "password1": "Newhire-Secret-2026",
            "password2": "Newhire-Secret-2026",
            "role": Role.QC,
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [leads.pk],
        },
    )

    assert response.status_code == 302
    newhire = User.objects.get(username="newhire")
    assert not newhire.is_staff
    assert_not_escalated(newhire)
    assert memberships_of(newhire, tenant) == [Role.QC]
    # The redirect leads to the new user's page, which the tenant admin may use.
    assert acme_client.get(response["Location"]).status_code == 200


def test_groups_are_for_superusers_only(acme_client, acme_admin, leads):
    everything = Permission.objects.values_list("pk", flat=True)

    response = acme_client.post(
        f"/admin/auth/group/{leads.pk}/change/", {"name": "Leads", "permissions": list(everything)}
    )

    assert response.status_code == 403
    assert leads.permissions.count() == 1


def test_a_staff_user_in_no_tenant_sees_and_changes_no_one(packer):
    drifter = User.objects.create_user("drifter", password=PASSWORD, is_staff=True)
    grant_tenant_admin_permissions(drifter)
    client = signed_in(drifter)

    assert client.get("/admin/auth/user/").status_code == 403
    response = client.post(f"/admin/auth/user/{packer.pk}/password/", new_password_data())
    assert response.status_code == 403
    assert client.post("/admin/warehouse/warehouse/add/", {"code": "X"}).status_code == 403
    assert fresh(packer).check_password(PASSWORD)


def test_superuser_still_manages_every_account(superuser, shared, packer, other_tenant_user, leads):
    client = signed_in(superuser)

    assert client.get(f"/admin/auth/user/{other_tenant_user.pk}/change/").status_code == 200
    response = client.post(f"/admin/auth/user/{shared.pk}/password/", new_password_data())
    assert response.status_code == 302
    assert fresh(shared).check_password("A-whole-new-Secret-77")
    response = client.post(f"/admin/auth/user/{packer.pk}/change/", escalation_data(packer, leads))
    assert response.status_code == 302
    promoted = fresh(packer)
    assert promoted.is_staff and promoted.is_superuser and promoted.groups.get() == leads
    assert client.get(f"/admin/auth/user/{shared.pk}/history/").status_code == 200
    response = client.post(f"/admin/auth/user/{packer.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=packer.pk).exists()


def test_an_account_with_a_membership_in_another_tenant_is_not_deleted_from_this_one(
    superuser, shared, other_tenant
):
    client = signed_in(superuser)

    page = client.get(f"/admin/auth/user/{shared.pk}/delete/").content.decode()
    response = client.post(f"/admin/auth/user/{shared.pk}/delete/", {"post": "yes"})

    assert "a membership in another tenant" in page
    assert response.status_code == 200
    assert User.objects.filter(pk=shared.pk).exists()
    assert memberships_of(shared, other_tenant) == [Role.MANAGER]


def test_an_account_still_referred_to_in_another_tenant_is_not_deleted(
    superuser, packer, other_tenant
):
    from inventory.core.tokens import issue_api_token

    issue_api_token(tenant=other_tenant, name="Made before leaving", created_by=packer)
    client = signed_in(superuser)

    response = client.post(f"/admin/auth/user/{packer.pk}/delete/", {"post": "yes"}, follow=True)

    assert response.status_code == 200
    assert "cannot be deleted" in response.content.decode()
    assert User.objects.filter(pk=packer.pk).exists()
    with tenant_context(other_tenant.id):
        assert ApiToken.objects.get().created_by_id == packer.pk


# -- duplicates and bad input answer with a form error ----------------------------------


def assert_form_error(response, text):
    assert response.status_code == 200
    errors = [
        str(error)
        for form in (response.context["adminform"].form,)
        for error in [*form.non_field_errors(), *(e for f in form for e in f.errors)]
    ]
    inline_errors = [
        str(error)
        for formset in response.context.get("inline_admin_formsets", [])
        for form_errors in formset.formset.errors
        for field_errors in form_errors.values()
        for error in field_errors
    ]
    assert any(text in error for error in errors + inline_errors), errors + inline_errors


def product_data(**changes):
    data = {"sku": "flour-25", "name": "Flour", "uom": "kg", "unit_cost": "0", "attributes": "{}"}
    data.update(changes)
    return data


def test_a_sku_in_another_letter_case_is_a_form_error(acme_client, tenant, flour):
    response = acme_client.post("/admin/inventory/product/add/", product_data())

    assert_form_error(response, "Product with this sku already exists")
    with tenant_context(tenant.id):
        assert list(Product.objects.values_list("sku", flat=True)) == ["FLOUR-25"]


def test_renaming_a_product_to_an_existing_sku_is_a_form_error(acme_client, tenant, flour, vaccine):
    response = acme_client.post(
        f"/admin/inventory/product/{vaccine.pk}/change/", product_data(sku="Flour-25", uom="ea")
    )

    assert_form_error(response, "already exists")
    with tenant_context(tenant.id):
        assert Product.objects.get(pk=vaccine.pk).sku == "VAX-10"


@pytest.mark.django_db(transaction=True, databases=["default", "owner", "maintenance"])
def test_a_sku_saved_by_someone_else_during_the_request_is_a_form_error(acme_client, tenant):
    outcome = {}

    def add_in_the_admin():
        try:
            outcome["response"] = acme_client.post("/admin/inventory/product/add/", product_data())
        finally:
            connections.close_all()

    with transaction.atomic(), tenant_context(tenant.id):
        Product.objects.create(tenant=tenant, sku="FLOUR-25", name="Flour")
        # The admin request validates before this row commits, so its insert
        # waits on the unique index, then fails once the row commits.
        request = threading.Thread(target=add_in_the_admin)
        request.start()
        wait_for_a_lock_wait()
    request.join(30)

    assert_form_error(outcome["response"], "Product with this sku already exists")
    with tenant_context(tenant.id):
        assert list(Product.objects.values_list("sku", flat=True)) == ["FLOUR-25"]


def wait_for_a_lock_wait(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with connections["maintenance"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the admin request never waited on the unique index")


def test_a_sku_of_another_tenant_is_no_duplicate(acme_client, tenant, other_tenant):
    from inventory.catalog.services import create_product

    create_product(tenant=other_tenant, sku="FLOUR-25", name="Their flour")

    response = acme_client.post("/admin/inventory/product/add/", product_data())

    assert response.status_code == 302
    with tenant_context(tenant.id):
        assert Product.objects.get().sku == "flour-25"


@pytest.mark.parametrize(
    "changes, text",
    [
        ({"shelf_life_days": "2147483647"}, "shelf life"),
        ({"attributes": "[1, 2]"}, "JSON object"),
        ({"attributes": '{"note": "\\u0000"}'}, "NUL"),
        ({"attributes": '{"note": "%s"}' % ("x" * 10_001)}, "at most"),
        ({"attributes": '{"weight": NaN}'}, "plain JSON"),
        ({"attributes": '{"weight": 1e999}'}, "plain JSON"),
        ({"attributes": '{"note": "\\ud800"}'}, "plain JSON"),
        ({"unit_cost": "-1"}, "product_unit_cost_nonnegative"),
    ],
)
def test_product_values_the_services_refuse_are_form_errors(acme_client, tenant, changes, text):
    response = acme_client.post("/admin/inventory/product/add/", product_data(**changes))

    assert_form_error(response, text)
    with tenant_context(tenant.id):
        assert not Product.objects.exists()


def warehouse_data(code="dc1", time_zone="UTC", bins=()):
    data = {
        "code": code,
        "name": "Acme DC",
        "time_zone": time_zone,
        "is_active": "on",
        "locations-TOTAL_FORMS": str(len(bins)),
        "locations-INITIAL_FORMS": "0",
        "locations-MIN_NUM_FORMS": "0",
        "locations-MAX_NUM_FORMS": "1000",
    }
    for number, code in enumerate(bins):
        data.update(
            {
                f"locations-{number}-code": code,
                f"locations-{number}-kind": "storage",
                f"locations-{number}-pick_sequence": "0",
                f"locations-{number}-is_active": "on",
            }
        )
    return data


def test_a_warehouse_code_in_another_letter_case_is_a_form_error(acme_client, tenant):
    make_site(tenant, "DC1", bins=())

    response = acme_client.post("/admin/warehouse/warehouse/add/", warehouse_data("dc1"))

    assert_form_error(response, "Warehouse with this code already exists")
    with tenant_context(tenant.id):
        assert Warehouse.objects.count() == 1


def test_an_unknown_time_zone_is_a_form_error(acme_client, tenant):
    response = acme_client.post(
        "/admin/warehouse/warehouse/add/", warehouse_data("DC2", time_zone="Mars/Olympus")
    )

    assert_form_error(response, "Unknown time zone")
    with tenant_context(tenant.id):
        assert not Warehouse.objects.exists()


def test_a_bin_added_inline_with_an_existing_code_is_a_form_error(acme_client, tenant):
    warehouse = make_site(tenant, "DC1", bins=("A-01",))

    response = acme_client.post(
        f"/admin/warehouse/warehouse/{warehouse.pk}/change/",
        warehouse_data("DC1", bins=["a-01"]),
    )

    assert_form_error(response, "Location with this warehouse and code already exists")
    with tenant_context(tenant.id):
        assert list(Location.objects.values_list("code", flat=True)) == ["A-01"]


def test_two_bins_with_one_code_in_one_submission_are_a_form_error(acme_client, tenant):
    response = acme_client.post(
        "/admin/warehouse/warehouse/add/", warehouse_data("DC2", bins=["B-01", "b-01"])
    )

    assert_form_error(response, "already exists")
    with tenant_context(tenant.id):
        assert not Warehouse.objects.exists() and not Location.objects.exists()


def test_a_bin_of_another_tenant_cannot_be_edited_through_an_inline(
    acme_client, tenant, other_tenant
):
    warehouse = make_site(tenant, "DC1", bins=())
    globex = make_site(other_tenant, "GLOBEX-DC", bins=("GLOBEX-01",))
    with tenant_context(other_tenant.id):
        theirs = Location.objects.get(warehouse=globex)
    data = warehouse_data("DC1", bins=["STOLEN"])
    data.update({"locations-INITIAL_FORMS": "1", "locations-0-id": str(theirs.pk)})

    response = acme_client.post(f"/admin/warehouse/warehouse/{warehouse.pk}/change/", data)

    assert response.status_code == 200
    with tenant_context(other_tenant.id):
        assert Location.objects.get(pk=theirs.pk).code == "GLOBEX-01"
    with tenant_context(tenant.id):
        assert not Location.objects.exists()


def test_a_second_membership_is_a_form_error(acme_client, tenant, operator):
    response = acme_client.post(
        "/admin/warehouse/membership/add/", {"user": operator.pk, "role": Role.ADMIN}
    )

    assert_form_error(response, "Membership with this user already exists")
    assert memberships_of(operator, tenant) == [Role.OPERATOR]


@pytest.mark.parametrize(
    "scopes", ["5", '"read"', '["stock:read"]', '{"read": true}', '["\\ud800"]']
)
def test_token_scopes_other_than_a_list_of_read_and_write_are_a_form_error(
    acme_client, tenant, scopes
):
    response = acme_client.post("/admin/inventory/apitoken/add/", {"name": "POS", "scopes": scopes})

    assert_form_error(response, "JSON list")
    with tenant_context(tenant.id):
        assert not ApiToken.objects.exists()


# -- filters, searches and ticked rows a query cannot take ------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/admin/autocomplete/?app_label=warehouse&model_name=membership&field_name=user&term=%00",
        "/admin/inventory/product/?attributes__has_key=%00",
    ],
)
def test_a_nul_character_in_a_filter_or_search_is_a_bad_request(acme_client, path):
    assert acme_client.get(path).status_code == 400


def test_ticking_a_row_that_is_no_id_is_a_bad_request(acme_client, tenant, operator):
    response = acme_client.post(
        "/admin/warehouse/membership/",
        {"action": "delete_selected", "_selected_action": ["abc"], "post": "yes"},
    )

    assert response.status_code == 400
    assert memberships_of(operator, tenant) == [Role.OPERATOR]


def test_a_member_that_is_no_id_is_a_form_error(acme_client, tenant):
    response = acme_client.post(
        "/admin/warehouse/membership/add/", {"user": "abc", "role": Role.QC}
    )

    assert_form_error(response, "Select a valid choice")
    with tenant_context(tenant.id):
        assert Membership.objects.count() == 1  # the tenant admin's own

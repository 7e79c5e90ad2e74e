"""An htmx action after the session ended leaves the page for the full sign-in page."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from inventory.models import LedgerEntry, Lot, QcStatus
from inventory.stock.receipts import receive_stock
from tests.conftest import PASSWORD
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db

PAGE = "http://testserver/qc/?sort=oldest"


def htmx(**extra):
    return {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": PAGE, **extra}


@pytest.fixture
def waiting_lot(tenant, site, vaccine):
    receive_stock(tenant=tenant, product=vaccine, warehouse=site, lot_code="VX-1", quantity=10)
    with tenant_context(tenant.id):
        return Lot.objects.get(code="VX-1")


def signed_in(username):
    client = Client(enforce_csrf_checks=True)
    response = client.get("/login/")
    client.post(
        "/login/",
        {
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": response.context["csrf_token"],
        },
    )
    return client


def csrf_header(client):
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def assert_left_for_sign_in(response, next_url="/qc/%3Fsort%3Doldest"):
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/login/?next={next_url}"
    assert "Location" not in response
    assert b"Sign in to Stockyard" not in response.content


def test_htmx_search_after_sign_out_redirects_the_whole_page(manager):
    response = Client().get("/stock/", {"q": "vial"}, **htmx())
    assert_left_for_sign_in(response)


def test_htmx_decision_after_the_session_ended_writes_nothing(tenant, inspector, waiting_lot):
    client = signed_in("inspector")
    Session.objects.all().delete()

    response = client.post(
        f"/qc/{waiting_lot.pk}/decide/",
        {"decision": "approve", "note": ""},
        **htmx(**csrf_header(client)),
    )

    assert_left_for_sign_in(response)
    with tenant_context(tenant.id):
        assert Lot.objects.get(pk=waiting_lot.pk).qc_status == QcStatus.QUARANTINE


def test_htmx_post_without_the_csrf_cookie_leaves_for_sign_in(tenant, inspector, waiting_lot):
    client = signed_in("inspector")
    token = csrf_header(client)
    client.cookies.clear()

    response = client.post(
        f"/qc/{waiting_lot.pk}/decide/", {"decision": "approve"}, **htmx(**token)
    )

    assert_left_for_sign_in(response)
    with tenant_context(tenant.id):
        assert Lot.objects.get(pk=waiting_lot.pk).qc_status == QcStatus.QUARANTINE


def test_htmx_post_with_a_stale_token_while_signed_in_reloads_the_page(
    tenant, inspector, waiting_lot
):
    client = signed_in("inspector")

    response = client.post(
        f"/qc/{waiting_lot.pk}/decide/",
        {"decision": "approve"},
        **htmx(HTTP_X_CSRFTOKEN="x" * 32),
    )

    assert response.status_code == 403
    assert response["HX-Refresh"] == "true"
    with tenant_context(tenant.id):
        assert LedgerEntry.objects.count() == 1  # the receipt only
        assert Lot.objects.get(pk=waiting_lot.pk).qc_status == QcStatus.QUARANTINE


def test_plain_post_with_a_stale_token_gets_a_clear_403_page(inspector, waiting_lot):
    client = signed_in("inspector")
    response = client.post(
        f"/qc/{waiting_lot.pk}/decide/", {"decision": "approve", "csrfmiddlewaretoken": "x" * 32}
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert "Reload the page and try again" in page
    assert "<style" not in page


def test_plain_requests_still_get_the_ordinary_redirect(manager):
    response = Client().get("/stock/", {"q": "vial"})
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/stock/%3Fq%3Dvial"


def test_signing_in_returns_to_the_page_the_user_was_on(manager):
    client = Client()
    response = client.get("/stock/", **htmx())
    sign_in = response["HX-Redirect"]
    next_url = client.get(sign_in).context["next"]

    response = client.post(
        "/login/", {"username": "manager", "password": PASSWORD, "next": next_url}
    )

    assert response["Location"] == "/qc/?sort=oldest"


@pytest.mark.parametrize(
    "current",
    [
        "https://evil.example/qc/",
        "http://testserver//evil.example/qc/",
        "javascript:alert(1)",
        "/\\evil.example",
        "not a url at all \x7f",
        "",
    ],
)
def test_a_foreign_or_broken_current_url_is_not_used_as_next(manager, current):
    response = Client().get("/stock/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=current)
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/"


def test_htmx_requests_of_signed_in_users_are_left_alone(manager, tenant):
    client = Client()
    client.login(username="manager", password=PASSWORD)
    response = client.post("/tenant/switch/", {"tenant": tenant.id}, **htmx())
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "HX-Redirect" not in response

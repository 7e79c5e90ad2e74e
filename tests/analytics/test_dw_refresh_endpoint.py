"""``POST /admin/refresh-mv``: the admin token, and nothing else, refreshes the view."""

import threading

import pytest
from django.db import connections, transaction
from django.test import Client

from analytics import views
from analytics.dw import freshness
from tests.analytics.conftest import DW_DATABASES

URL = "/admin/refresh-mv"
TOKEN = "s3cret-refresh-token-0123456789"


@pytest.fixture
def admin_token(settings):
    settings.ADMIN_TOKEN = TOKEN
    return TOKEN


def post(token=None):
    headers = {} if token is None else {"HTTP_X_ADMIN_TOKEN": token}
    return Client(enforce_csrf_checks=True).post(URL, **headers)


def refused(response):
    return response.status_code == 403 and response.json()["error"]["code"] == "FORBIDDEN"


@pytest.mark.django_db
def test_a_request_without_the_header_is_refused(admin_token):
    assert refused(post())
    assert freshness() is None


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["wrong", TOKEN[:-1], TOKEN + "x", "", " " + TOKEN, "x" * 10_000])
def test_a_wrong_token_is_refused(admin_token, token):
    assert refused(post(token))
    assert freshness() is None


@pytest.mark.django_db
@pytest.mark.parametrize("unset", [None, ""])
def test_without_an_admin_token_setting_every_request_is_refused(settings, unset):
    settings.ADMIN_TOKEN = unset
    assert refused(post(""))
    assert refused(post("None"))
    assert refused(post())


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_other_methods_are_not_allowed(admin_token, method):
    response = getattr(Client(), method)(URL, HTTP_X_ADMIN_TOKEN=TOKEN)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_the_right_token_refreshes_the_view(clean_dw, admin_token):
    response = post(TOKEN)
    assert response.status_code == 200
    body = response.json()
    assert body["view"] == "dw.current_stock_mv"
    assert body["duration_ms"] >= 0
    logged = freshness()
    assert logged is not None
    assert body["refreshed_at"] == logged.refreshed_at.isoformat()


def test_the_path_is_not_the_django_admins():
    from django.urls import resolve

    assert resolve(URL).url_name == "dw-refresh"


@pytest.mark.django_db(transaction=True, databases=DW_DATABASES)
def test_a_refresh_behind_a_running_one_gives_up_with_409(clean_dw, admin_token, monkeypatch):
    monkeypatch.setattr(views, "REFRESH_LOCK_TIMEOUT", "200ms")
    refreshing = threading.Event()
    finish = threading.Event()

    def refresh_and_hold():
        try:
            with (
                transaction.atomic(using="maintenance"),
                connections["maintenance"].cursor() as cursor,
            ):
                cursor.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY dw.current_stock_mv")
                refreshing.set()
                finish.wait(30)
        finally:
            refreshing.set()
            connections.close_all()

    holder = threading.Thread(target=refresh_and_hold)
    holder.start()
    try:
        assert refreshing.wait(30)
        response = post(TOKEN)
    finally:
        finish.set()
        holder.join(30)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "REFRESH_IN_PROGRESS"
    assert freshness() is None
    # Once the other refresh is over, the next request goes through.
    assert post(TOKEN).status_code == 200

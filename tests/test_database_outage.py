"""With PostgreSQL out of reach: 503 with ``Retry-After``, JSON for the API, a page for screens.

The ``default`` connection is pointed at a socket folder where no server
listens, so every query fails to connect exactly as in an outage; the test
puts the real address back afterwards and checks that the next request works
without any restart.
"""

import contextlib

import pytest
from django.db import connections
from django.test import Client

from inventory.core.tokens import issue_api_token

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def database_down(tmp_path):
    connection = connections["default"]
    settings = connection.settings_dict
    original = settings["HOST"]
    connection.close()
    settings["HOST"] = str(tmp_path)
    try:
        yield
    finally:
        settings["HOST"] = original
        connection.close()


@pytest.fixture
def secret(tenant):
    return issue_api_token(tenant=tenant, name="outage")[1]


def api_get(path, secret):
    return Client().get(f"/api/v1{path}", HTTP_AUTHORIZATION=f"Bearer {secret}")


def assert_api_unavailable(response):
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "DATABASE_UNAVAILABLE"
    assert int(response["Retry-After"]) > 0


def test_api_read_answers_503_json_when_the_token_lookup_cannot_connect(tmp_path, secret):
    with database_down(tmp_path):
        response = api_get("/products", secret)
    assert_api_unavailable(response)


def test_api_write_answers_503_json(tmp_path, secret):
    with database_down(tmp_path):
        response = Client().post(
            "/api/v1/warehouses",
            {"code": "DC9", "name": "Nine"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
            HTTP_IDEMPOTENCY_KEY="outage-1",
        )
    assert_api_unavailable(response)


def test_api_call_without_a_token_still_answers_401_during_an_outage(tmp_path):
    with database_down(tmp_path):
        response = Client().get("/api/v1/products")
    assert response.status_code == 401


def test_screen_answers_a_friendly_503_page(tmp_path, operator):
    # The failure happens in a middleware (the session and tenant lookup), which the
    # test client would re-raise; a real server answers what the middleware gives.
    client = Client(raise_request_exception=False)
    client.force_login(operator)
    with database_down(tmp_path):
        response = client.get("/")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Retry-After"]) > 0
    assert "back in a moment" in response.content.decode()


def test_sign_in_page_post_answers_503_page(tmp_path, operator):
    with database_down(tmp_path):
        response = Client(raise_request_exception=False).post(
            "/login/", {"username": "operator", "password": "x" * 12}
        )
    assert response.status_code == 503
    assert "back in a moment" in response.content.decode()


def test_everything_works_again_once_the_database_is_back(tmp_path, secret, operator):
    with database_down(tmp_path):
        assert api_get("/products", secret).status_code == 503
    assert api_get("/products", secret).status_code == 200
    client = Client()
    client.force_login(operator)
    assert client.get("/").status_code == 200

"""Every answer under ``/api/`` is JSON with the error envelope, whatever layer gives it."""

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def assert_envelope(response, status, code):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]


def test_a_five_megabyte_body_is_payload_too_large(acme_api, tenant):
    body = json.dumps({"sku": "BIG", "name": "x" * (5 * 1024 * 1024)})
    response = acme_api.post("/products", raw=body)
    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


def test_a_large_form_body_is_payload_too_large_not_a_csrf_page():
    response = Client().post(
        "/api/v1/products",
        "a=" + "x" * (5 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/nothing", "/api/v1/nothing/here", "/api/v2/products"])
def test_unknown_api_paths_are_json_404_for_every_method(method, path):
    client = Client(enforce_csrf_checks=True)
    response = client.generic(method.upper(), path, "{}", content_type="application/json")
    assert_envelope(response, 404, "NOT_FOUND")


def test_a_post_with_a_session_cookie_and_no_csrf_token_is_not_a_csrf_page(acme_api, operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    response = client.post("/api/v1/nowhere", "{}", content_type="application/json")
    assert_envelope(response, 404, "NOT_FOUND")


def test_a_method_the_endpoint_lacks_is_a_json_405(acme_api):
    response = acme_api.client.delete(
        "/api/v1/products", HTTP_AUTHORIZATION=f"Bearer {acme_api.secret}"
    )
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response["Allow"]


def test_a_malformed_content_length_is_a_json_400():
    response = Client().generic(
        "POST", "/api/v1/products", b"{}", content_type="application/json", CONTENT_LENGTH="12x"
    )
    assert_envelope(response, 400, "BAD_REQUEST")


def test_the_docs_and_the_schema_still_answer():
    client = Client()
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "Stockyard API"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert docs["Content-Type"].startswith("text/html")


def test_screens_keep_their_html_error_pages(operator):
    client = Client()
    client.force_login(operator)
    response = client.get("/no-such-screen/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")

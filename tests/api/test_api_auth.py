"""Bearer authentication, scopes, the error envelope, docs and the commands."""

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from inventory.models import ApiToken
from tests.api.conftest import ApiClient, new_client
from tests.conftest import PASSWORD
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_request_without_token_is_unauthenticated(tenant):
    response = ApiClient(None).get("/products")
    assert_error(response, 401, "UNAUTHENTICATED")
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer sy_not-a-real-token", "Basic abc", "Bearer ", "sy_x"])
def test_unknown_or_malformed_token_is_unauthenticated(tenant, header):
    response = Client().get("/api/v1/products", HTTP_AUTHORIZATION=header)
    assert_error(response, 401, "UNAUTHENTICATED")


def test_revoked_token_is_unauthenticated(tenant, acme_api):
    assert acme_api.get("/products").status_code == 200
    with tenant_context(tenant.pk):
        ApiToken.objects.update(revoked_at=timezone.now())
    assert_error(acme_api.get("/products"), 401, "UNAUTHENTICATED")


def test_token_of_inactive_tenant_is_unauthenticated(tenant, acme_api):
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
    assert_error(acme_api.get("/products"), 401, "UNAUTHENTICATED")


def test_signed_in_session_is_not_an_api_credential(tenant, operator):
    client = Client()
    assert client.login(username="operator", password=PASSWORD)
    assert_error(client.get("/api/v1/products"), 401, "UNAUTHENTICATED")


def test_session_does_not_change_the_tokens_tenant(tenant, other_tenant, other_tenant_user):
    """A Globex user's session cookie alongside an Acme token: the token decides."""
    acme = new_client(tenant)
    assert acme.client.login(username="other", password=PASSWORD)
    assert acme.post("/products", {"sku": "ACME-1", "name": "Acme thing"}).status_code == 201
    assert acme.get("/products/ACME-1").status_code == 200


def test_read_scoped_token_may_read_but_not_write(tenant):
    reader = new_client(tenant, scopes=["read"])
    assert reader.get("/products").status_code == 200
    assert_error(reader.post("/products", {"sku": "X", "name": "X"}), 403, "FORBIDDEN")


def test_write_scoped_token_may_not_read(tenant):
    writer = new_client(tenant, scopes=["write"])
    assert writer.post("/products", {"sku": "X", "name": "X"}).status_code == 201
    assert_error(writer.get("/products"), 403, "FORBIDDEN")


def test_token_use_is_recorded(tenant, acme_api):
    acme_api.get("/products")
    with tenant_context(tenant.pk):
        assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v2/products", "/api/"])
def test_unknown_api_route_answers_json_404(acme_api, path):
    response = acme_api.client.get(path, **acme_api._headers())
    assert_error(response, 404, "NOT_FOUND")


def test_docs_are_served_without_a_cdn(tenant):
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert "https://" not in html and "http://" not in html
    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/receipts" in schema["paths"]
    assert schema["info"]["version"] == "1"


def test_create_tenant_and_api_token_commands():
    output = io.StringIO()
    call_command("create_tenant", "initech", "--name", "Initech", stdout=output)
    assert Tenant.objects.get(slug="initech").name == "Initech"
    output = io.StringIO()
    call_command("create_api_token", "initech", "webshop", stdout=output)
    secret = output.getvalue().strip().splitlines()[-1]
    assert secret.startswith("sy_")
    client = ApiClient(secret)
    assert client.post("/products", {"sku": "INI-1", "name": "Stapler"}).status_code == 201
    tenant = Tenant.objects.get(slug="initech")
    with tenant_context(tenant.pk):
        token = ApiToken.objects.get()
    assert token.name == "webshop"
    assert secret not in (token.secret_hash, token.prefix)


def test_create_api_token_refuses_unknown_tenant():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody", "webshop", stdout=io.StringIO())


def test_wrong_method_answers_json_405(acme_api):
    response = acme_api.client.delete("/api/v1/products", **acme_api._headers())
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response["Allow"]


def test_create_tenant_refuses_a_taken_or_malformed_slug(tenant):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_tenant", "acme", "--name", "Again", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("create_tenant", "no spaces", "--name", "Bad", stdout=io.StringIO())
    assert Tenant.objects.count() == 1

"""The page shell loads only vendored assets, and the error pages render."""

import re

import pytest
from django.test import Client, RequestFactory

from config.views import server_error
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ASSET = re.compile(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"')


def test_every_asset_of_the_shell_is_served_locally(operator):
    client = Client()
    client.login(username="operator", password=PASSWORD)
    page = client.get("/").content.decode()
    assets = ASSET.findall(page)
    assert any("htmx" in asset for asset in assets)
    assert any("bootstrap.min.css" in asset for asset in assets)
    for asset in assets:
        assert asset.startswith("/static/"), f"{asset} is not served by the app"
        response = client.get(asset)
        assert response.status_code == 200, asset
        response.close()


def test_body_carries_the_csrf_token_for_htmx(operator):
    client = Client()
    client.login(username="operator", password=PASSWORD)
    page = client.get("/").content.decode()
    assert re.search(r"hx-headers='\{\"X-CSRFToken\": \"[A-Za-z0-9]{32,}\"\}'", page)


def test_flash_messages_are_shown_once(manager, tenant):
    client = Client()
    client.login(username="manager", password=PASSWORD)
    page = client.post("/tenant/switch/", {"tenant": tenant.id}, follow=True).content.decode()
    assert "Switched to Acme Logistics" in page
    assert "Switched to" not in client.get("/").content.decode()


def test_server_error_page_renders_without_the_database():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()

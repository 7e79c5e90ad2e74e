"""Every page sends a Content-Security-Policy that allows only the app's own assets."""

import re

import pytest
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.test import Client, RequestFactory

from config.views import server_error
from tests.clients import signed_in
from tests.conftest import make_member
from warehouse.models import Role

pytestmark = pytest.mark.django_db

REQUIRED = {
    "default-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
SIGNED_IN_PAGES = ["/", "/receive/", "/qc/", "/stock/", "/warehouses/", "/team/", "/no-such-page/"]
ADMIN_PAGES = ["/admin/", "/admin/auth/user/", "/admin/warehouse/tenant/"]


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    parts = (part.strip().split(" ", 1) for part in header.split(";"))
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def assert_strict_policy(response):
    policy = directives(response)
    for directive, value in REQUIRED.items():
        assert policy.get(directive) == value, (directive, policy)
    script = policy["script-src"].split()
    assert script[0] == "'self'"
    assert all(source.startswith("'nonce-") for source in script[1:]), script
    assert "unsafe" not in response["Content-Security-Policy"]


@pytest.fixture
def superuser(tenant):
    return make_member(tenant, "root", Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_signed_in_pages_send_the_policy(manager, path):
    response = signed_in("manager").get(path)
    assert response.status_code in (200, 404)
    assert_strict_policy(response)


@pytest.mark.parametrize("path", ["/login/", "/admin/login/", "/api/v1/docs"])
def test_public_pages_send_the_policy(path):
    response = Client().get(path)
    assert response.status_code == 200
    assert_strict_policy(response)


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_send_the_policy(superuser, path):
    response = signed_in("root").get(path)
    assert response.status_code == 200
    assert_strict_policy(response)


def test_admin_change_form_sends_the_policy(superuser):
    response = signed_in("root").get(f"/admin/auth/user/{superuser.pk}/change/")
    assert response.status_code == 200
    assert_strict_policy(response)


def test_error_pages_send_the_policy(operator):
    assert_strict_policy(signed_in("operator").get("/team/"))  # 403
    request = RequestFactory().get("/")
    response = ContentSecurityPolicyMiddleware(server_error)(request)
    assert response.status_code == 500
    assert_strict_policy(response)


def test_htmx_fragments_send_the_policy(manager):
    response = signed_in("manager").get(
        "/stock/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="stock-table"
    )
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert_strict_policy(response)


def test_the_lockout_page_sends_the_policy(operator):
    client = Client()
    for _ in range(5):
        response = client.post("/login/", {"username": "operator", "password": "wrong"})
    assert response.status_code == 429
    assert_strict_policy(response)


def test_the_htmx_script_carries_the_nonce_of_the_header(operator):
    response = signed_in("operator").get("/")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    page = response.content.decode()
    assert re.search(rf'<script src="[^"]*htmx[^"]*"[^>]* nonce="{re.escape(nonce)}"', page)


def test_each_response_gets_a_fresh_nonce(operator):
    client = signed_in("operator")
    first, second = (
        directives(client.get("/"))["script-src"],
        directives(client.get("/"))["script-src"],
    )
    assert first != second


def test_htmx_is_configured_not_to_need_eval_or_inline_styles(operator):
    page = signed_in("operator").get("/").content.decode()
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', page).group(1)
    assert '"allowEval": false' in config
    assert '"allowScriptTags": false' in config
    assert '"includeIndicatorStyles": false' in config


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
INLINE_STYLE = re.compile(r"<style\b|\sstyle=")
INLINE_HANDLER = re.compile(r"\son[a-z]+=|\shx-on[:-]")


def inline_code(page: str) -> list[str]:
    return [
        match.group(0)
        for pattern in (INLINE_SCRIPT, INLINE_STYLE, INLINE_HANDLER)
        for match in pattern.finditer(page)
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/receive/",
        "/qc/",
        "/stock/",
        "/warehouses/",
        "/team/",
        "/no-such-page/",
    ],
)
def test_pages_carry_no_inline_code_the_policy_would_block(manager, path):
    page = signed_in("manager").get(path).content.decode()
    assert inline_code(page) == []


def test_the_sign_in_and_lockout_pages_carry_no_inline_code(operator):
    client = Client()
    assert inline_code(client.get("/login/").content.decode()) == []
    for _ in range(5):
        response = client.post("/login/", {"username": "operator", "password": "wrong"})
    assert inline_code(response.content.decode()) == []


def test_the_shell_leaks_no_template_comment(operator):
    page = signed_in("operator").get("/").content.decode()
    assert "{#" not in page and "#}" not in page and "Security Policy" not in page

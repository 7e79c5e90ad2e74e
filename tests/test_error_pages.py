"""With DEBUG off, as ``make run`` and production serve, errors get Stockyard's own pages.

The test URLconf is the site's own plus one view that fails, with the site's
error handlers; ``raise_request_exception=False`` lets the client see what a
browser would get instead of the exception.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import path

from config import urls as site_urls
from tests.clients import signed_in
from warehouse.access import member_required

BASE_DIR = Path(__file__).resolve().parent.parent
PRINT_DEBUG = (
    "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
)
NEVER_CONNECTED = "postgres://stockyard:secret@db.invalid:5432/stockyard"


def signed_in_showing_errors(username):
    return signed_in(username, raise_request_exception=False)


@member_required
def failing_view(request):
    raise RuntimeError("secret internals: /srv/stockyard/config.py line 42")


urlpatterns = [path("fails/", failing_view), *site_urls.urlpatterns]
handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls(__name__),
]


@override_settings(DEBUG=False)
def test_a_missing_page_is_the_branded_404(operator):
    response = signed_in_showing_errors("operator").get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page
    assert "There is nothing here in Acme Logistics." in page
    assert 'href="/"' in page and "Stockyard" in page
    assert "Traceback" not in page and "URLconf" not in page


@override_settings(DEBUG=False)
def test_another_tenants_lot_is_the_branded_404(operator, tenant, other_tenant_user):
    response = signed_in_showing_errors("other").post("/qc/1/decide/", {"decision": "approve"})
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@override_settings(DEBUG=False)
def test_a_failing_view_is_the_branded_500_without_a_traceback(operator, caplog):
    response = signed_in_showing_errors("operator").get("/fails/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "Back to home" in page
    assert "secret internals" not in page and "Traceback" not in page
    assert "RuntimeError" not in page
    # What went wrong is in the server's log, for whoever fixes it.
    assert any("secret internals" in str(record.exc_info) for record in caplog.records)


@override_settings(DEBUG=False)
def test_the_500_page_uses_only_local_assets(operator):
    page = signed_in_showing_errors("operator").get("/fails/").content.decode()
    assets = re.findall(r'(?:href|src)="([^"]+)"', page)
    assert assets and all(asset.startswith("/") for asset in assets)


def test_the_run_command_serves_with_debug_off():
    """``make run``'s settings module (named in the Makefile) has DEBUG off."""
    makefile = (BASE_DIR / "Makefile").read_text()
    run_settings = re.search(r"^RUN_SETTINGS := (\S+)$", makefile, re.M)[1]
    result = subprocess.run(
        [sys.executable, "-c", PRINT_DEBUG],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": run_settings, "DATABASE_URL": NEVER_CONNECTED},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"

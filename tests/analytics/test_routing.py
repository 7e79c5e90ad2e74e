"""Reports read from the ``analytics`` alias when it is configured, in the tenant context there.

The test alias points at the test database itself (a stand-in for a
replica), so the data must be committed for it to see: these tests are
transactional.
"""

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext, override_settings

from analytics.models import ReorderRule
from analytics.reports import abc, report_connection, stock_history
from analytics.routers import AnalyticsRouter
from inventory.models import Product
from tests.analytics.test_reports_selectors import TODAY, build_reports_data

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def analytics_alias(transactional_db):
    """An ``analytics`` alias with the settings of ``default`` (the app role, the test database)."""
    connections.settings["analytics"] = copy.deepcopy(connections.settings["default"])
    connection = connections["analytics"]
    # The test case refuses to open aliases it was not told of when it began
    # (ensure_connection); this one is added afterwards on purpose, so it is
    # opened directly.
    connection.connect()
    try:
        yield connection
    finally:
        connections["analytics"].close()
        del connections["analytics"]
        del connections.settings["analytics"]


@pytest.fixture
def data(tenant, site):
    return build_reports_data(tenant, site)


def test_reports_read_from_default_without_the_alias(tenant, data):
    assert report_connection() == "default"
    with CaptureQueriesContext(connections["default"]) as on_default:
        rows = abc(tenant=tenant, days=90, today=TODAY)
    assert rows[0].sku == "ALPHA"
    assert any("inventory_ledgerentry" in query["sql"] for query in on_default.captured_queries)


def test_reports_read_only_from_the_analytics_alias(tenant, other_tenant, data, analytics_alias):
    assert report_connection() == "analytics"
    with (
        CaptureQueriesContext(connections["default"]) as on_default,
        CaptureQueriesContext(analytics_alias) as on_analytics,
    ):
        rows = abc(tenant=tenant, days=90, today=TODAY)
        history = stock_history(tenant=tenant, sku="ALPHA", today=TODAY)
        others = abc(tenant=other_tenant, days=90, today=TODAY)
    assert on_default.captured_queries == []
    sent = [query["sql"] for query in on_analytics.captured_queries]
    # The tenant context is set on the analytics connection itself, then the report runs there.
    assert any("set_config('app.tenant_id'" in sql for sql in sent)
    assert any("inventory_ledgerentry" in sql for sql in sent)
    assert [(row.sku, row.abc_class) for row in rows[:3]] == [
        ("ALPHA", "A"),
        ("BRAVO", "B"),
        ("CHARLIE", "C"),
    ]
    assert len(history) == 90
    # The policies hold there too: Globex sees nothing of Acme.
    assert others == []


def test_without_a_tenant_context_the_alias_shows_nothing(tenant, data, analytics_alias):
    with analytics_alias.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inventory_ledgerentry")
        assert cursor.fetchone() == (0,)


def test_the_router_sends_analytics_reads_to_the_alias_only_when_configured(analytics_alias):
    router = AnalyticsRouter()
    assert router.db_for_read(ReorderRule) == "analytics"
    assert router.db_for_read(Product) is None
    assert router.db_for_write(ReorderRule) is None
    assert router.allow_migrate("analytics", "analytics") is False
    assert router.allow_migrate("default", "analytics") is None
    with override_settings(DATABASE_ROUTERS=["analytics.routers.AnalyticsRouter"]):
        assert ReorderRule.objects.all().db == "analytics"
        assert Product.objects.all().db == "default"


def test_the_router_leaves_everything_on_default_without_the_alias():
    assert AnalyticsRouter().db_for_read(ReorderRule) is None


def _settings_with(url: str) -> subprocess.CompletedProcess:
    program = (
        "from django.conf import settings; a = settings.DATABASES['analytics']; "
        "print(a['USER'], a['HOST'], a['PORT'], a['NAME'], a['OPTIONS']['options'], "
        "settings.DATABASE_ROUTERS)"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "ANALYTICS_DATABASE_URL": url,
    }
    return subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.django_db(transaction=False)
def test_the_setting_adds_an_app_role_alias_on_the_replica():
    result = _settings_with("postgres://replica.example:5433/stock")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "stockyard_app",
        "replica.example",
        "5433",
        "stock",
        "-c",
        "statement_timeout=15s",
        "['analytics.routers.AnalyticsRouter']",
    ]
    refused = _settings_with("postgres://postgres@replica.example/stock")
    assert refused.returncode != 0
    assert "must name the app role" in refused.stderr

"""Read routing for the analytics: reports may read from a replica (``ANALYTICS_DATABASE_URL``).

When the ``analytics`` alias is configured, reads of the analytics models go
to it; everything else, and every write, stays on ``default``. The report
selectors run raw SQL and choose their connection themselves
(``analytics.reports.connection.report_connection``); this router is the
same decision for the ORM. The replica is never migrated: it follows the
primary.
"""

from __future__ import annotations

from django.db import connections

ANALYTICS_ALIAS = "analytics"


def analytics_configured() -> bool:
    return ANALYTICS_ALIAS in connections.settings


class AnalyticsRouter:
    def db_for_read(self, model, **hints):
        if model._meta.app_label == "analytics" and analytics_configured():
            return ANALYTICS_ALIAS
        return None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db == ANALYTICS_ALIAS:
            return False
        return None

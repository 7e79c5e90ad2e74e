"""Create Stockyard's database and its three roles with the administrative login.

Idempotent: running it again changes nothing. The roles are cluster-wide; the
grants inside a database are made by the first migration (so the test
database, created later by Django, gets them too).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from config.database import ROLE_NAMES, SEARCH_ROLE, connectable

# Provisioning runs once per process that starts (each test worker, each
# command): a session advisory lock in the ``postgres`` database makes two of
# them take turns, since two ``ALTER ROLE`` of one role at once fail with
# "tuple concurrently updated" and two ``CREATE ROLE`` with "already exists".
PROVISION_LOCK = 0x5715_0001

ROLE_ATTRIBUTES = {
    "owner": "LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOBYPASSRLS",
    "app": "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS",
    "maintenance": "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE BYPASSRLS",
}


def _connect(admin: dict, database: str) -> psycopg.Connection:
    params = {
        "dbname": database,
        "user": admin.get("USER") or None,
        "password": admin.get("PASSWORD") or None,
        "host": admin.get("HOST") or None,
        "port": admin.get("PORT") or None,
    }
    return psycopg.connect(
        **{key: value for key, value in params.items() if value}, autocommit=True
    )


def provision(admin: dict, role_password: str = "") -> list[str]:
    """Create the roles and the database if missing; return what was done."""
    done: list[str] = []
    database = admin["NAME"]
    with _connect(admin, "postgres") as conn:
        # Released when the connection closes, however this ends.
        conn.execute("SELECT pg_advisory_lock(%s)", [PROVISION_LOCK])
        for key, role in ROLE_NAMES.items():
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL("{} ROLE {} " + ROLE_ATTRIBUTES[key]).format(
                    sql.SQL(verb), sql.Identifier(role)
                )
            )
            if role_password:
                conn.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        sql.Identifier(role), sql.Literal(role_password)
                    )
                )
            if not exists:
                done.append(f"created role {role}")
        done.extend(_provision_search_role(conn))
        # The owner may create the test database; the other roles may log in.
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                    sql.Identifier(database), sql.Identifier(ROLE_NAMES["owner"])
                )
            )
            done.append(f"created database {database}")
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(database), sql.Identifier(ROLE_NAMES["owner"])
            )
        )
    return done


def provision_from_settings() -> list[str]:
    """``provision`` the database the settings name, on their server.

    On the embedded server this is a first connection: it starts the server
    and takes the generated passwords (``config.database.connectable``).
    """
    from django.conf import settings

    admin = connectable(settings.ADMIN_DATABASE)
    return provision(admin, connectable(settings.DATABASES["default"])["PASSWORD"])


def _provision_search_role(conn: psycopg.Connection) -> list[str]:
    """The NOLOGIN role that owns the search functions, and the owner's way to hand them over.

    It bypasses row-level security so that full-text and JSONB conditions can
    be index conditions inside the functions, which filter by the tenant
    themselves. Nobody logs in as it; the owner may ``SET ROLE`` to it (to
    give it the functions in a migration) but does not inherit its rights.
    """
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [SEARCH_ROLE]).fetchone()
    conn.execute(
        sql.SQL(
            "{} ROLE {} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT BYPASSRLS"
        ).format(sql.SQL("ALTER" if exists else "CREATE"), sql.Identifier(SEARCH_ROLE))
    )
    conn.execute(
        sql.SQL("GRANT {} TO {} WITH INHERIT FALSE, SET TRUE").format(
            sql.Identifier(SEARCH_ROLE), sql.Identifier(ROLE_NAMES["owner"])
        )
    )
    return [] if exists else [f"created role {SEARCH_ROLE}"]

"""Django's PostgreSQL backend, starting the embedded server when a connection needs it.

The settings of the embedded server leave its socket folder and the generated
passwords blank (``config.database.admin_database``): they only exist once
the server has been initialised, and reading the settings must not do that.
Every way Django opens a connection asks ``get_connection_params`` first (a
plain connection, a connection pool, the test database's creation,
procrastinate's worker connector), so the start happens there, once per
process, and ``dbshell`` gets the same values. The server's version, which
some system checks ask for, comes from the wheel without a connection, so
``manage.py check`` starts nothing either.
"""

from django.db.backends.postgresql import base, client
from django.utils.functional import cached_property

from config import pgserver
from config.database import connectable


class DatabaseClient(client.DatabaseClient):
    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict, parameters):
        return super().settings_to_cmd_args_env(connectable(settings_dict), parameters)


class DatabaseWrapper(base.DatabaseWrapper):
    client_class = DatabaseClient

    def get_connection_params(self):
        params = super().get_connection_params()
        ready = connectable(self.settings_dict)
        # A HOST or PASSWORD given in the settings wins (a test may point HOST
        # at a folder without a server); only blanks are filled in.
        params.setdefault("host", ready["HOST"])
        params.setdefault("password", ready["PASSWORD"])
        return params

    @cached_property
    def pg_version(self):
        # Asked by system checks (generated columns) that otherwise need no
        # database: the wheel's headers answer without starting the server.
        return pgserver.server_version_number() or super().pg_version

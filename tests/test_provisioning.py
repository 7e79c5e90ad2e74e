"""Provisioning the roles and the database: idempotent, and safe to run from two processes at once.

Every test worker and every management command provisions when it starts;
two of them at the same moment must not fail on each other's ``ALTER ROLE``.
"""

import threading

from django.conf import settings

from config.database import ROLE_NAMES, connectable
from warehouse.provisioning import _connect, provision


def _admin() -> dict:
    return connectable(settings.ADMIN_DATABASE)


def _password() -> str:
    return connectable(settings.DATABASES["default"])["PASSWORD"]


def test_provisioning_again_creates_nothing():
    assert provision(_admin(), _password()) == []


def test_many_provisionings_at_once_all_succeed():
    admin, password = _admin(), _password()
    start = threading.Barrier(6)
    failures = []

    def run():
        start.wait()
        try:
            for _ in range(5):
                provision(admin, password)
        except Exception as error:  # any failure is the finding
            failures.append(repr(error))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with _connect(admin, "postgres") as conn:
        roles = conn.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname = ANY(%s)", [list(ROLE_NAMES.values())]
        ).fetchone()[0]
    assert roles == len(ROLE_NAMES)
